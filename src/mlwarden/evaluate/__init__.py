"""Model security tests: robustness, membership inference, extraction, ownership (their evidence
kind is here; the tests themselves land with their issue)."""
