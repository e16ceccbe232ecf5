"""AMT's legacy SOAP generation ("EOI", AMT 1.0-8.x): vocabulary, bundled WSDLs, envelopes, client.

:mod:`.names` is the vocabulary shared with the simulator; :mod:`.envelope` reads and writes AMT's
SOAP 1.1 style without I/O; :mod:`.services` calls the services through zeep (the ``legacy`` extra:
``pip install 'amtkit[legacy]'``) with the WSDLs bundled in ``wsdl/`` - never fetched from a network.
"""
