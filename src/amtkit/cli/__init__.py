"""The ``amtkit`` command: a thin layer over :class:`amtkit.Client`."""
