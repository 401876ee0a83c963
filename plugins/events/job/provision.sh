#!/usr/bin/env bash
# The provisioning job: what the central stack's CodeBuild project runs for one tenant, started
# by the provisioning workflow on a `Tenant Signup` or `Tenant Offboarding` event. The events
# plugin embeds this file in the project's buildspec unchanged; tests run it as CodeBuild would.
#
# Environment (the workflows set the first two per build; the project sets the rest):
#   TENANT_ID            the tenant, [a-z0-9-]+ (it comes from an event or a rollout list)
#   JOB_ACTION           signup | offboarding | rollout
#   ENVIRONMENT_SUFFIX   the fleet's suffix (tenant-host reads it too): the stack is tenant-<id>-<suffix>
#   REGISTRY_URL         s3://bucket/prefix of the fleet registry (configuration + lock file)
#   EVENT_BUS_NAME       where the result event goes
#   DEPLOY_ROLE_ARN      the deployer role terraform assumes, tagged TenantId=$TENANT_ID
#   TERRAFORM_VERSION, TERRAFORM_SHA256      the pinned terraform (linux_amd64 zip) and its checksum
#   TOOL_BUNDLE_URL, TOOL_BUNDLE_SHA256      the tenant-host bundle (bin/tenant-host, plugins/*.wasm)
#   TERRAFORM_URL        optional: where to fetch terraform instead of releases.hashicorp.com
#   WORK_DIR             optional: the job's scratch folder (default: a new temporary folder)
#
# Signup: `tenants add` (conditional writes: concurrent signups never share a block), synth of
# that one stack from the registry, `terraform init` + `apply` under the deployer role. Rollout
# (one item of the fleet rollout state machine): the same without `tenants add`. Offboarding:
# synth of the stack, `terraform destroy`, then `tenants remove` and `tenants release`: the block
# goes back to the pool only once the VPC is gone. Every run puts one result event on the bus.
#
# This text ends up inside Terraform JSON, so it never uses a dollar sign followed by a brace.
set -euo pipefail

step="checking the request"
result_source="saas.provisioning"

announce() {
  # $1: detail-type; $2: the detail as JSON. Ids are [a-z0-9-] and steps are plain words here.
  local entry
  entry=$(printf '[{"EventBusName":"%s","Source":"%s","DetailType":"%s","Detail":"%s"}]' \
    "$EVENT_BUS_NAME" "$result_source" "$1" "$(printf '%s' "$2" | sed 's/"/\\"/g')")
  aws events put-events --entries "$entry"
}

on_exit() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "provision: failed while $step (exit $status)" >&2
    announce "Tenant Provisioning Failed" \
      "$(printf '{"tenant_id":"%s","action":"%s","step":"%s"}' "$TENANT_ID" "$JOB_ACTION" "$step")" || true
  fi
}

fail() {
  echo "provision: $*" >&2
  exit 1
}

case "$(printenv TENANT_ID || true)" in
  "" | *[!a-z0-9-]*) echo "provision: refusing tenant id '$(printenv TENANT_ID || true)': expected [a-z0-9-]+" >&2; exit 1 ;;
esac
for name in JOB_ACTION ENVIRONMENT_SUFFIX REGISTRY_URL EVENT_BUS_NAME DEPLOY_ROLE_ARN; do
  [ -n "$(printenv "$name" || true)" ] || fail "$name is not set"
done
trap on_exit EXIT
case "$JOB_ACTION" in
  signup | rollout | offboarding) ;;
  *) fail "JOB_ACTION is '$JOB_ACTION': expected signup, rollout or offboarding" ;;
esac
for name in TERRAFORM_VERSION TERRAFORM_SHA256 TOOL_BUNDLE_URL TOOL_BUNDLE_SHA256; do
  [ -n "$(printenv "$name" || true)" ] ||
    fail "$name is not set: pin the tools in the events plugin's settings (see README, provisioning job)"
done

work=$(printenv WORK_DIR || mktemp -d)
mkdir -p "$work/bin" "$work/bundle"

# Fetches $1 to $2 and checks that its SHA-256 is $3.
fetch_verified() {
  case "$1" in
    s3://*) aws s3 cp --only-show-errors "$1" "$2" ;;
    *) curl --fail --silent --show-error --location --proto '=https,file' --output "$2" "$1" ;;
  esac
  printf '%s  %s\n' "$3" "$2" | sha256sum --check --quiet - || fail "the checksum of $1 is not $3"
}

step="installing terraform"
terraform_url=$(printenv TERRAFORM_URL ||
  echo "https://releases.hashicorp.com/terraform/$TERRAFORM_VERSION/terraform_$TERRAFORM_VERSION""_linux_amd64.zip")
fetch_verified "$terraform_url" "$work/terraform.zip" "$TERRAFORM_SHA256"
unzip -o -q "$work/terraform.zip" -d "$work/bin"

step="installing tenant-host"
fetch_verified "$TOOL_BUNDLE_URL" "$work/bundle.tar.gz" "$TOOL_BUNDLE_SHA256"
tar -xzf "$work/bundle.tar.gz" -C "$work/bundle"
export PATH="$work/bin:$work/bundle/bin:$PATH"
plugins="$work/bundle/plugins"
out="$work/cdktf.out"

# Points the stack's AWS provider at the deployer role, with the tenant as the session tag the
# role's trust policy requires and its permissions are scoped by.
assume_deployer_role() {
  printf '{"provider":{"aws":[{"assume_role":[{"role_arn":"%s","session_name":"provision-%s","tags":{"TenantId":"%s"}}]}]}}\n' \
    "$DEPLOY_ROLE_ARN" "$TENANT_ID" "$TENANT_ID" >"$1/deploy_role_override.tf.json"
}

stack="$out/stacks/tenant-$TENANT_ID-$ENVIRONMENT_SUFFIX"

# Synthesizes the tenant's stack from the registry (checked like any synth: every policy rule).
synth_stack() {
  tenant-host synth --tenant "$TENANT_ID" --registry "$REGISTRY_URL" --plugins "$plugins" --out "$out"
  [ -f "$stack/cdk.tf.json" ] || fail "synth wrote no stack $stack"
}

if [ "$JOB_ACTION" != offboarding ]; then
  if [ "$JOB_ACTION" = signup ]; then
    step="registering the tenant"
    tenant-host tenants add "$TENANT_ID" --registry "$REGISTRY_URL" --plugins "$plugins"
  fi
  step="synthesizing the stack"
  synth_stack
  assume_deployer_role "$stack"
  step="applying the stack"
  terraform -chdir="$stack" init -input=false
  terraform -chdir="$stack" apply -auto-approve -input=false
  step="announcing"
  announce "Tenant Provisioned" \
    "$(printf '{"tenant_id":"%s","action":"%s","stack":"%s"}' "$TENANT_ID" "$JOB_ACTION" "$(basename "$stack")")"
else
  step="synthesizing the stack"
  synth_stack
  assume_deployer_role "$stack"
  step="destroying the stack"
  terraform -chdir="$stack" init -input=false
  terraform -chdir="$stack" destroy -auto-approve -input=false
  step="removing the tenant"
  tenant-host tenants remove "$TENANT_ID" --registry "$REGISTRY_URL" --plugins "$plugins"
  step="releasing the tenant's block"
  tenant-host tenants release "$TENANT_ID" --registry "$REGISTRY_URL" --plugins "$plugins"
  step="announcing"
  announce "Tenant Offboarded" \
    "$(printf '{"tenant_id":"%s","action":"%s","stack":"%s"}' "$TENANT_ID" "$JOB_ACTION" "$(basename "$stack")")"
fi
