"""Format scanners: importing this package registers every one of them.

One module per format; each module imports only the standard library at import time (heavy
libraries are imported inside the functions that need them), so ``mlwarden scan`` starts fast.
Add one import line per module.
"""

from mlwarden.scan.formats import archive as archive
