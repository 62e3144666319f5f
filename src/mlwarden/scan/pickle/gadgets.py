"""Library classes whose hooks act when a pickle merely rebuilds them (generated; do not edit).

Written by ``python -m tests.scan.pickle.gadget_sweep --write`` (see that module): every class of
the swept libraries whose ``__new__``, ``__setstate__``, ``__getattr__``, ``__setattr__``, property
setters, ``__hash__``/``__eq__``, ``__del__`` or ``__reduce__`` reaches processes, files, ``exec``,
imports, native code, deserialisers, the network or finalizers, in its own source or in the methods
and same-library functions it calls. Names the denylist already makes critical are left out.
A gadget is judged dangerous (critical when instantiated) when its kind is in
:data:`CRITICAL_KINDS`, otherwise unvetted (high) — even where an allowlist pattern would vouch for
its module.

Swept on:
cloudpickle 3.1.3, h5py 3.16.0, joblib 1.6.0, lightgbm 4.7.0, numpy 2.4.6, onnx 1.23.2, pandas
3.1.2, pyarrow 26.0.1, python 3.11.7, safetensors 0.8.0, scipy 1.17.1, sklearn 1.9.1, skops
0.16.0, torch 2.13.0+cpu.
Roots not installed there: transformers, tensorflow, keras, jax, catboost, dask, torchvision.
"""

from __future__ import annotations

SWEPT_ON: dict[str, str] = {
    "cloudpickle": "3.1.3",
    "h5py": "3.16.0",
    "joblib": "1.6.0",
    "lightgbm": "4.7.0",
    "numpy": "2.4.6",
    "onnx": "1.23.2",
    "pandas": "3.1.2",
    "pyarrow": "26.0.1",
    "python": "3.11.7",
    "safetensors": "0.8.0",
    "scipy": "1.17.1",
    "sklearn": "1.9.1",
    "skops": "0.16.0",
    "torch": "2.13.0+cpu",
}

CRITICAL_KINDS: frozenset[str] = frozenset((
    "deserialize", "eval", "file", "import", "native", "process"))

GADGETS: dict[str, tuple[str, str]] = {
    "cachetools.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "filelock._native._unix.UnixFileLock": (
        "file",
        "filelock._core._lock.BaseFileLock.__del__ -> self._release_abandoned_holds -> self.release"
        " -> filelock._core._fork.ensure_current_process -> posix.write"),
    "lightgbm.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.Dataset": (
        "native",
        "lightgbm.basic.Dataset.__del__ -> self._free_handle -> lightgbm.basic._safe_call"
        " -> ctypes.LGBM_GetLastError"),
    "lightgbm.basic.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.basic.Dataset": (
        "native",
        "lightgbm.basic.Dataset.__del__ -> self._free_handle -> lightgbm.basic._safe_call"
        " -> ctypes.LGBM_GetLastError"),
    "lightgbm.basic._InnerPredictor": (
        "native",
        "lightgbm.basic._InnerPredictor.__del__ -> lightgbm.basic._safe_call -> ctypes.LGBM_GetLastError"),
    "lightgbm.callback.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.engine.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.engine.Dataset": (
        "native",
        "lightgbm.basic.Dataset.__del__ -> self._free_handle -> lightgbm.basic._safe_call"
        " -> ctypes.LGBM_GetLastError"),
    "lightgbm.engine._InnerPredictor": (
        "native",
        "lightgbm.basic._InnerPredictor.__del__ -> lightgbm.basic._safe_call -> ctypes.LGBM_GetLastError"),
    "lightgbm.plotting.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.sklearn.Booster": (
        "native",
        "lightgbm.basic.Booster.__setstate__ -> ctypes.c_void_p"),
    "lightgbm.sklearn.Dataset": (
        "native",
        "lightgbm.basic.Dataset.__del__ -> self._free_handle -> lightgbm.basic._safe_call"
        " -> ctypes.LGBM_GetLastError"),
    "mlflow.LazyLoader": (
        "import",
        "mlflow.utils.lazy_load.LazyLoader.__getattr__ -> self._load -> importlib.import_module"),
    "mlflow.catboost.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.diffusers.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.dspy.load.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.dspy.save.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.h2o.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.johnsnowlabs.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.langchain.model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.lightgbm.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.llama_index.model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.container.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.flavor_backend_registry.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.signature.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.utils.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.models.wheeled_model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.onnx.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.openai.model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.paddle.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.pmdarima.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.prophet.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.pyfunc.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.pyfunc.backend.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.pyfunc.model.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.pytorch.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.sagemaker.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.sentence_transformers.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.shap.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.sklearn.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.spacy.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.spark.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.statsmodels.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.store.workspace.sqlalchemy_store.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.tracing.export.inference_table.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.tracing.fluent.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.tracing.utils.timeout.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.tracking.request_auth.kubernetes_request_auth_provider.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.transformers.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.utils._capture_modules.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.utils.lazy_load.LazyLoader": (
        "import",
        "mlflow.utils.lazy_load.LazyLoader.__getattr__ -> self._load -> importlib.import_module"),
    "mlflow.utils.model_utils.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.utils.request_utils.HTTPAdapter": (
        "network",
        "requests.adapters.HTTPAdapter.__setstate__ -> self.init_poolmanager"
        " -> urllib3.poolmanager.PoolManager"),
    "mlflow.utils.virtualenv.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "mlflow.webhooks.delivery.TTLCache": (
        "state-method file",
        "cachetools.TTLCache.__setstate__ -> self.expire -> unlink()"),
    "mlflow.webhooks.ssrf.HTTPAdapter": (
        "network",
        "requests.adapters.HTTPAdapter.__setstate__ -> self.init_poolmanager"
        " -> urllib3.poolmanager.PoolManager"),
    "mlflow.xgboost.Model": (
        "file",
        "mlflow.models.model.Model.resources.setter"
        " -> mlflow.models.resources._ResourceBuilder.from_yaml_file -> io.open"),
    "numpy._core.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "numpy._core.memmap.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "numpy.lib._datasource.DataSource": (
        "file",
        "numpy.lib.npyio.DataSource.__del__ -> shutil.rmtree"),
    "numpy.lib._datasource.Repository": (
        "file",
        "numpy.lib._datasource.Repository.__del__ -> numpy.lib._datasource.DataSource.__del__"
        " -> shutil.rmtree"),
    "numpy.matlib.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "numpy.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "pandas._libs.tslibs.timezones._ZoneInfo": (
        "file",
        "zoneinfo.ZoneInfo.__new__ -> self._new_instance -> io.open"),
    "scipy.LowLevelCallable": (
        "native",
        "scipy._lib._ccallback.LowLevelCallable.__new__ -> self._parse_callback"
        " -> scipy._lib._ccallback._import_cffi -> cffi.api.FFI"),
    "scipy._lib._ccallback.LowLevelCallable": (
        "native",
        "scipy._lib._ccallback.LowLevelCallable.__new__ -> self._parse_callback"
        " -> scipy._lib._ccallback._import_cffi -> cffi.api.FFI"),
    "scipy._lib.array_api_compat.numpy.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "scipy._lib.array_api_compat.torch.BFloat16Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.BoolStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.ByteStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.CharStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.ComplexDoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.ComplexFloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.DoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.FloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.HalfStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.IntStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.LongStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.QInt32Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.QInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.QUInt2x4Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.QUInt4x2Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.QUInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.ShortStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.TypedStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy._lib.array_api_compat.torch.UntypedStorage": (
        "on-copy deserialize",
        "torch.storage._StorageBase.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "scipy.special._ellip_harm_2.LowLevelCallable": (
        "native",
        "scipy._lib._ccallback.LowLevelCallable.__new__ -> self._parse_callback"
        " -> scipy._lib._ccallback._import_cffi -> cffi.api.FFI"),
    "scipy.special._precompute.expn_asy.Poly": (
        "eval",
        "sympy.polys.polytools.Poly.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "scipy.special._precompute.wright_bessel.Rational": (
        "eval",
        "sympy.core.numbers.Rational.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "scipy.stats._continuous_distns.LowLevelCallable": (
        "native",
        "scipy._lib._ccallback.LowLevelCallable.__new__ -> self._parse_callback"
        " -> scipy._lib._ccallback._import_cffi -> cffi.api.FFI"),
    "scipy.stats._continuous_distns.alpha_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.anglit_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.arcsine_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.argus_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.beta_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.betaprime_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.bradford_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.burr12_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.burr_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.cauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.chi2_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.chi_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.cosine_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.crystalball_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.dgamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.dpareto_lognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.dweibull_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.erlang_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.expon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.exponnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.exponpow_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.exponweib_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.f_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.fatiguelife_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.fisk_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.foldcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.foldnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gausshyper_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genexpon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genextreme_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gengamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genhalflogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genhyperbolic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.geninvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genlogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gennorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.genpareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gibrat_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gompertz_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gumbel_l_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.gumbel_r_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.halfcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.halfgennorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.halflogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.halfnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.hypsecant_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.invgamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.invgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.invweibull_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.irwinhall_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.jf_skew_t_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.johnsonsb_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.johnsonsu_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.kappa3_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.kappa4_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.ksone_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.kstwo_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.kstwobign_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.landau_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.laplace_asymmetric_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.laplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.levy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.levy_l_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.loggamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.logistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.loglaplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.lognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.lomax_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.maxwell_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.mielke_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.moyal_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.nakagami_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.ncf_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.nct_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.ncx2_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.norm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.norminvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.pareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.pearson3_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.powerlaw_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.powerlognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.powernorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rayleigh_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rdist_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.recipinvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.reciprocal_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rel_breitwigner_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rice_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rv_continuous": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.rv_histogram": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.semicircular_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.skewcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.skewnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.studentized_range_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.t_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.trapezoid_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.triang_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.truncexpon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.truncnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.truncpareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.truncweibull_min_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.tukeylambda_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.uniform_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.vonmises_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.wald_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.weibull_max_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.weibull_min_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._continuous_distns.wrapcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns._nchypergeom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns._pb_cls": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.bernoulli_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.betabinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.betanbinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.binom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.boltzmann_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.dlaplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.geom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.hypergeom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.logser_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.nbinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.nchypergeom_fisher_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.nchypergeom_wallenius_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.nhypergeom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.planck_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.poisson_binom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.poisson_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.randint_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.rv_discrete": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.skellam_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.yulesimon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.zipf_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._discrete_distns.zipfian_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._distn_infrastructure.rv_continuous": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._distn_infrastructure.rv_discrete": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._distn_infrastructure.rv_sample": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._levy_stable.levy_stable_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats._levy_stable.rv_continuous": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.alpha_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.anglit_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.arcsine_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.argus_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.bernoulli_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.beta_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.betabinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.betanbinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.betaprime_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.binom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.boltzmann_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.bradford_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.burr12_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.burr_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.cauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.chi2_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.chi_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.cosine_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.crystalball_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.dgamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.dlaplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.dpareto_lognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.dweibull_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.erlang_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.expon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.exponnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.exponpow_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.exponweib_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.f_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.fatiguelife_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.fisk_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.foldcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.foldnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gausshyper_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genexpon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genextreme_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gengamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genhalflogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genhyperbolic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.geninvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genlogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gennorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.genpareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.geom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gibrat_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gompertz_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gumbel_l_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.gumbel_r_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.halfcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.halfgennorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.halflogistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.halfnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.hypergeom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.hypsecant_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.invgamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.invgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.invweibull_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.irwinhall_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.jf_skew_t_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.johnsonsb_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.johnsonsu_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.kappa3_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.kappa4_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.ksone_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.kstwo_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.kstwobign_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.landau_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.laplace_asymmetric_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.laplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.levy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.levy_l_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.loggamma_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.logistic_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.loglaplace_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.lognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.logser_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.lomax_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.maxwell_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.mielke_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.moyal_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nakagami_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nbinom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.ncf_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nchypergeom_fisher_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nchypergeom_wallenius_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nct_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.ncx2_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.nhypergeom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.norm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.norminvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.pareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.pearson3_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.planck_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.poisson_binom_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.poisson_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.powerlaw_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.powerlognorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.powernorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.randint_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rayleigh_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rdist_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.recipinvgauss_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.reciprocal_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rel_breitwigner_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rice_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rv_continuous": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rv_discrete": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.rv_histogram": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.semicircular_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.skellam_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.skewcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.skewnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.studentized_range_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.t_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.trapezoid_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.triang_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.truncexpon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.truncnorm_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.truncpareto_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.truncweibull_min_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.tukeylambda_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.uniform_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.vonmises_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.wald_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.weibull_max_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.weibull_min_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.wrapcauchy_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.yulesimon_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.zipf_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.distributions.zipfian_gen": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.rv_continuous": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.rv_discrete": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "scipy.stats.rv_histogram": (
        "eval",
        "scipy.stats._distn_infrastructure.rv_generic.__setstate__ -> self._attach_methods"
        " -> self._attach_argparser_methods -> builtins.exec"),
    "sklearn.callback.ScoringMonitor": (
        "process",
        "sklearn.callback._scoring_monitor.ScoringMonitor.__setstate__"
        " -> sklearn.callback._transport.can_reuse_listener -> multiprocessing.connection.Client"),
    "sklearn.callback._scoring_monitor.ScoringMonitor": (
        "process",
        "sklearn.callback._scoring_monitor.ScoringMonitor.__setstate__"
        " -> sklearn.callback._transport.can_reuse_listener -> multiprocessing.connection.Client"),
    "sklearn.callback._transport.Connection": (
        "file",
        "multiprocessing.connection._ConnectionBase.__del__ -> self._close -> posix.close"),
    "sklearn.externals.array_api_compat.numpy.memmap": (
        "file",
        "numpy.memmap.__new__ -> io.open"),
    "sklearn.externals.array_api_compat.torch.BFloat16Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.BoolStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.ByteStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.CharStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.ComplexDoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.ComplexFloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.DoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.FloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.HalfStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.IntStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.LongStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.QInt32Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.QInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.QUInt2x4Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.QUInt4x2Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.QUInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.ShortStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.TypedStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "sklearn.externals.array_api_compat.torch.UntypedStorage": (
        "on-copy deserialize",
        "torch.storage._StorageBase.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "skops.io._persist.ZipFile": (
        "file",
        "zipfile.ZipFile.__del__ -> self.close -> self._write_end_record -> zipfile._strip_extra"),
    "skops.io._utils.ZipFile": (
        "file",
        "zipfile.ZipFile.__del__ -> self.close -> self._write_end_record -> zipfile._strip_extra"),
    "skops.io._visualize.ZipFile": (
        "file",
        "zipfile.ZipFile.__del__ -> self.close -> self._write_end_record -> zipfile._strip_extra"),
    "sympy.core.function.Application": (
        "eval",
        "sympy.core.function.Application.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "sympy.core.numbers.Number": (
        "eval",
        "sympy.core.numbers.Number.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "sympy.core.numbers.Rational": (
        "eval",
        "sympy.core.numbers.Rational.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "sympy.core.operations.LatticeOp": (
        "eval",
        "sympy.core.operations.LatticeOp.__new__ -> sympy.core.sympify._sympify"
        " -> sympy.core.sympify.sympify -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "sympy.polys.polytools.Poly": (
        "eval",
        "sympy.polys.polytools.Poly.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.BFloat16Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.BoolStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.ByteStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.CharStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.ComplexDoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.ComplexFloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.DoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.FloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.HalfStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.IntStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.LongStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.QInt32Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.QInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.QUInt2x4Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.QUInt4x2Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.QUInt8Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.ShortStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.TypedStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.UntypedStorage": (
        "on-copy deserialize",
        "torch.storage._StorageBase.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.BFloat16Storage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.BoolStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.ByteStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.CharStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.ComplexDoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.ComplexFloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.DoubleStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.FloatStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.HalfStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.IntStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.LongStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda.ShortStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.cuda._utils._CudaModule": (
        "native",
        "torch.cuda._utils._CudaModule.__getattr__ -> torch.cuda._utils._get_gpu_runtime_library"
        " -> torch.cuda._utils._get_hip_runtime_library -> ctypes.CDLL"),
    "torch.cuda.gds.GdsFile": (
        "file",
        "torch.cuda.gds.GdsFile.__del__ -> posix.close"),
    "torch.fx.experimental.symbolic_shapes.Application": (
        "eval",
        "sympy.core.function.Application.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.fx.passes._tensorify_python_scalars.Number": (
        "eval",
        "sympy.core.numbers.Number.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.profiler.ExecutionTraceObserver": (
        "file",
        "torch.profiler.profiler.ExecutionTraceObserver.__del__ -> self.unregister_callback"
        " -> posix.remove"),
    "torch.profiler.profiler.ExecutionTraceObserver": (
        "file",
        "torch.profiler.profiler.ExecutionTraceObserver.__del__ -> self.unregister_callback"
        " -> posix.remove"),
    "torch.storage.TypedStorage": (
        "on-copy deserialize",
        "torch.storage.TypedStorage.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.storage.UntypedStorage": (
        "on-copy deserialize",
        "torch.storage._StorageBase.__reduce__ -> torch.storage._load_from_bytes"
        " -> torch.serialization.load"),
    "torch.utils._config_module.ConfigModule": (
        "import",
        "torch.utils._config_module.ConfigModule.__getattr__ -> self._get_alias_val"
        " -> self._get_alias_module_and_name -> importlib.import_module"),
    "torch.utils._filelock.base_FileLock": (
        "file",
        "filelock._core._lock.BaseFileLock.__del__ -> self._release_abandoned_holds -> self.release"
        " -> filelock._core._fork.ensure_current_process -> posix.write"),
    "torch.utils._sympy.functions.Application": (
        "eval",
        "sympy.core.function.Application.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.utils._sympy.functions.LatticeOp": (
        "eval",
        "sympy.core.operations.LatticeOp.__new__ -> sympy.core.sympify._sympify"
        " -> sympy.core.sympify.sympify -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.utils._sympy.numbers.Number": (
        "eval",
        "sympy.core.numbers.Number.__new__ -> sympy.core.sympify.sympify"
        " -> sympy.parsing.sympy_parser.parse_expr -> builtins.exec"),
    "torch.utils._zip.ZipFile": (
        "file",
        "zipfile.ZipFile.__del__ -> self.close -> self._write_end_record -> zipfile._strip_extra"),
    "xgboost.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.ExtMemQuantileDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.QuantileDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.RabitTracker": (
        "native",
        "xgboost.tracker.RabitTracker.__del__ -> self.free -> xgboost.core._check_call"
        " -> ctypes.XGBGetLastError"),
    "xgboost.callback.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.callback.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.core.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.core.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.core.ExtMemQuantileDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.core.QuantileDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.core._ProxyDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.data.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.data._ProxyDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.federated.FederatedTracker": (
        "native",
        "xgboost.tracker.RabitTracker.__del__ -> self.free -> xgboost.core._check_call"
        " -> ctypes.XGBGetLastError"),
    "xgboost.federated.RabitTracker": (
        "native",
        "xgboost.tracker.RabitTracker.__del__ -> self.free -> xgboost.core._check_call"
        " -> ctypes.XGBGetLastError"),
    "xgboost.plotting.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.sklearn.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.sklearn.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.sklearn.QuantileDMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "xgboost.tracker.RabitTracker": (
        "native",
        "xgboost.tracker.RabitTracker.__del__ -> self.free -> xgboost.core._check_call"
        " -> ctypes.XGBGetLastError"),
    "xgboost.training.Booster": (
        "native",
        "xgboost.core.Booster.__setstate__ -> xgboost.core.c_array -> _ctypes.sizeof"),
    "xgboost.training.DMatrix": (
        "native",
        "xgboost.core.DMatrix.__del__ -> xgboost.core._check_call -> ctypes.XGBGetLastError"),
    "zoneinfo.ZoneInfo": (
        "file",
        "zoneinfo.ZoneInfo.__new__ -> self._new_instance -> io.open"),
    "zoneinfo._zoneinfo.ZoneInfo": (
        "file",
        "zoneinfo.ZoneInfo.__new__ -> self._new_instance -> io.open"),
}
"""Dotted name (home or re-export) → (reach kind, the hook path that reaches it)."""
