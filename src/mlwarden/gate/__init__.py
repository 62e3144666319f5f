"""The policy gate: runs or collects the checks a policy needs and decides allow or deny.

A requirement the gate cannot check (a missing attestation, a checker that is not installed) is a
deny reason, never a silent pass. :mod:`.engine` decides over one model, :mod:`.promotion` over
registry versions (promotion, stage policies, verified pull), :mod:`.requirements` is the policy's
``gate`` section, :mod:`.checks` the signature and attestation checks.
"""
