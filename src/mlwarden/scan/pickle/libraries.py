"""Whose class a pickled name is: the user's own code, the standard library, or an installed library.

The pickle VM downgrades an unvetted class that is only rebuilt without a call (``NEWOBJ`` + a plain
``BUILD``) to medium, because whole pickled models (``torch.save(model)``) name the user's own
classes that way. That downgrade is for *user* classes only: a class of the standard library or of
a third-party library that ML users install is a known, shared piece of code an attacker can pick
for what its ``__setstate__``, ``__del__``, ``__getattr__`` or slot setters do with the state
(see :mod:`mlwarden.scan.pickle.gadgets` for the ones a sweep of the installed libraries found), so
an unvetted one stays high.

A module is a *user* module when its top-level package is neither in ``sys.stdlib_module_names``
nor in :data:`KNOWN_LIBRARIES`. The catalogue below is the one place that list lives; it also takes
in every third-party top-level package the allowlist and denylist of :mod:`names` mention.

Nothing here imports the modules it judges: the decision is made on the dotted name alone.
"""

from __future__ import annotations

import sys
from functools import lru_cache

from mlwarden.scan.pickle import names

_CATALOGUE = names.words(
    # array, dataframe and scientific stacks
    "numpy scipy pandas polars pyarrow numexpr numba cupy sympy networkx statsmodels xarray "
    "dask distributed modin vaex h5py tables zarr netCDF4 ml_dtypes einops patsy narwhals "
    "pandera sortedcontainers mpmath "
    # classical ML and boosting
    "sklearn imblearn category_encoders xgboost lightgbm catboost joblib threadpoolctl skops "
    "shap lime optuna hyperopt cleanlab pycaret mlxtend umap hdbscan pynndescent faiss annoy "
    "gensim nltk spacy thinc blis srsly cymem preshed sentencepiece "
    # deep learning frameworks and their ecosystems
    "torch torchvision torchaudio torchtext torchdata torchmetrics functorch torchgen triton "
    "lightning pytorch_lightning lightning_fabric lightning_utilities timm ultralytics "
    "detectron2 mmcv mmdet mmengine fairseq fastai ignite deepspeed apex bitsandbytes xformers "
    "accelerate peft trl transformers tokenizers datasets evaluate diffusers huggingface_hub "
    "safetensors sentence_transformers optimum onnx onnxruntime onnxscript skl2onnx tf2onnx "
    "tensorflow tensorflow_hub tensorflow_probability tensorflow_text tf_keras keras jax jaxlib "
    "flax optax haiku equinox orbax chex paddle mxnet gluonts "
    "gym gymnasium stable_baselines3 ray "
    # imaging, audio, plotting
    "PIL cv2 skimage imageio albumentations librosa soundfile matplotlib seaborn plotly bokeh "
    # experiment tracking, configuration, serving
    "mlflow wandb tensorboard tensorboardX comet_ml neptune clearml dvc hydra omegaconf "
    "bentoml gradio streamlit fastapi starlette uvicorn pydantic pydantic_core attr attrs "
    "marshmallow click typer rich tqdm yaml ruamel toml tomli tomlkit "
    # serialisation, transport, storage, clouds
    "cloudpickle dill msgpack orjson ujson simplejson protobuf google grpc fsspec s3fs gcsfs "
    "adlfs boto3 botocore s3transfer azure requests urllib3 httpx httpcore aiohttp certifi "
    "charset_normalizer idna websockets sqlalchemy psycopg psycopg2 pymysql redis "
    # packaging, interpreter and system helpers that pickles sometimes name
    "setuptools pkg_resources pip wheel packaging importlib_metadata importlib_resources zipp "
    "six typing_extensions typing_inspect mypy_extensions dateutil pytz tzdata tzlocal "
    "filelock cachetools platformdirs psutil cffi pycparser cryptography OpenSSL jinja2 markupsafe mako "
    "IPython ipykernel jupyter_client nbformat traitlets tornado zmq paramiko fabric invoke "
    "sh plumbum pexpect docker git gitdb dulwich smmap"
    # this project
    " mlwarden")

KNOWN_LIBRARIES: frozenset[str] = frozenset(
    _CATALOGUE + sorted({m.partition(".")[0] for m in names.library_modules()}
                        - set(sys.stdlib_module_names)))
"""Top-level packages of third-party libraries ML users install (and the ones the allow/deny
lists name). A class of one of them is library code, never a user's model class."""

INSTANTIATE_ONLY_NAMESPACES: tuple[str, ...] = (
    "torchvision.models", "torchvision.ops", "ultralytics.nn", "timm.models", "timm.layers")
"""Library namespaces of ``torch.nn.Module`` model classes that ``torch.save(model)`` pickles by
reference (a torchvision ``ResNet``, an Ultralytics ``DetectionModel``): a CamelCase class there
that is only rebuilt without a call keeps the medium review note of a user class. Their classes
define no ``__setstate__``/``__del__``/``__getattr__`` of their own (``nn.Module``'s are inert: the
sweep in ``tests/scan/pickle/gadget_sweep.py`` checks them); these packages are not installed where
the sweep runs, so they are vetted by this pattern, not swept. Called, or handed around as a value,
they stay high like any unvetted name."""


def top_level(module: str) -> str:
    return module.partition(".")[0]


def is_library_module(module: str) -> bool:
    """Whether ``module`` belongs to a third-party library of the catalogue, or to a package in
    which the gadget sweep found a class (a dependency such as ``cachetools`` that the swept
    libraries pulled in)."""
    top = top_level(module)
    return top in KNOWN_LIBRARIES or top in _swept_packages()


@lru_cache(maxsize=1)
def _swept_packages() -> frozenset[str]:
    from mlwarden.scan.pickle import gadgets  # a generated table, imported when first needed

    return frozenset(q.partition(".")[0] for q in gadgets.GADGETS)


def instantiate_only(module: str) -> bool:
    """Whether ``module`` is a library namespace of model classes vetted for plain rebuilding."""
    return any(module == p or module.startswith(p + ".") for p in INSTANTIATE_ONLY_NAMESPACES)


def is_user_module(module: str) -> bool:
    """Whether a class of ``module`` may be a user's own class: its top-level package is neither
    standard library nor a known third-party library (``__main__``, ``train``, ``myproj.models``).
    ``<computed>`` and empty names are never user modules."""
    if not module or module.startswith("<"):
        return False
    return not names.in_stdlib(module) and not is_library_module(module)


def may_rebuild_as_medium(module: str) -> bool:
    """Whether an unvetted class of ``module`` that is only rebuilt without a call is medium: a
    user class, or a class of a vetted model namespace (:data:`INSTANTIATE_ONLY_NAMESPACES`)."""
    return is_user_module(module) or instantiate_only(module)
