"""Format scanners, one module per format.

Importing this package imports none of them: the scan engine imports a scanner's module only when
its sniff in :data:`mlwarden.scan.sniff.SNIFFS` matches a file (``mlwarden scan`` of one pickle
should not pay for the protobuf walkers). :func:`mlwarden.scan.engine.load_scanners` imports them
all (before forking workers, for the rule catalogue, in tests). Each module imports only the
standard library and mlwarden at import time; heavy libraries are imported where they are needed.
A new format module gets an entry in ``SNIFFS``; a test checks the two agree.
"""
