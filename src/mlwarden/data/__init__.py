"""Data checks: fingerprints (:mod:`.fingerprint`) now; contracts, poisoning, PII and fairness later."""
