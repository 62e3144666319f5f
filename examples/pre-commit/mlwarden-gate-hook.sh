#!/usr/bin/env bash
# pre-commit hook: gate every staged model file; any deny (exit 1) or error (exit 2) blocks the
# commit. Policy: $MLWARDEN_POLICY, default mlwarden/policy.yaml.
set -u
policy="${MLWARDEN_POLICY:-mlwarden/policy.yaml}"
status=0
for file in "$@"; do
  if ! mlwarden gate "$file" --policy "$policy"; then
    echo "mlwarden: $file does not pass $policy" >&2
    status=1
  fi
done
exit "$status"
