#!/usr/bin/env bash
# Runs the Terraform provider (linode/linode) against a profiled server: apply, plan (which
# must find no changes), an update, plan again, destroy. Not a test of the suite (Terraform and
# the provider come from HashiCorp's registry, out of reach of this project's CI). Run it by hand:
#
#   PROFILED_URL=http://127.0.0.1:8080 PROFILED_TOKEN=$TOKEN tools/realclients/terraform/check.sh
#
# with terraform on PATH; it runs in a temporary copy of this folder and deletes what it made.
set -euo pipefail
: "${PROFILED_URL:?the server, like http://127.0.0.1:8080}" "${PROFILED_TOKEN:?a token with every scope}"
work=$(mktemp -d)
# Whatever happens, what the run made goes (a failed step leaves state behind).
trap 'terraform -chdir="$work" destroy -input=false -no-color -auto-approve >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cp "$(dirname "$0")/main.tf" "$work/"
cd "$work"
export TF_VAR_url=$PROFILED_URL TF_VAR_token=$PROFILED_TOKEN TF_IN_AUTOMATION=1
# No init when a CLI configuration overrides the provider (dev_overrides) and says so.
if ! grep -qs dev_overrides "${TF_CLI_CONFIG_FILE:-/dev/null}"; then terraform init -input=false -no-color >/dev/null; fi
unchanged() { # plan must find nothing to do (exit 0 with -detailed-exitcode)
  if ! terraform plan -input=false -no-color -detailed-exitcode "$@" >plan.txt 2>&1; then
    cat plan.txt
    echo "check: FAILED: a plan after apply found changes, or failed" >&2
    exit 1
  fi
}
terraform apply -input=false -no-color -auto-approve >/dev/null
unchanged
update=(-var key_label=tf-laptop-2 -var token_label=tf-ci-2 -var add_domains=true -var network_helper=true)
terraform apply -input=false -no-color -auto-approve "${update[@]}" >/dev/null
unchanged "${update[@]}"
terraform destroy -input=false -no-color -auto-approve "${update[@]}" >/dev/null
echo "check: apply, plan, update, plan and destroy passed"
