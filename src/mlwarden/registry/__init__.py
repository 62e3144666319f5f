"""The model registry: models, versions, stages, approvals, an artifact store and the audit log.

A version is identified by the digest of its content; its bytes live in a content-addressed store
(:mod:`.store`), its evidence (signature bundle, provenance envelope, scan report, approvals) is bound
to it in the database (:mod:`.models`), and every action appends to a hash-chained audit log
(:mod:`.audit`). :class:`~mlwarden.registry.service.Registry` is the API the CLI and the gate use.

The registry stores; it never decides. Promotion, stage policies and verified pull live above it in
:mod:`mlwarden.gate.promotion`; this package imports nothing from :mod:`mlwarden.gate`.
"""
