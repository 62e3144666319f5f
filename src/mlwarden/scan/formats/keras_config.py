"""Static analysis of a Keras model config (JSON), shared by the .keras, HDF5 and SavedModel scanners.

The whole JSON tree is walked, so Lambda layers and foreign modules are found wherever they hide:
nested sub-models, Sequential/Functional layers, wrappers (TimeDistributed, Bidirectional),
losses and metrics of ``training_config``, custom objects. Nothing is deserialised with Keras and
marshalled bytecode is never unmarshalled: its presence is the finding.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlwarden.core.finding import JSONValue
from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import dangerous
from mlwarden.scan import format_rules as R

if TYPE_CHECKING:
    from mlwarden.scan.interface import ScanContext, ScanTarget

MAX_NODES = 2_000_000
"""JSON values walked in one config before the analysis gives up (a finding, not a pass)."""

KERAS_MODULE_ROOTS = frozenset({
    "keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_core", "keras_rs",
})
"""Module roots that belong to Keras itself (``keras.layers``, ``keras_hub.models``...)."""

KERAS_MODULE_PREFIXES = ("tensorflow.keras", "tensorflow.python.keras", "tf.keras")

DANGEROUS_MODULE_ROOTS = dangerous.ROOT_MODULES - KERAS_MODULE_ROOTS - {"tensorflow"}
"""Modules a model config has no business naming (the one catalogue, :mod:`mlwarden.scan.dangerous`,
less Keras and TensorFlow themselves): they run commands, touch files or load code."""

RELOAD_FUNCTIONS = frozenset({
    "keras.models.load_model", "keras.saving.load_model", "keras.src.saving.saving_api.load_model",
    "keras.src.models.model.load_model", "keras.saving.saving_api.load_model",
    "tf.keras.models.load_model", "tensorflow.keras.models.load_model",
    "tf_keras.models.load_model", "keras.models.load_weights", "keras.utils.get_file",
    "keras.src.utils.file_utils.get_file", "tf.keras.utils.get_file",
    "tensorflow.keras.utils.get_file", "tf_keras.utils.get_file", "keras.layers.TFSMLayer",
    "keras.saving.load_weights", "keras.models.model_from_json", "keras.utils.get_source_inputs",
    "keras.config.enable_unsafe_deserialization",
    "keras.src.saving.serialization_lib.enable_unsafe_deserialization",
    "keras.saving.enable_unsafe_deserialization",
})
"""Dotted Keras callables that load another artifact, download a file, or turn safe_mode off."""
_RELOAD_LEAVES = frozenset(name.rsplit(".", 1)[1] for name in RELOAD_FUNCTIONS
                           if name.rsplit(".", 1)[1] != "get_source_inputs")
_LOADER_NAME = re.compile(r"load_model|load_weights", re.IGNORECASE)
"""Any function named like a model/weights loader (``legacy_h5_format.load_model_from_hdf5``,
``load_weights_from_hdf5_group``...), from whatever module: it reads another artifact."""
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$")


def is_reload_function(full: str) -> bool:
    """Whether the dotted callable ``full`` loads another model, weights or file."""
    return full in RELOAD_FUNCTIONS or bool(_LOADER_NAME.search(full.rsplit(".", 1)[-1]))


LOOKUP_LAYERS = frozenset({"StringLookup", "IntegerLookup", "IndexLookup", "TextVectorization"})
"""Layers whose ``vocabulary`` may be a file path, read from the loader's disk on load."""


class ConfigError(ValueError):
    """The config is not analysable JSON (too large, invalid, too deep)."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    rule: Rule
    message: str
    path: str
    """Where in the JSON tree (``/config/layers/3/config/function``)."""
    evidence: dict[str, JSONValue] = field(default_factory=dict)
    severity: Severity | None = None


@dataclass
class ParsedConfig:
    root: object
    shadowed: list[object]
    """Values of duplicate keys that ``json`` silently dropped (analysed too)."""


def parse_config(raw: bytes | str, limit: int) -> ParsedConfig:
    """Parse a config JSON document of at most ``limit`` bytes, keeping shadowed duplicates."""
    if len(raw) > limit:
        raise ConfigError(f"config is {len(raw)} bytes, over the {limit}-byte limit")
    shadowed: list[object] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in items:
            if key in out:
                shadowed.append(out[key])
            out[key] = value
        return out

    try:
        # as json.loads(bytes) decodes (Keras reads config.json as bytes): UTF-8 with or without
        # a BOM, UTF-16 and UTF-32
        text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, bytes) \
            else raw
        root = json.loads(text, object_pairs_hook=pairs)
    except RecursionError as exc:
        raise ConfigError("config JSON is nested too deeply") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"config is not valid JSON: {exc}") from exc
    return ParsedConfig(root, shadowed)


MODEL_CONFIG_KEYS = ("model_config", "modelTopology")
"""Keys under which a document wraps a model config: Keras' HDF5 attribute layout and
TensorFlow.js ``model.json`` (``modelTopology``, itself holding ``model_config``)."""


def looks_like_keras_config(root: object) -> bool:
    """Whether a JSON document is a Keras object or model config (``model.to_json()``, a
    ``.keras`` ``config.json``, a TensorFlow.js ``model.json``): what ``model_from_json``,
    ``deserialize_keras_object`` or a converter would deserialise."""
    if not isinstance(root, dict) or "chat_template" in root:
        return False
    if isinstance(root.get("class_name"), str) and isinstance(root.get("config"), dict | list):
        return True
    return any(isinstance(root.get(key), dict | str) for key in MODEL_CONFIG_KEYS)


def _is_keras_module(module: str) -> bool:
    root = module.split(".", 1)[0]
    return root in KERAS_MODULE_ROOTS or module.startswith(KERAS_MODULE_PREFIXES)


def _module_root(name: str) -> str:
    return name.replace(">", ".").split(".", 1)[0].strip()


def _marshalled_code_size(value: object) -> int | None:
    """Size of the bytecode if ``value`` is a base64 string of a marshalled code object."""
    if not isinstance(value, str) or len(value) < 8:
        return None
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=False)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if raw and raw[0] & 0x7F == 0x63:  # marshal TYPE_CODE ('c'), with or without FLAG_REF
        return len(raw)
    return None


LAMBDA_PAYLOAD_KEYS = ("code", "value", "function", "bytecode")
"""Keys under which a ``__lambda__`` object carries its function: ``code`` (Keras 2 / tf.keras
``func_dump``), ``value`` (Keras 3 ``serialization_lib``), and spellings seen in the wild."""


def _payload_size(value: object) -> int | None:
    """Bytecode size of a ``func_dump`` payload: a base64 string or a (code, defaults, closure)
    list/tuple, or a dict wrapping one of those."""
    if isinstance(value, list | tuple) and value:
        return _marshalled_code_size(value[0])
    if isinstance(value, dict):
        return _lambda_object_size(value)
    return _marshalled_code_size(value)


def _lambda_object_size(inner: dict[object, object]) -> int | None:
    """Bytecode size found in a ``__lambda__`` object's config, under any known key."""
    for key in LAMBDA_PAYLOAD_KEYS:
        if key in inner:
            size = _payload_size(inner[key])
            if size:
                return size
    return None


def _lambda_code(function: object) -> tuple[int | None, str | None, bool]:
    """(bytecode size, referenced function name, is a ``__lambda__`` object) of a Lambda's
    ``function`` value."""
    if isinstance(function, dict):
        if function.get("class_name") == "__lambda__":
            inner = function.get("config")
            return (_lambda_object_size(inner) if isinstance(inner, dict) else None), None, True
        module = function.get("module")
        name = function.get("config")
        return None, f"{module}.{name}" if isinstance(module, str) else str(name), False
    if isinstance(function, list | tuple) and function:
        return _marshalled_code_size(function[0]), None, False
    if isinstance(function, str):
        size = _marshalled_code_size(function)
        return (size, None, False) if size else (None, function, False)
    return None, None, False


class _Walker:
    def __init__(self) -> None:
        self.issues: list[ConfigIssue] = []
        self._seen_custom: set[tuple[str, str, str]] = set()
        self.nodes = 0

    def walk(self, root: object, base: str) -> None:
        stack: list[tuple[object, str, bool]] = [(root, base, False)]
        while stack:
            value, path, in_lambda = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise ConfigError(f"config has more than {MAX_NODES} JSON values")
            if isinstance(value, dict):
                inside = self._check_object(value, path, in_lambda)
                for key, child in value.items():
                    stack.append((child, f"{path}/{key}", inside or in_lambda))
            elif isinstance(value, list):
                for index, child in enumerate(value):
                    stack.append((child, f"{path}/{index}", in_lambda))
            elif isinstance(value, str) and (value in RELOAD_FUNCTIONS or (
                    len(value) < 300 and _DOTTED.match(value) and is_reload_function(value))):
                self._add(R.KERAS_UNSAFE_RELOAD, f"config references {value}", path,
                          {"function": value})

    def _add(self, rule: Rule, message: str, path: str, evidence: dict[str, JSONValue],
             severity: Severity | None = None) -> None:
        self.issues.append(ConfigIssue(rule, message, path, evidence, severity))

    def _check_object(self, obj: dict[str, object], path: str, in_lambda: bool) -> bool:
        """Check one JSON object; return whether its children belong to a Lambda's function."""
        class_name = obj.get("class_name")
        cls = class_name if isinstance(class_name, str) else ""
        registered = obj.get("registered_name")
        reg = registered if isinstance(registered, str) else ""
        module_value = obj.get("module")
        module = module_value if isinstance(module_value, str) else ""
        config = obj.get("config")
        name = cls or reg

        if obj.get("safe_mode") is False:
            self._add(R.KERAS_UNSAFE_RELOAD, "config sets safe_mode to false", path,
                      {"safe_mode": False})

        is_lambda_layer = (cls == "Lambda" or reg.endswith(">Lambda") or cls.endswith(".Lambda")
                           or reg == "Lambda" or reg.endswith(".Lambda"))
        if is_lambda_layer:
            self._check_lambda(config if isinstance(config, dict) else {}, path)
            return True
        if cls == "__lambda__" and not in_lambda:
            inner = config if isinstance(config, dict) else {}
            size = _lambda_object_size(inner)
            self._add(R.KERAS_LAMBDA, "config holds a __lambda__ object (marshalled Python "
                      "bytecode, run on load)", path,
                      {"marshalled_code_bytes": size, "in": "object"})
            return True

        leaf = cls.rsplit(".", 1)[-1].rsplit(">", 1)[-1]
        if leaf == "TFSMLayer" and isinstance(config, dict):
            self._add(R.KERAS_UNSAFE_RELOAD, f"TFSMLayer loads the SavedModel at "
                      f"{config.get('filepath')!r}", path, {"layer": "TFSMLayer",
                                                            "filepath": str(config.get("filepath"))})
        if leaf in LOOKUP_LAYERS and isinstance(config, dict):
            for option in ("vocabulary", "idf_weights"):
                value = config.get(option)
                if isinstance(value, str) and value:
                    self._add(R.KERAS_UNSAFE_RELOAD, f"{leaf} {config.get('name')!r} reads its "
                              f"{option} from the file {value!r} when loaded", path,
                              {"layer": leaf, "file": value})

        # Function references: {"class_name": "function", "module": M, "config": NAME}.
        if cls == "function" and isinstance(config, str):
            full = f"{module}.{config}" if module else config
            if is_reload_function(full) or (_is_keras_module(module) and config in _RELOAD_LEAVES):
                self._add(R.KERAS_UNSAFE_RELOAD, f"config calls {full}", path, {"function": full})

        for label, value in (("module", module), ("class_name", cls), ("registered_name", reg)):
            if not value or (label == "class_name" and "." not in value and ">" not in value):
                continue
            root = _module_root(value)
            if root in DANGEROUS_MODULE_ROOTS:
                target = f"{module}.{config}" if (cls == "function" and isinstance(config, str)
                                                  and module) else value
                self._add(R.KERAS_EXTERNAL_MODULE,
                          f"{label} {value!r} points at Python module {root!r} ({target})", path,
                          {label: value, "module_root": root, "target": target})
                return False

        custom_module = bool(module) and not _is_keras_module(module)
        custom_registration = ">" in reg and not _is_keras_module(reg.split(">", 1)[0].lower())
        if custom_module or custom_registration:
            key = (module, cls, reg)
            if key not in self._seen_custom:
                self._seen_custom.add(key)
                self._add(R.KERAS_CUSTOM_OBJECT,
                          f"{name or 'object'} comes from module {module or reg.split('>')[0]!r}, "
                          "outside Keras", path,
                          {"module": module, "class_name": cls, "registered_name": reg})
        return False

    def _check_lambda(self, config: dict[str, object], path: str) -> None:
        """Any Lambda layer is reported: critical when it carries code (or its function cannot
        be told apart from code), high at least when it names a function to import."""
        layer = str(config.get("name"))
        function = config.get("function")
        size, referenced, lambda_object = _lambda_code(function)
        if function is None or size or lambda_object or config.get("function_type") == "lambda" \
                or referenced is None:
            encoding = ("marshalled Python bytecode" if size else
                        "a __lambda__ object" if lambda_object else
                        "no function" if function is None else
                        f"a {type(function).__name__} function value")
            self._add(R.KERAS_LAMBDA,
                      f"Lambda layer {layer!r} carries {encoding} in 'function' (arbitrary Python, "
                      "run on load with safe_mode off)", path,
                      {"layer": layer, "field": "function", "marshalled_code_bytes": size,
                       "encoding": "bytecode" if size else
                       "__lambda__" if lambda_object else "unknown"})
        else:
            module = config.get("module")
            ref = f"{module}.{referenced}" if isinstance(module, str) and module else referenced
            root = _module_root(ref)
            self._add(R.KERAS_LAMBDA,
                      f"Lambda layer {layer!r} calls {ref!r} (arbitrary Python named by the model)",
                      path, {"layer": layer, "function": ref},
                      severity=(Severity.CRITICAL if root in DANGEROUS_MODULE_ROOTS
                                else Severity.HIGH))
        shape = config.get("output_shape")
        if shape is not None:
            shape_size, _, shape_object = _lambda_code(shape)
            if shape_size or shape_object or config.get("output_shape_type") == "lambda":
                self._add(R.KERAS_LAMBDA,
                          f"Lambda layer {layer!r} carries marshalled Python bytecode in "
                          "'output_shape' (runs on load with safe_mode off)", path,
                          {"layer": layer, "field": "output_shape",
                           "marshalled_code_bytes": shape_size})


def analyze_config(parsed: ParsedConfig, base: str = "") -> list[ConfigIssue]:
    """Every issue in the config tree (and in values shadowed by duplicate keys)."""
    walker = _Walker()
    walker.walk(parsed.root, base)
    for index, value in enumerate(parsed.shadowed):
        walker.walk(value, f"{base}/<duplicate-key-value-{index}>")
    return walker.issues


def report_config(parsed: ParsedConfig, target: ScanTarget, ctx: ScanContext,
                  base: str = "") -> None:
    """Analyse a parsed config and add its issues to ``ctx`` at ``target``'s location."""
    try:
        issues = analyze_config(parsed, base=base)
    except ConfigError as exc:
        ctx.add(R.KERAS_MALFORMED.finding(f"{base or 'config'}: {exc}", target.location()))
        return
    for issue in issues:
        ctx.add(issue.rule.finding(issue.message, target.location(), severity=issue.severity,
                                   evidence={"json_path": issue.path, **issue.evidence}))


def iter_layer_classes(root: object) -> Iterator[str]:
    """Every ``class_name`` in the tree (for evidence and tests)."""
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            name = value.get("class_name")
            if isinstance(name, str):
                yield name
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
