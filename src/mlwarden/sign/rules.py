"""The ``MW-SIGN-*`` rules: what a model signature verification can find."""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

_OMS = "https://github.com/ossf/model-signing-spec"

UNSIGNED = register(Rule(
    id="MW-SIGN-001", name="ModelUnsigned", title="Model is not signed",
    description="No signature was found for the model, so nothing shows who produced it or that "
                "its files are the ones that were released.",
    severity=Severity.HIGH,
    remediation="Sign the model at release time ('mlwarden sign MODEL') and ship model.sig "
                "with it.",
    references=("CWE-345", "ML06", "AML.T0010", _OMS),
))
SIGNATURE_INVALID = register(Rule(
    id="MW-SIGN-002", name="SignatureInvalid", title="Signature does not verify",
    description="The signature does not verify with the trusted key or certificate chain: the "
                "signed statement was altered, another key signed it, or the certificate chain "
                "does not lead to a trusted root.",
    severity=Severity.CRITICAL,
    remediation="Do not use the model. Obtain it and its signature again from the publisher, "
                "and check you verify with the publisher's key.",
    references=("CWE-347", "ML06", "AML.T0010", _OMS),
))
SIGNER_UNTRUSTED = register(Rule(
    id="MW-SIGN-003", name="SignerUntrusted", title="Signer is not trusted for this model",
    description="The signature is valid, but the trust policy does not allow its signer to sign "
                "this model.",
    severity=Severity.CRITICAL,
    remediation="Use a model signed by a trusted signer, or, after review, add the signer to the "
                "trust file for this model.",
    references=("CWE-345", "ML06", "AML.T0010"),
))
FILE_MODIFIED = register(Rule(
    id="MW-SIGN-004", name="ModelFileModified", title="Model file modified after signing",
    description="A file of the model no longer has the digest (or size) recorded in the "
                "signature: it was modified, truncated or replaced.",
    severity=Severity.CRITICAL,
    remediation="Do not load the model; restore the file from the signed release.",
    references=("CWE-354", "ML06", "AML.T0010"),
))
FILE_ADDED = register(Rule(
    id="MW-SIGN-005", name="ModelFileAdded", title="File added to the model after signing",
    description="The model directory holds a file the signature does not cover. Loaders may "
                "pick up unsigned files (configs, custom code, extra weights).",
    severity=Severity.HIGH,
    remediation="Remove the file, or re-sign the model if it belongs to the release.",
    references=("CWE-354", "ML06", "AML.T0010"),
))
FILE_MISSING = register(Rule(
    id="MW-SIGN-006", name="ModelFileMissing", title="Signed model file is missing",
    description="A file covered by the signature is not in the model directory.",
    severity=Severity.HIGH,
    remediation="Restore the file from the signed release.",
    references=("CWE-354", "ML06"),
))
FILE_RENAMED = register(Rule(
    id="MW-SIGN-007", name="ModelFileRenamed", title="Signed model file renamed",
    description="A file covered by the signature was moved to another name with its content "
                "unchanged. Names matter to loaders (which file is the config, which the weights).",
    severity=Severity.HIGH,
    remediation="Restore the original name, or re-sign the model.",
    references=("CWE-354", "ML06"),
))
SIGNATURE_MALFORMED = register(Rule(
    id="MW-SIGN-008", name="SignatureMalformed", title="Signature file is corrupted",
    description="The signature file is truncated, corrupted or not an OMS Sigstore bundle, so the "
                "model cannot be verified.",
    severity=Severity.HIGH,
    remediation="Fetch the signature again from the publisher, or re-sign the model.",
    references=("CWE-347", "ML06", _OMS),
))
