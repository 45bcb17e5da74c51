#!/usr/bin/env bash
# Runs linode-cli's profile commands against a profiled server (docs/real-clients.md). Not a test
# of the suite (linode-cli comes from PyPI, out of reach of this project's CI). Run it by hand:
#
#   pip install linode-cli
#   PROFILED_URL=http://127.0.0.1:8080 PROFILED_TOKEN=$TOKEN tools/realclients/linode_cli_check.sh
#
# It makes an SSH key and a token, checks what it reads back, and deletes them.
set -euo pipefail
: "${PROFILED_URL:?the server, like http://127.0.0.1:8080}" "${PROFILED_TOKEN:?a token with every scope}"
export LINODE_CLI_TOKEN=$PROFILED_TOKEN LINODE_CLI_API_VERSION=v4
export LINODE_CLI_API_SCHEME=${PROFILED_URL%%://*} LINODE_CLI_API_HOST=${PROFILED_URL#*://}
cli() { ${LINODE_CLI:-linode-cli} "$@" --text --no-headers --delimiter '|' --suppress-warnings; }
want() { # want WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "check: FAILED: $1: got '$3', want '$2'" >&2; exit 1; fi
}
user=$(cli profile view --format username)
want "a username from profile view" yes "$([ -n "$user" ] && echo yes)"
cli profile update --email_notifications false >/dev/null
want "email_notifications after update" False "$(cli profile view --format email_notifications)"
key=$(cli sshkeys create --label cli-check --ssh_key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjUxRqyN1eQ3XRXGcTrjqb1mzV5DvWDpwGBkp1Tj8ni cli@check" --format id)
trap 'cli sshkeys delete "$key" >/dev/null 2>&1 || true' EXIT
want "sshkeys list" "$key|cli-check" "$(cli sshkeys list --format id,label | grep -x "$key|cli-check")"
cli sshkeys update "$key" --label cli-check-2 >/dev/null
want "sshkeys view after update" cli-check-2 "$(cli sshkeys view "$key" --format label)"
cli sshkeys delete "$key"
tok=$(cli profile token-create --label cli-check --scopes linodes:read_only --expiry 2030-01-01T00:00:00 --format id)
trap 'cli profile token-delete "$tok" >/dev/null 2>&1 || true' EXIT
want "tokens-list --label" "$tok|linodes:read_only" "$(cli profile tokens-list --label cli-check --format id,scopes)"
cli profile token-update "$tok" --label cli-check-2 >/dev/null
want "token-view after update" cli-check-2 "$(cli profile token-view "$tok" --format label)"
cli profile token-delete "$tok"
cli profile apps-list >/dev/null
cli profile devices-list >/dev/null
cli profile logins-list >/dev/null
cli security-questions list >/dev/null
echo "check: linode-cli's profile, sshkeys and token commands passed"
