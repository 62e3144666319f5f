"""Rules of the scan engine and the container formats (zip, tar, 7z, compressed streams, PyTorch
archives, numpy files).

Pickle rules (``MW-PKL-*``) live with the pickle VM; these rules are about the *containers* a
pickle or a weight file travels in: archives that hide members, bombs, traversal names, archives
that one loader accepts and another rejects, and the files the engine could not follow.
"""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

_ZIP_SPEC = "https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT"

SCANNER_ERROR = register(Rule(
    id="MW-FMT-001", name="ScannerFailed", title="A scanner failed on this file",
    description=(
        "A format scanner stopped with an unexpected error on this file or member. mlwarden fails "
        "closed: a file it could not analyse is never reported as clean, and hostile inputs are "
        "built precisely to crash analysers."),
    severity=Severity.HIGH,
    remediation=("Do not load the file until it has been analysed; re-run with -v and report the "
                 "error so the scanner can be fixed."),
    references=("CWE-502", "ML06", "AML.T0010"),
))

NESTING_TOO_DEEP = register(Rule(
    id="MW-FMT-002", name="NestingTooDeep", title="Containers nested deeper than the limit",
    description=(
        "An archive holds an archive holding an archive… beyond the nesting limit. Deep nesting is "
        "a classic way to exhaust scanners or hide a payload below the depth they look at; the "
        "innermost members were not analysed, so the scan fails closed at high."),
    severity=Severity.HIGH,
    remediation="Unpack the artifact by hand in a sandbox, or raise the depth limit and re-scan.",
    references=("CWE-409", "ML06"),
))

SYMLINK_OUT_OF_TREE = register(Rule(
    id="MW-FMT-003", name="SymlinkLeavesTree",
    title="Symbolic link leaving the scanned tree, broken, or to a special file",
    description=(
        "A model directory contains a symbolic link. Loaders follow links, so the scanner does too: "
        "a link to a regular file outside the directory (a Hugging Face cache snapshot links every "
        "file into ../../blobs) has its target scanned under the link's name and is noted at info "
        "severity with the resolved path. A link that is broken or loops, or that leads outside to "
        "a directory, device, FIFO or socket, is not followed: what a loader would read there was "
        "not analysed."),
    severity=Severity.MEDIUM,
    remediation=("Replace the link by the file it points to, or scan the target separately; never "
                 "ship model directories with links to outside paths."),
    references=("CWE-59", "ML06"),
))

POLYGLOT = register(Rule(
    id="MW-FMT-004", name="PicklePolyglot", title="File is another format and also a pickle",
    description=(
        "The file is recognised as one format, but its first bytes also form a valid pickle. "
        "Loaders that fall back to unpickling — torch.load's legacy path when a file is not a zip "
        "or a valid tar, pickle.load, joblib.load — would run that pickle, while tools that trust "
        "the first format see something harmless. The pickle was analysed as well."),
    severity=Severity.MEDIUM,
    remediation="Treat the file as crafted: do not load it; obtain the model from its source.",
    references=("CWE-436", "ML06", "AML.T0010"),
))

ZIP_POLYGLOT = register(Rule(
    id="MW-FMT-005", name="ZipPolyglot", title="File is another format and also a zip archive",
    description=(
        "The file is recognised as one format (safetensors, numpy, HDF5, GGUF, a pickle...), but "
        "Python's zipfile also opens it: it looks for the end-of-central-directory record in the "
        "last 64 KiB, wherever the members are. Loaders that take zips — pandas.read_pickle on a "
        ".zip name, skops, Keras, numpy.load on an .npz — would read members that tools trusting "
        "the first format never see. Every member was scanned as well."),
    severity=Severity.MEDIUM,
    remediation="Treat the file as crafted: do not load it; obtain the model from its source.",
    references=("CWE-436", "ML06", "AML.T0010"),
))

ARCHIVE_BOMB = register(Rule(
    id="MW-ARC-001", name="ArchiveBomb", title="Decompression bomb",
    description=(
        "A member (or the archive as a whole) expands beyond the size, ratio or member-count limits: "
        "a zip/gzip bomb that exhausts memory or disk of whatever unpacks it. What lies beyond the "
        "limit was not analysed."),
    severity=Severity.HIGH,
    remediation="Do not unpack the file; obtain the model from a trusted source.",
    references=("CWE-409", "ML06", _ZIP_SPEC),
))

PATH_TRAVERSAL = register(Rule(
    id="MW-ARC-002", name="ArchivePathTraversal", title="Archive member name escapes the extraction folder",
    description=(
        "A member name is absolute, carries a drive letter, contains '..' components or a NUL byte. "
        "Extracting the archive would write outside the target folder (zip-slip), for example over "
        "a shell profile or a Python package. The same holds for the shard names of a sharded "
        "checkpoint's index (weight_map of *.index.json): the loader would read a file from "
        "outside the model folder that was never scanned with it."),
    severity=Severity.HIGH,
    remediation="Do not extract the archive; rebuild it with relative member names.",
    references=("CWE-22", "ML06", "AML.T0010"),
))

LINK_MEMBER = register(Rule(
    id="MW-ARC-003", name="ArchiveLinkOrDevice", title="Link or device entry in an archive",
    description=(
        "A tar archive holds a symbolic link, a hard link, a device node or a FIFO. On extraction "
        "links let later members be written through them to arbitrary places, and device nodes have "
        "no business in a model archive."),
    severity=Severity.HIGH,
    remediation="Do not extract the archive; rebuild it with regular files only.",
    references=("CWE-59", "ML06"),
))

ENCRYPTED_MEMBER = register(Rule(
    id="MW-ARC-004", name="ArchiveEncryptedMember", title="Encrypted archive member cannot be analysed",
    description=(
        "A member is encrypted, so its content cannot be checked. An encrypted member is never "
        "treated as clean: it may hold a pickle that runs code once someone supplies the password, "
        "so the scan fails closed at high like every other limit."),
    severity=Severity.HIGH,
    remediation="Obtain the unencrypted artifact and scan it, or reject the file.",
    references=("CWE-693", "ML06"),
))

MALFORMED_ARCHIVE = register(Rule(
    id="MW-ARC-005", name="ArchiveMalformed", title="Malformed or truncated archive",
    description=(
        "The archive or compressed stream is damaged: missing end-of-directory record, truncated "
        "member data, inconsistent sizes or a corrupt compressed stream. Whatever could be "
        "recovered was analysed; the rest was not."),
    severity=Severity.MEDIUM,
    remediation="Re-download or re-export the artifact and scan it again.",
    references=("CWE-20", "ML06"),
))

LOADER_DISAGREEMENT = register(Rule(
    id="MW-ARC-006", name="ZipLoaderDisagreement",
    title="Zip archive that lenient loaders accept and strict ones reject",
    description=(
        "The zip archive has anomalies that Python's zipfile rejects or handles differently but that "
        "PyTorch's reader (miniz) accepts: a wrong CRC, a local header name that differs from the "
        "central directory, bytes prepended before the archive, duplicate member names, or data "
        "outside any member. Such archives are built to make scanners that use zipfile see "
        "something else than torch.load loads. mlwarden reads them the way PyTorch does and "
        "analysed every member it found."),
    severity=Severity.MEDIUM,
    remediation=("Treat the file as tampered with: obtain it from the original source and verify "
                 "its signature."),
    references=("CWE-436", "ML06", "AML.T0010", _ZIP_SPEC),
))

UNSUPPORTED_COMPRESSION = register(Rule(
    id="MW-ARC-007", name="ArchiveUnsupportedCompression",
    title="Archive member uses an unsupported compression method",
    description=(
        "A member is compressed with a method mlwarden cannot decode (deflate64 is decoded when "
        "the inflate64 package is installed), so it was not analysed and the scan fails closed "
        "at high. PyTorch's reader supports only stored and deflate members; other methods in a "
        "model archive are unusual."),
    severity=Severity.HIGH,
    remediation="Re-pack the archive with stored or deflate members and scan it again.",
    references=("CWE-693", "ML06", _ZIP_SPEC),
))

TORCHSCRIPT_CODE = register(Rule(
    id="MW-TORCH-001", name="TorchScriptCodeReachesSystem",
    title="TorchScript code reaches the file system or the OS",
    description=(
        "A TorchScript archive's code/ member calls operators that read or write files, load native "
        "libraries or reach Python/the OS (for example torch.ops.aten.save, torch.from_file, "
        "torch.ops.load_library, custom operator namespaces), or contains Python statements that "
        "TorchScript cannot compile (import os, subprocess, eval/exec). Loading the module with "
        "torch.jit.load and running it executes that code."),
    severity=Severity.HIGH,
    remediation=("Do not load the TorchScript module; ask for the weights as safetensors, or review "
                 "the code/ members by hand."),
    references=("CWE-94", "ML06", "AML.T0010"),
))

TORCH_UNEXPECTED_MEMBER = register(Rule(
    id="MW-TORCH-002", name="TorchArchiveUnexpectedPickle",
    title="Pickle hidden at an unusual place in a PyTorch archive",
    description=(
        "A PyTorch zip checkpoint holds a pickle at a path torch.save never writes (anything besides "
        "data.pkl, constants.pkl and *.debug_pkl). torch.load does not read it, but other loaders "
        "and tools may, and scanners that only look at data.pkl miss it. It was analysed."),
    severity=Severity.LOW,
    remediation="Remove the extra member, or find out which tool added it and why.",
    references=("CWE-506", "ML06"),
))

TORCHSCRIPT_PROGRAM = register(Rule(
    id="MW-TORCH-003", name="TorchScriptArchive", title="TorchScript archive: loading it runs a program",
    description=(
        "The file is a TorchScript archive (it holds constants.pkl and code/). torch.load hands such "
        "files to torch.jit.load, which has no safe mode (weights_only=True is refused): the "
        "archive's code/ is a Turing-complete program compiled and run by the loader, and its "
        "pickles are read by a C++ unpickler that PyTorch only supports for trusted input. "
        "PyTorch's security policy asks to treat TorchScript models like executable code from "
        "their provider. mlwarden checked the code/ members (MW-TORCH-001) and the pickles, but "
        "cannot prove a program harmless."),
    severity=Severity.MEDIUM,
    remediation=("Load TorchScript only from providers you trust (verify the signature); for "
                 "weights from elsewhere, ask for safetensors and the model's source code."),
    references=("CWE-94", "ML06", "https://github.com/pytorch/pytorch/blob/main/SECURITY.md"),
))

NPY_OBJECT_ARRAY = register(Rule(
    id="MW-NPY-001", name="NumpyObjectArray", title="NumPy object array: loading it runs a pickle",
    description=(
        "The .npy file stores an array of Python objects, which numpy writes as a pickle after the "
        "header. np.load refuses it unless allow_pickle=True, and then unpickles it. The pickle was "
        "analysed (see any MW-PKL finding at the same place); this finding records that the file "
        "needs allow_pickle."),
    severity=Severity.LOW,
    remediation=("Store numeric arrays with a plain dtype, or strings with a fixed-width 'U'/'S' "
                 "dtype, so the file loads with allow_pickle=False."),
    references=("CWE-502", "ML06"),
))

NPY_MALFORMED = register(Rule(
    id="MW-NPY-002", name="NumpyMalformed", title="Malformed NumPy file",
    description=(
        "The .npy header cannot be parsed (bad version, non-literal header, missing keys), or the "
        "data does not match the declared shape and dtype, or extra bytes follow the array. "
        "np.load may reject it or read something else than a careful parser sees. Where numpy may "
        "still read the header and the scanner could not follow it — a header beyond the "
        "scanner's size limit (np.load with allow_pickle=True has none), a dtype it cannot read "
        "without numpy — the finding is high and the bytes after the header are analysed as the "
        "pickle numpy would unpickle."),
    severity=Severity.MEDIUM,
    remediation="Re-export the array with numpy.save and scan it again.",
    references=("CWE-20", "ML06"),
))
