#!/usr/bin/env bash
# Regenerates host/schema/aws-<version>.schema.json.gz, the AWS provider schema embedded in the
# host, from `terraform providers schema -json` (needs terraform and registry access), or from a
# schema JSON file you already have (`--from FILE`). The file is deterministic (no name, no
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
python3 - "$source_json" "$out" <<'PY'
"""Writes the schema as a gzip file of one member per type: `zcat` gives the JSON back byte for
byte, and the host finds a type's member from the member headers alone, so it inflates only the
types a run uses. Each member holds the text since the previous type, then this type's schema; its
gzip extra field (RFC 1952 2.3.1.1) has the subfield `TH`: the member's size and the offset of the
type's schema in its text (both u32, little-endian), then `<kind> <provider> <type>` (the tail
member after the last type has no label)."""
import json, re, struct, sys, zlib

source, out = sys.argv[1], sys.argv[2]
text = open(source, encoding="utf-8").read()
schema = json.loads(text)
assert str(schema.get("format_version", "")).startswith("1"), "not `terraform providers schema -json` output"
providers = schema["provider_schemas"]
aws = [p for p in providers if p.endswith("/hashicorp/aws")]
assert aws, "no hashicorp/aws provider in the schema"
counts = {k: len(providers[aws[0]].get(k, {})) for k in ("resource_schemas", "data_source_schemas")}
print(f"{aws[0]}: {counts}", file=sys.stderr)

decoder = json.JSONDecoder()
space = re.compile(r"[ \t\n\r]*")


def skip(i):
    return space.match(text, i).end()


def items(i):
    """(key, start, end) of every member of the JSON object starting at i."""
    i = skip(i)
    assert text[i] == "{", f"an object expected at {i}"
    found, i = [], skip(i + 1)
    if text[i] == "}":
        return found
    while True:
        key, i = decoder.raw_decode(text, skip(i))
        i = skip(i)
        assert text[i] == ":", f"`:` expected at {i}"
        start = skip(i + 1)
        _, end = decoder.raw_decode(text, start)
        found.append((key, start, end))
        i = skip(end)
        if text[i] == "}":
            return found
        assert text[i] == ",", f"`,` expected at {i}"
        i += 1


types = []
for key, start, _ in items(0):
    if key != "provider_schemas":
        continue
    for provider, provider_start, _ in items(start):
        for kind, kind_start, _ in items(provider_start):
            if kind in ("resource_schemas", "data_source_schemas"):
                types += [(start, end, f"{kind} {provider} {name}") for name, start, end in items(kind_start)]
types.sort()


def member(content, value_at, label):
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(content) + deflate.flush()
    label = label.encode()
    subfield_length = 8 + len(label)
    extra_length = 4 + subfield_length
    size = 12 + extra_length + len(body) + 8
    header = bytes([0x1F, 0x8B, 8, 0x04, 0, 0, 0, 0, 2, 255]) + struct.pack("<H", extra_length)
    extra = b"TH" + struct.pack("<HII", subfield_length, size, value_at) + label
    return header + extra + body + struct.pack("<II", zlib.crc32(content), len(content) & 0xFFFFFFFF)


with open(out, "wb") as file:
    previous = 0
    for start, end, label in types:
        file.write(member(text[previous:end].encode(), len(text[previous:start].encode()), label))
        previous = end
    file.write(member(text[previous:].encode(), 0, ""))
PY
echo "wrote $out ($(wc -c < "$out") bytes; sha256 of the JSON $(sha256sum "$source_json" | cut -d' ' -f1))" >&2
