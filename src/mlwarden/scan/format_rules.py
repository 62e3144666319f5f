"""Rules of the non-pickle model formats: Keras, HDF5, ONNX, TensorFlow SavedModel, GGUF, safetensors,
skops.

Each format scanner in :mod:`mlwarden.scan.formats` reports through these rules. A malformed file is
always a finding of its format's "malformed" rule (a parser that crashes a loader is a way in, and a
file we cannot read is never clean).
"""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

_CODE_ON_LOAD = ("CWE-94", "CWE-502", "ML06", "AML.T0010", "AML.T0011")
_MALFORMED = ("CWE-20", "CWE-1286", "ML06", "AML.T0010")

# --- Keras (v3 .keras zips and legacy HDF5 model_config) -------------------------------------------

KERAS_LAMBDA = register(Rule(
    id="MW-KERAS-001",
    name="KerasLambdaLayer",
    title="Keras Lambda layer (Python code in the model)",
    description="The model config holds a Lambda layer or a `__lambda__` object. Keras stores a "
                "lambda as marshalled Python bytecode and runs it when the model is loaded with "
                "safe_mode off (and when the layer is called), so the file can execute arbitrary "
                "code. A Lambda that names a function instead of carrying bytecode imports that "
                "function from the loader's environment. Critical when bytecode is present.",
    severity=Severity.CRITICAL,
    remediation="Do not load the model with safe_mode=False. Rebuild the layer as a registered "
                "custom layer from reviewed source, or re-export the model without Lambda layers.",
    references=_CODE_ON_LOAD,
))

KERAS_EXTERNAL_MODULE = register(Rule(
    id="MW-KERAS-002",
    name="KerasDangerousModule",
    title="Keras config imports a dangerous module",
    description="A `module`, `class_name`, `registered_name` or function reference in the model "
                "config points at a Python module outside Keras that can run commands, touch files "
                "or import code (os, subprocess, builtins, importlib, pickle...). Keras resolves "
                "such references by importing the module during deserialization (CVE-2025-1550).",
    severity=Severity.CRITICAL,
    remediation="Do not load the model. Keras configs only need `keras.*` modules.",
    references=(*_CODE_ON_LOAD, "https://nvd.nist.gov/vuln/detail/CVE-2025-1550"),
))

KERAS_UNSAFE_RELOAD = register(Rule(
    id="MW-KERAS-003",
    name="KerasUnsafeReload",
    title="Keras config loads another model or file",
    description="The model config references a Keras function that loads another model or "
                "downloads a file (`keras.models.load_model`, `keras.saving.load_model`, "
                "`keras.utils.get_file`, a `TFSMLayer`, or any function whose name contains "
                "`load_model`/`load_weights`, such as the legacy `load_model_from_hdf5`, from "
                "whatever module), turns safe mode off "
                "(`safe_mode: false`, `keras.config.enable_unsafe_deserialization`), or gives a "
                "lookup layer (StringLookup, TextVectorization...) a vocabulary file path. Loading "
                "the outer model then reads files or loads an unscanned artifact, possibly with "
                "Lambda layers enabled.",
    severity=Severity.HIGH,
    remediation="Do not load the model; scan every model it refers to, or rebuild it without "
                "the nested load.",
    references=(*_CODE_ON_LOAD, "CWE-829"),
))

KERAS_MALFORMED = register(Rule(
    id="MW-KERAS-004",
    name="MalformedKerasModel",
    title="Malformed Keras model",
    description="The Keras archive or config cannot be read: config.json is missing, not JSON, "
                "oversized or nested beyond the scanner's bounds. Its contents were not fully "
                "checked.",
    severity=Severity.MEDIUM,
    remediation="Obtain the model again from a trusted source; do not load a model that could "
                "not be checked.",
    references=_MALFORMED,
))

KERAS_CUSTOM_OBJECT = register(Rule(
    id="MW-KERAS-005",
    name="KerasCustomObject",
    title="Keras config needs custom code",
    description="A layer or object in the config comes from a module outside Keras (a "
                "`registered_name` such as `MyPackage>MyLayer` or a `module` like `my_project."
                "layers`). Loading runs that code from the loader's environment; a model that "
                "names unexpected classes may be trying to reach code it should not.",
    severity=Severity.MEDIUM,
    remediation="Check that every custom object is expected and comes from reviewed code; pass "
                "them explicitly with `custom_objects` instead of relying on registration.",
    references=("CWE-829", "ML06", "AML.T0010"),
))

# --- HDF5 -------------------------------------------------------------------------------------------

HDF_MALFORMED = register(Rule(
    id="MW-HDF-001",
    name="MalformedHdf5",
    title="Malformed HDF5 file",
    description="The file carries the HDF5 signature but the HDF5 library cannot open it, or an "
                "attribute that should hold a Keras config is not readable. Malformed HDF5 has "
                "crashed the HDF5 library before (many CVEs); its contents were not checked.",
    severity=Severity.HIGH,
    remediation="Obtain the file again from a trusted source; do not open it with h5py or Keras.",
    references=_MALFORMED,
))

HDF_EXTERNAL = register(Rule(
    id="MW-HDF-002",
    name="Hdf5ExternalReference",
    title="HDF5 file reads other files",
    description="The HDF5 file has an external link, a dataset with external raw storage or a "
                "virtual dataset whose source is another file. Opening the object reads that file "
                "from the loader's disk (a path traversal / data exfiltration vector).",
    severity=Severity.HIGH,
    remediation="Do not open the file; model weights never need external links or storage.",
    references=("CWE-22", "CWE-73", "ML06"),
))

# --- ONNX -------------------------------------------------------------------------------------------

ONNX_EXTERNAL_PATH = register(Rule(
    id="MW-ONNX-001",
    name="OnnxExternalDataEscape",
    title="ONNX external data outside the model directory",
    description="A tensor's external-data `location` is absolute, climbs out of the model "
                "directory (`..`), names a drive, a URL or a device, or holds a NUL byte. "
                "onnx.load and ONNX Runtime read that file as tensor data (CVE-2024-27318, "
                "CVE-2024-5187: arbitrary file read/overwrite).",
    severity=Severity.HIGH,
    remediation="Do not load the model; external data must be relative paths inside the model "
                "directory.",
    references=("CWE-22", "CWE-73", "ML06", "https://nvd.nist.gov/vuln/detail/CVE-2024-27318"),
))

ONNX_CUSTOM_DOMAIN = register(Rule(
    id="MW-ONNX-002",
    name="OnnxCustomOperatorDomain",
    title="ONNX model uses a custom operator domain",
    description="A node or opset import uses an operator domain outside the standard ones "
                "('', ai.onnx, ai.onnx.ml, ai.onnx.preview.training, com.microsoft and its "
                "sub-domains). Running it needs a custom-operator library, native code loaded "
                "into the runtime. This is a policy finding: custom operators are legitimate, "
                "but the library that implements them must be reviewed too.",
    severity=Severity.LOW,
    remediation="Confirm the custom-op library is expected and trusted; waive the rule for "
                "models that are known to need it.",
    references=("CWE-829", "ML06"),
))

ONNX_MALFORMED = register(Rule(
    id="MW-ONNX-003",
    name="MalformedOnnx",
    title="Malformed ONNX model",
    description="The ONNX protobuf cannot be parsed (truncated fields, lengths beyond the data, "
                "nesting beyond the scanner's bounds). Its contents were not fully checked.",
    severity=Severity.MEDIUM,
    remediation="Obtain the model again from a trusted source.",
    references=_MALFORMED,
))

# --- TensorFlow SavedModel ----------------------------------------------------------------------------

TF_PYTHON_OP = register(Rule(
    id="MW-TF-001",
    name="TfPythonCallOp",
    title="TensorFlow graph calls Python",
    description="The graph holds a PyFunc, PyFuncStateless or EagerPyFunc op: it calls a Python "
                "function of the loading process by token. Models meant for serving never need it, "
                "and it is a way to reach code outside the graph.",
    severity=Severity.HIGH,
    remediation="Do not load the model; re-export it without tf.py_function / tf.numpy_function.",
    references=_CODE_ON_LOAD,
))

TF_FILE_OP = register(Rule(
    id="MW-TF-002",
    name="TfFileSystemOp",
    title="TensorFlow graph reads or writes files",
    description="The graph holds an op that reads, lists or writes arbitrary files "
                "(ReadFile, WriteFile, MatchingFiles, ImmutableConst's memory region, PrintV2 to "
                "a file, Debug ops with file URLs, summary writers, DatasetToTFRecord), a "
                "Save/SaveV2/MergeV2Checkpoints op or a file-reading dataset (TextLineDataset, "
                "TFRecordDataset, FixedLengthRecordDataset) whose path is a constant that is "
                "absolute, climbs out with '..', or names a drive, home directory or URL, or an "
                "asset filename leaves the assets directory. Running the model can exfiltrate or "
                "overwrite files. The checkpoint machinery on the saver's own filename is "
                "expected and not reported.",
    severity=Severity.HIGH,
    remediation="Do not serve the model; re-export it without file I/O inside the graph.",
    references=("CWE-73", "CWE-22", "ML06", "AML.T0010"),
))

TF_MALFORMED = register(Rule(
    id="MW-TF-003",
    name="MalformedSavedModel",
    title="Malformed TensorFlow SavedModel",
    description="saved_model.pb (or keras_metadata.pb) cannot be parsed: truncated protobuf, "
                "lengths beyond the data, nesting beyond bounds. Its graph was not fully checked.",
    severity=Severity.MEDIUM,
    remediation="Obtain the model again from a trusted source.",
    references=_MALFORMED,
))

# --- GGUF ---------------------------------------------------------------------------------------------

GGUF_TEMPLATE_INJECTION = register(Rule(
    id="MW-GGUF-001",
    name="GgufTemplateInjection",
    title="Chat template reaches Python internals",
    description="A Jinja2 chat template in the GGUF metadata reaches Python internals: dunder "
                "attributes (`__class__`, `__globals__`, `__subclasses__`...) directly, through "
                "`|attr`, `map(attribute=...)`, item access or names assembled from string pieces, "
                "format strings with attribute fields, or template objects such as `self`, "
                "`lipsum`, `cycler`. Rendering it with a non-sandboxed Jinja2 (as several "
                "inference servers do) runs arbitrary code (CVE-2024-34359).",
    severity=Severity.CRITICAL,
    remediation="Do not serve the model; replace the chat template with a reviewed one.",
    references=(*_CODE_ON_LOAD, "CWE-1336", "https://nvd.nist.gov/vuln/detail/CVE-2024-34359"),
))

GGUF_MALFORMED = register(Rule(
    id="MW-GGUF-002",
    name="MalformedGguf",
    title="Malformed GGUF file",
    description="The GGUF header, metadata or tensor table is inconsistent: unknown version or "
                "value type, lengths or counts beyond the file, tensors with too many dimensions, "
                "unknown types, overflowing sizes, or data outside the file. Such files have "
                "triggered heap overflows in GGUF loaders (e.g. CVE-2024-25664).",
    severity=Severity.HIGH,
    remediation="Do not load the file; obtain it again from a trusted source.",
    references=(*_MALFORMED, "CWE-787", "https://nvd.nist.gov/vuln/detail/CVE-2024-25664"),
))

GGUF_TEMPLATE_UNCHECKED = register(Rule(
    id="MW-GGUF-003",
    name="GgufTemplateUnverifiable",
    title="Chat template could not be fully verified",
    description="A chat template cannot be parsed as Jinja2, or builds attribute names at render "
                "time (a non-constant `|attr` argument, an attribute or key assembled from "
                "strings that cannot be folded). The scanner cannot show it is harmless. "
                "Runtime-built attribute names are reported as high: chat templates never need "
                "them; a template that does not parse is medium.",
    severity=Severity.MEDIUM,
    remediation="Review the template by hand, or replace it with a known chat template.",
    references=("CWE-1336", "ML06"),
))

GGUF_TEMPLATE_LOADS = register(Rule(
    id="MW-GGUF-004",
    name="GgufTemplateLoadsTemplates",
    title="Chat template includes or imports other templates",
    description="The template uses `{% include %}`, `{% import %}`, `{% from %}` or "
                "`{% extends %}`. With a file-system loader configured this reads files named "
                "by the model; chat templates never need it.",
    severity=Severity.HIGH,
    remediation="Replace the chat template with a self-contained reviewed one.",
    references=("CWE-1336", "CWE-73", "ML06"),
))

# --- Hugging Face chat templates (tokenizer_config.json, chat_template.jinja) ---------------------

TEMPLATE_INJECTION = register(Rule(
    id="MW-TMPL-001",
    name="ChatTemplateInjection",
    title="Hugging Face chat template reaches Python internals",
    description="The `chat_template` of a `tokenizer_config.json` (or `chat_template.json`), or a "
                "standalone `chat_template.jinja` file, reaches Python internals: dunder "
                "attributes, `|attr` or `map(attribute=...)` with such names, names assembled from "
                "string pieces, format strings with attribute fields, or template objects such as "
                "`self`, `lipsum`, `cycler`. `transformers` renders it with "
                "`apply_chat_template`; a renderer that is not sandboxed (inference servers, "
                "ports of the tokenizer) runs arbitrary code (server-side template injection).",
    severity=Severity.CRITICAL,
    remediation="Do not serve the model; replace the chat template with a reviewed one.",
    references=(*_CODE_ON_LOAD, "CWE-1336", "https://nvd.nist.gov/vuln/detail/CVE-2024-34359"),
))

TEMPLATE_UNCHECKED = register(Rule(
    id="MW-TMPL-002",
    name="ChatTemplateUnverifiable",
    title="Hugging Face chat template could not be fully verified",
    description="A chat template in a tokenizer configuration or template file cannot be parsed "
                "as Jinja2, is larger than the analysis limit, or builds attribute names at render "
                "time (reported as high: chat templates never need them). The scanner cannot show "
                "it is harmless.",
    severity=Severity.MEDIUM,
    remediation="Review the template by hand, or replace it with a known chat template.",
    references=("CWE-1336", "ML06"),
))

TEMPLATE_LOADS = register(Rule(
    id="MW-TMPL-003",
    name="ChatTemplateLoadsTemplates",
    title="Hugging Face chat template includes or imports other templates",
    description="The chat template uses `{% include %}`, `{% import %}`, `{% from %}` or "
                "`{% extends %}`. With a file-system loader configured this reads files named by "
                "the model; chat templates never need it.",
    severity=Severity.HIGH,
    remediation="Replace the chat template with a self-contained reviewed one.",
    references=("CWE-1336", "CWE-73", "ML06"),
))

# --- safetensors --------------------------------------------------------------------------------------

SAFET_HEADER = register(Rule(
    id="MW-SAFET-001",
    name="MalformedSafetensorsHeader",
    title="Malformed safetensors header",
    description="The safetensors JSON header is invalid: larger than the limit, not UTF-8 or "
                "JSON, not an object, duplicate keys, a tensor entry without a valid dtype, shape "
                "or data_offsets, or `__metadata__` that is not a string→string map. The reference "
                "implementation rejects such files; other loaders may misread them.",
    severity=Severity.HIGH,
    remediation="Do not load the file; re-export it with the safetensors library.",
    references=_MALFORMED,
))

SAFET_LAYOUT = register(Rule(
    id="MW-SAFET-002",
    name="SafetensorsLayoutViolation",
    title="safetensors tensor layout is inconsistent",
    description="Tensor byte ranges do not match the header: a size that disagrees with shape × "
                "dtype, ranges that overlap, holes between them, ranges beyond the data, or bytes "
                "not covered by any tensor. The reference implementation requires tensors to tile "
                "the data section exactly; anything else is corruption or hidden data.",
    severity=Severity.HIGH,
    remediation="Do not load the file; re-export it with the safetensors library.",
    references=(*_MALFORMED, "CWE-125"),
))

# --- skops --------------------------------------------------------------------------------------------

SKOPS_DANGEROUS_TYPE = register(Rule(
    id="MW-SKOPS-001",
    name="SkopsDangerousType",
    title="skops file names a dangerous type or function",
    description="A skops file's schema.json names a module and class or function that runs "
                "commands, evaluates code, touches files or reaches interpreter internals (judged "
                "like a pickle's imports); or makes the loader call a class that is safe only to "
                "rebuild (xgboost Booster) or opens files when called (numpy.memmap); or gives a "
                "class state its __setstate__ executes (scipy rv_generic's _parse_arg_template); "
                "or uses a node loader the scanner cannot model. skops.io.load refuses types it "
                "does not trust, but the common loading idiom trusts every type the file lists "
                "(trusted=get_untrusted_types(file=...)); its nodes then import the names and "
                "call them or run their __setstate__ while loading.",
    severity=Severity.HIGH,
    remediation="Do not load the file (and never trust the types a file lists itself); "
                "re-export the model from its source.",
    references=_CODE_ON_LOAD,
))

SKOPS_UNVETTED_TYPE = register(Rule(
    id="MW-SKOPS-002",
    name="SkopsUnvettedType",
    title="skops file makes the loader import and run an unvetted type",
    description="A skops file's schema.json names a class or function that is not on the "
                "allowlist of model constructors, in a node whose loader imports it and runs it: "
                "an ObjectNode (cls.__new__ then the class's __setstate__ with the file's state), "
                "a ConstructorFromReduceNode, LossNode or container node (called with the file's "
                "arguments), or a FunctionNode/TypeNode (handed to the model, which calls it). "
                "The usual idiom load(f, trusted=get_untrusted_types(file=f)) trusts it, and "
                "the scanner cannot know what its constructor or __setstate__ does (the "
                "counterpart of MW-PKL-003 for pickles).",
    severity=Severity.HIGH,
    remediation="Review the listed types; allow the ones you trust with the policy's "
                "scan.allow_globals, or re-export the model with types from the allowlist.",
    references=_CODE_ON_LOAD,
))

# --- payloads embedded in other formats' fields ---------------------------------------------------

EMBEDDED_UNCHECKED = register(Rule(
    id="MW-EMB-001",
    name="EmbeddedFieldsUnchecked",
    title="Fields too many or too large to check for embedded payloads",
    description="String and byte fields of configs and metadata (JSON configs, safetensors "
                "`__metadata__`, GGUF strings, ONNX `metadata_props` and string attributes, "
                "HDF5 attributes) are decoded (raw, base64, hex) and scanned as the pickle, "
                "archive or model they decode to, because custom layers and loaders deserialise "
                "such fields. This file holds a field over the size limit, or more fields, "
                "decoded characters or embedded payloads than the limits allow: the rest was not "
                "checked, so the scan fails closed at high.",
    severity=Severity.HIGH,
    remediation="Inspect the oversized or numerous fields by hand before loading the model with "
                "custom objects; re-export it without opaque blobs in its configuration.",
    references=(*_CODE_ON_LOAD, "CWE-400"),
))
