"""The ``mlwarden`` command line. Each module is thin: parse, call the library, render."""
