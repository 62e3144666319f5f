"""Model signing and verification in the OpenSSF Model Signing (OMS) v1.0 format, keys and trust.

Modules: :mod:`~mlwarden.sign.keys` (ECDSA keys: DSSE signers and verifiers),
:mod:`~mlwarden.sign.manifest` (hashing a model into its OMS manifest, the model digest),
:mod:`~mlwarden.sign.bundle` (Sigstore bundles carrying the signature),
:mod:`~mlwarden.sign.trust` (trust policies), :mod:`~mlwarden.sign.keystore` (the local key store),
:mod:`~mlwarden.sign.verify` (verification results and findings).
"""
