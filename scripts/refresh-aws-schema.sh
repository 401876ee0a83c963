#!/usr/bin/env bash
# Regenerates host/schema/aws-<version>.schema.json.gz, the AWS provider schema embedded in the
# host, from `terraform providers schema -json` (needs terraform and registry access), or from a
# schema JSON file you already have (`--from FILE`). The gzip is deterministic (-n: no name, no
# timestamp), so the same schema gives the same bytes. Update VERSION in host/src/schema/mod.rs
# (`EMBEDDED_AWS`, `EMBEDDED_LABEL`) and host/schema/PROVENANCE.md when the version changes.
#   scripts/refresh-aws-schema.sh 6.25.0
#   scripts/refresh-aws-schema.sh 6.25.0 --from aws-6.25.0.schema.json
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/refresh-aws-schema.sh VERSION [--from FILE]}"
out="host/schema/aws-${version}.schema.json.gz"
if [ "${2:-}" = "--from" ]; then
  source_json="${3:?--from needs a file}"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cat > "$work/main.tf" <<TF
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "= ${version}" }
  }
}
TF
  terraform -chdir="$work" init -backend=false -input=false >&2
  terraform -chdir="$work" providers schema -json > "$work/schema.json"
  source_json="$work/schema.json"
fi
python3 - "$source_json" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
assert str(schema.get("format_version", "")).startswith("1"), "not `terraform providers schema -json` output"
providers = schema["provider_schemas"]
aws = [p for p in providers if p.endswith("/hashicorp/aws")]
assert aws, "no hashicorp/aws provider in the schema"
counts = {k: len(providers[aws[0]].get(k, {})) for k in ("resource_schemas", "data_source_schemas")}
print(f"{aws[0]}: {counts}", file=sys.stderr)
PY
gzip -9n -c "$source_json" > "$out"
echo "wrote $out ($(wc -c < "$out") bytes; sha256 of the JSON $(sha256sum "$source_json" | cut -d' ' -f1))" >&2
