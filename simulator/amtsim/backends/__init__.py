"""Device state and AMT's rules, with no XML and no HTTP (like moto's backends).

Handlers in :mod:`amtsim.handlers` translate between the wire and these objects; tests and
the control API read and change them directly.
"""
