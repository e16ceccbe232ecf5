"""AMT's legacy SOAP services (EOI) in the simulator: one module per service, over the same backends
as WS-Man, so a change made through one protocol is what the other reads.

A device whose ``amt_version`` is 8.x or older serves them (:func:`amtkit.eoi.names.serves_eoi`);
from 3.2 on it serves WS-Man as well. :mod:`.dispatch` turns a request into reply bytes.
"""
