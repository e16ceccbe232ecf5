"""The ``amtkit`` program's entry point (the console script): :func:`main`.

Apart from :mod:`amtkit.cli.main` so that it runs before the command line's imports (click,
amtkit's modules): importing them builds tens of thousands of long-lived objects, and the cyclic
garbage collector, left on, walks them again and again while they are built (about 3 ms of the
80 ms ``amtkit power status HOST`` took, issue #8). Those objects live until the exit, so
collecting them is pure cost; anything the command itself makes is still collected.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Run ``amtkit`` as a program: import the command line with the collector paused, freeze what
    the imports built (``gc.freeze``: later collections skip it), collect again from there on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from .main import main as run
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
    run()
