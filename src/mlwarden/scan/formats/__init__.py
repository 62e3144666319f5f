"""Format scanners: importing this package registers every one of them.

One module per format; each module imports only the standard library at import time (heavy
libraries are imported inside the functions that need them), so ``mlwarden scan`` starts fast.
Add one import line per module.
"""

from mlwarden.scan.formats import archive as archive
from mlwarden.scan.formats import chat_template as chat_template
from mlwarden.scan.formats import gguf as gguf
from mlwarden.scan.formats import hdf5 as hdf5
from mlwarden.scan.formats import joblib_file as joblib_file
from mlwarden.scan.formats import keras as keras
from mlwarden.scan.formats import numpy_file as numpy_file
from mlwarden.scan.formats import onnx as onnx
from mlwarden.scan.formats import safetensors as safetensors
from mlwarden.scan.formats import savedmodel as savedmodel
from mlwarden.scan.formats import torch_legacy as torch_legacy
from mlwarden.scan.formats import torch_zip as torch_zip
