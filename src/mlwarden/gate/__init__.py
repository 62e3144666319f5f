"""The policy gate: runs or collects the checks a policy needs and decides allow or deny.

A requirement the gate cannot check (a missing attestation, a checker that is not installed) is a
deny reason, never a silent pass.
"""
