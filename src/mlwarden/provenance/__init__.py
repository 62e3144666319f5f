"""Training provenance and lineage: ``mlwarden train``, ``trace``, ``bom``.

Modules: :mod:`.train` (run a training command and attest it), :mod:`.capture` (git state,
environment, lock files), :mod:`.params` (hyperparameters), :mod:`.slsa` (the SLSA provenance v1
record and its build type), :mod:`.store` (where attestations live), :mod:`.lineage` (tracing a
model back and the ``MW-PROV-*`` findings), :mod:`.render` (tree, JSON, HTML), :mod:`.bom`
(CycloneDX 1.6 ML-BOM), :mod:`.mlflow_import` (MLflow runs), :mod:`.rules`.
Dataset fingerprints live in :mod:`mlwarden.data.fingerprint`.
"""
