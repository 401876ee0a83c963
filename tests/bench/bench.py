"""Times `tenant-host check` and `tenant-host synth` on a generated fleet (`just bench`).

Usage: python3 tests/bench/bench.py TENANT_HOST PLUGIN_DIR [TENANTS] [--runs N]

Generates a configuration of TENANTS tenants (default 1000) with /20 blocks from 10.0.0.0/8 in a
scratch folder, runs each command --runs times (default 3) with a release binary, and prints the
fastest and the median wall time and the peak resident memory of each. The account quotas stay at their defaults, so the
quota preflight warnings are part of what `check` reports. Exits non-zero if a run fails.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time


def config(tenants: int) -> str:
    lines = [
        'region = "us-east-1"',
        "[state-backend]",
        'bucket = "tenant-host-bench-state"',
        'region = "us-east-1"',
        "[addressing]",
        'pool = "10.0.0.0/8"',
        "prefix-length = 20",
    ]
    for index in range(tenants):
        lines += ["[[tenants]]", f'id = "bench-{index:04d}"']
    return "\n".join(lines) + "\n"


def timed(command: list[str], cwd: pathlib.Path) -> tuple[float, int]:
    """Wall time in seconds and peak resident memory in KiB of one run."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            stderr.seek(0)
            sys.exit(f"{' '.join(command)} failed with exit code {code}:\n{stderr.read()[-4000:].decode()}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", type=pathlib.Path)
    parser.add_argument("plugins", type=pathlib.Path)
    parser.add_argument("tenants", type=int, nargs="?", default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    binary, plugins = args.binary.resolve(), args.plugins.resolve()
    with tempfile.TemporaryDirectory(prefix="tenant-host-bench-") as scratch:
        work = pathlib.Path(scratch)
        fleet = work / "fleet.toml"
        fleet.write_text(config(args.tenants), encoding="utf-8")
        common = ["--plugins", str(plugins), "--config", str(fleet)]
        commands = {
            "check": [str(binary), "check", *common, "--format", "json", "--report", str(work / "report.json")],
            "synth": [str(binary), "synth", *common, "--out", str(work / "cdktf.out")],
        }
        print(f"{args.tenants} tenants, {args.runs} runs each, {binary}")
        for name, command in commands.items():
            runs = [timed(command, work) for _ in range(args.runs)]
            times = [elapsed for elapsed, _ in runs]
            peak = max(rss for _, rss in runs)
            print(
                f"  {name}: fastest {min(times):.2f}s, median {statistics.median(times):.2f}s"
                f" ({args.tenants / min(times):.0f} tenants/s), peak memory {peak / 1024:.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
