"""``mlwarden bom``: a CycloneDX 1.6 ML-BOM of a model, built from its training provenance.

The BOM's ``metadata.component`` is the model (``machine-learning-model``) with a ``modelCard``
(datasets by reference, training parameters as properties, recorded metrics as performance
metrics); every dataset is a ``data`` component with its ``data`` description; the base model is
another ``machine-learning-model``; every Python distribution of the training environment is a
``library`` with its ``pkg:pypi`` purl. cyclonedx-python-lib builds the document but has no model
card classes, so the ``modelCard`` and ``data`` parts are added to its JSON; the whole document is
then validated against the CycloneDX 1.6 JSON schema the library ships (strict), so an invalid BOM
is a bug (exit 3), never an output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlwarden import __version__
from mlwarden.core.errors import InputError, InternalError
from mlwarden.provenance.lineage import Lineage
from mlwarden.provenance.slsa import Dependency, TrainingRun


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _hex(dep: Dependency) -> str:
    return dep.digest.get("sha256") or next(iter(dep.digest.values()))


def build_bom(lineage: Lineage, *, allow_unverified: bool = False) -> str:
    """The ML-BOM (JSON text) of the traced model; :class:`InputError` without usable provenance."""
    if lineage.runs:
        run, verified = lineage.runs[0], True
    elif allow_unverified and lineage.unverified_runs:
        run, verified = lineage.unverified_runs[0], False
    elif lineage.unverified_runs:
        raise InputError("the provenance signature could not be checked", path=lineage.model,
                         advice="pass the training key's public key with --key, or "
                                "--allow-unverified")
    else:
        raise InputError(f"no verified provenance attestation names this model "
                         f"({lineage.digest})", path=lineage.model,
                         advice="run 'mlwarden trace' to see which link is broken")
    return render_bom(run, Path(lineage.model), lineage.digest, verified=verified)


def render_bom(run: TrainingRun, model: Path, digest: str, *, verified: bool) -> str:
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
        XsUri,
    )
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    from mlwarden.core.digest import sha256_file

    bom = Bom()
    bom.metadata.tools.components.add(Component(
        name="mlwarden", version=__version__, type=ComponentType.APPLICATION))
    properties = [
        Property(name="mlwarden:digest", value=digest),
        Property(name="mlwarden:provenance.verified", value=str(verified).lower()),
        Property(name="mlwarden:provenance.invocationId", value=run.invocation_id),
        Property(name="mlwarden:provenance.builder", value=run.builder_id),
        Property(name="mlwarden:provenance.startedOn", value=run.started_on.isoformat()),
        Property(name="mlwarden:provenance.finishedOn", value=run.finished_on.isoformat()),
        Property(name="mlwarden:training.command", value=json.dumps(list(run.command))),
    ]
    references = []
    code = run.code
    if code is not None:
        properties.append(Property(name="mlwarden:source.commit",
                                   value=code.digest.get("gitCommit", "")))
        properties.append(Property(name="mlwarden:source.dirty",
                                   value=str(bool(code.annotations.get("dirty"))).lower()))
        if code.uri:
            references.append(ExternalReference(type=ExternalReferenceType.VCS,
                                                url=XsUri(code.uri)))
    for lock in run.of_kind("lockfile"):
        properties.append(Property(name="mlwarden:lockfile", value=f"{lock.name} sha256:"
                                                                  f"{_hex(lock)}"))
    hashes = []
    if model.is_file():
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=sha256_file(model)[7:]))
    model_component = Component(
        name=model.name or str(model), type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref="model", hashes=hashes, properties=properties, external_references=references)
    bom.metadata.component = model_component
    depends: list[Component] = []
    data_parts: dict[str, dict[str, Any]] = {}
    for index, dep in enumerate(run.of_kind("dataset")):
        ref = f"dataset-{index + 1}"
        props = [Property(name="mlwarden:digest", value=f"sha256:{_hex(dep)}")]
        for key in ("rows", "files", "bytes"):
            if key in dep.annotations:
                props.append(Property(name=f"mlwarden:{key}", value=_value(dep.annotations[key])))
        component = Component(name=dep.name, type=ComponentType.DATA, bom_ref=ref,
                              properties=props)
        bom.components.add(component)
        depends.append(component)
        part: dict[str, Any] = {"type": "dataset", "name": dep.name}
        if dep.uri:
            part["contents"] = {"url": dep.uri}
        sizes = [f"{dep.annotations[k]} {k}" for k in ("rows", "files", "bytes")
                 if k in dep.annotations]
        part["description"] = "training data" + (f" ({', '.join(sizes)})" if sizes else "")
        data_parts[ref] = part
    for index, dep in enumerate(run.of_kind("base-model")):
        component = Component(name=dep.name, type=ComponentType.MACHINE_LEARNING_MODEL,
                              bom_ref=f"base-model-{index + 1}",
                              properties=[Property(name="mlwarden:digest",
                                                   value=f"sha256:{_hex(dep)}")])
        bom.components.add(component)
        depends.append(component)
    seen: set[str] = set()
    packages = run.environment.get("packages", [])
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name, version = pkg["name"], str(pkg.get("version", ""))
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        purl = PackageURL(type="pypi", name=name.lower(), version=version or None)
        component = Component(name=name, version=version or None, type=ComponentType.LIBRARY,
                              purl=purl, bom_ref=str(purl))
        bom.components.add(component)
        depends.append(component)
    bom.register_dependency(model_component, depends)
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = model_card(run, list(data_parts))
    for entry in document.get("components", []):
        described = data_parts.get(entry.get("bom-ref"))
        if described is not None:
            entry["data"] = [described]
    text = json.dumps(document, indent=2) + "\n"
    errors = validate(text)
    if errors:
        raise InternalError(f"generated ML-BOM does not validate against CycloneDX 1.6: {errors}")
    return text


def model_card(run: TrainingRun, dataset_refs: list[str]) -> dict[str, Any]:
    """The CycloneDX 1.6 ``modelCard``: datasets, training parameters, metrics."""
    card: dict[str, Any] = {"bom-ref": "model-card"}
    parameters: dict[str, Any] = {}
    if dataset_refs:
        parameters["datasets"] = [{"ref": ref} for ref in dataset_refs]
    if parameters:
        card["modelParameters"] = parameters
    if run.metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": [
            {"type": name, "value": f"{value:g}"} for name, value in sorted(run.metrics.items())]}
    props = [{"name": f"mlwarden:param.{k}", "value": _value(v)}
             for k, v in sorted(run.parameters.items())]
    if run.seed is not None:
        props.append({"name": "mlwarden:seed", "value": _value(run.seed)})
    if props:
        card["properties"] = props
    return card


def validate(text: str) -> str | None:
    """``None`` when ``text`` validates against the CycloneDX 1.6 JSON schema, else the error."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)
