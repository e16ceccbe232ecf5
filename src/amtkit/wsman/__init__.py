"""The sans-IO WS-Management core: bytes and XML in, typed objects out.

Nothing in this package opens a socket, reads a clock or starts a thread. The client
(:mod:`amtkit.transport`, :mod:`amtkit.client`) and the simulator (``amtsim``) both build and
parse messages with it, so one resource URI can never have two spellings.
"""
