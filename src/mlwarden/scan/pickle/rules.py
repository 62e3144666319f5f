"""Rules of the pickle analyser (``MW-PKL-…``)."""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

_EXEC_REFS = ("CWE-502", "ML06", "AML.T0010", "AML.T0011.000")
_STRUCT_REFS = ("CWE-502", "ML06", "AML.T0010")
_NOT_LOADING = ("Do not load this file. Obtain the model from a trusted source, or convert it to a "
                "format that cannot run code (safetensors, ONNX, skops) in an isolated environment.")

DANGEROUS_CALL = register(Rule(
    id="MW-PKL-001",
    name="PickleDangerousCall",
    title="Pickle calls a dangerous callable on load",
    description="The pickle imports a denylisted callable (command execution, file or network "
                "access, code loading, interpreter state) and invokes it with REDUCE, OBJ, INST, "
                "NEWOBJ or NEWOBJ_EX. Unpickling the file runs that call: this is arbitrary code "
                "execution on load. Library gadget classes count too: classes whose __setstate__, "
                "__del__, __getattr__, __new__ or property setters reach processes, files, exec, "
                "imports, native code or deserialisers (found by a sweep of the installed "
                "libraries) are critical as soon as they are instantiated, even without a call.",
    severity=Severity.CRITICAL,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

DANGEROUS_IMPORT = register(Rule(
    id="MW-PKL-002",
    name="PickleDangerousImport",
    title="Pickle imports a dangerous callable",
    description="The pickle imports a denylisted callable without calling it while it loads. The "
                "object it builds carries the callable (a factory, a hook, a transformer's "
                "function) and will run it when the model is used.",
    severity=Severity.HIGH,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

UNVETTED_IMPORT = register(Rule(
    id="MW-PKL-003",
    name="PickleUnvettedImport",
    title="Pickle imports a callable that is not on the allowlist",
    description="The pickle imports a name that is neither a known model constructor nor a known "
                "gadget. Unpickling imports its module and may call it; the analyser cannot tell "
                "whether that is harmless, so it is never reported as clean. High when the name is "
                "called (REDUCE, INST, OBJ, or NEWOBJ/NEWOBJ_EX with arguments), handed around as a "
                "value that its holder may call later, or mutated. Medium when an unvetted class "
                "is only instantiated without calling it, the way pickle saves any instance "
                "(NEWOBJ/NEWOBJ_EX with no arguments, copyreg.__newobj__(cls) or "
                "copyreg._reconstructor(cls, object, None), then BUILD with a plain attribute or "
                "slot state whose values are judged on their own): no constructor runs, though the "
                "class's __setstate__ may still run code — whole pickled models "
                "(torch.save(model)) look like this. The medium case is for user classes only (a "
                "module of neither the standard library nor a catalogued third-party library, or "
                "a vetted torch.nn model namespace such as torchvision.models): a class of the "
                "standard library or of an installed library is shared code whose hooks an "
                "attacker can pick, so it stays high, and so do a second BUILD on the same object "
                "or odd state. Allowlisted value types that are safe only to reconstruct (transformers "
                "TrainingArguments) are high when called, and so are names that are safe only "
                "where the pickle calls them once the analyser can no longer follow every value.",
    severity=Severity.HIGH,
    remediation="Review the named callable. If it is an inert class of a library you trust, allow "
                "it in the policy (scan.allow_globals: module.Name or module.*); otherwise do not "
                "load the file.",
    references=_EXEC_REFS,
))

NESTED_PICKLE = register(Rule(
    id="MW-PKL-004",
    name="PickleNestedPayload",
    title="Pickle deserialises an embedded payload",
    description="The pickle calls a deserialiser (pickle.loads, dill, cloudpickle, torch.load, "
                "numpy.load…) on bytes it carries, possibly decoded first (base64, hex, zlib). "
                "The embedded payload is analysed too and its findings are reported at the outer "
                "call's offset; an embedded payload the analyser cannot recover is critical.",
    severity=Severity.HIGH,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

CODE_OBJECT = register(Rule(
    id="MW-PKL-005",
    name="PickleCodeObject",
    title="Pickle builds a code object",
    description="The pickle builds Python bytecode (marshal.loads, types.CodeType, "
                "types.FunctionType, compile). Bytecode built while loading runs arbitrary code.",
    severity=Severity.CRITICAL,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

EXTENSION_OPCODE = register(Rule(
    id="MW-PKL-006",
    name="PickleExtensionRegistry",
    title="Pickle imports through the extension registry",
    description="EXT1, EXT2 and EXT4 import whatever copyreg's extension registry maps the code to "
                "in the loading process; the name cannot be resolved statically. No model format "
                "uses the registry.",
    severity=Severity.HIGH,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

BUILD_SMUGGLING = register(Rule(
    id="MW-PKL-007",
    name="PickleAttributeSmuggling",
    title="Pickle sets special attributes with BUILD",
    description="A BUILD opcode sets dunder attributes (__reduce__, __setstate__, __getattr__, "
                "__class__…) on an object, or sets attributes on an imported class, function or "
                "module. That rewires behaviour that runs later (on access, copy or re-pickling).",
    severity=Severity.HIGH,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))

MALFORMED = register(Rule(
    id="MW-PKL-008",
    name="PickleMalformed",
    title="Malformed or truncated pickle stream",
    description="The opcode stream breaks before STOP (unknown opcode, truncated argument, stack "
                "underflow, missing memo entry). The unpickler executes opcodes as it reads, so "
                "everything before the break still runs; a valid malicious prefix followed by "
                "garbage is a known way to crash other scanners. Findings before the break are "
                "reported too. High when calls ran before the break, or when an opcode runs past "
                "the end of its FRAME: a file-reading unpickler (torch.load) then reads other "
                "opcodes than pickle.loads does.",
    severity=Severity.MEDIUM,
    remediation="Re-create the file from its source. If it came from elsewhere, do not load it: a "
                "broken stream after a payload is a scanner-evasion technique.",
    references=_STRUCT_REFS,
))

RESOURCE_LIMIT = register(Rule(
    id="MW-PKL-009",
    name="PickleResourceLimit",
    title="Pickle exceeds the analyser's resource limits",
    description="The stream exceeds the opcode, stack, memo or nesting limits of the scan (a "
                "nesting bomb, a MARK storm or a stream built to exhaust scanners). Analysis "
                "stopped there; what follows is unchecked.",
    severity=Severity.HIGH,
    remediation="Do not load the file unless its size and structure are expected; raise the "
                "limits in the scan policy only for trusted, known-large models.",
    references=("CWE-400", "CWE-502", "ML06"),
))

TRAILING_DATA = register(Rule(
    id="MW-PKL-010",
    name="PickleTrailingData",
    title="Data after the last pickle",
    description="Bytes that are not a pickle follow a complete pickle stream. pickle.load stops at "
                "STOP and never reads them, but they can hide a second payload for a custom loader.",
    severity=Severity.LOW,
    remediation="Check what produced the file; strip the trailing bytes if they are not expected.",
    references=("CWE-502",),
))

UNRESOLVED_CALL = register(Rule(
    id="MW-PKL-011",
    name="PickleUnresolvedCall",
    title="Pickle calls a value it computed",
    description="A REDUCE, OBJ or NEWOBJ calls something that is not a directly imported name: "
                "the result of another call, an attribute fetched at load time or a memo value "
                "the analyser cannot resolve. Model pickles only call imported constructors.",
    severity=Severity.HIGH,
    remediation=_NOT_LOADING,
    references=_EXEC_REFS,
))
