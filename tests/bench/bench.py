"""Times `tenant-host synth` and `tenant-host check` on fleets of several sizes (`just bench`).

Usage: python3 tests/bench/bench.py TENANT_HOST PLUGIN_DIR [--tenants 3,1000,10000] [--runs N]
                                    [--budget SECONDS] [--dev-binary DEBUG_TENANT_HOST]

For each fleet size it runs both commands with a warm compilation cache and prints the median and
fastest wall time, the median CPU time (user + system: on a machine shared with other work, the
figure to compare) and the peak resident memory (the whole process, from wait4). Three tenants is
the built-in example (no --config); larger fleets are generated (/22 blocks from 10.0.0.0/8, room
for 16,384 tenants; the default account quotas, so `check` reports the quota warnings). Each command runs --runs times
(default 5), but stops repeating once its runs together took --budget seconds (default 60), so a
slow "before" build still finishes; the printed run count says how many medians were taken of.

Between consecutive generated fleet sizes (1,000 and 10,000 by default) it prints how much
longer `check` of the larger took, wall and CPU, against the smaller fleet measured both before
and after the larger one, so that the machine's drift in speed stays out of the ratio.

Then the cold starts on the example: `synth` with an empty compilation cache (a fresh
XDG_CACHE_HOME, so neither wasmtime's cache nor precompiled components exist) for the release
binary (in the quick code tier, the example's default, and in the optimized one) and, with
--dev-binary, for a binary of the dev profile: the first run after `cargo build`.

A failed run is reported with the tail of its stderr and makes the script exit non-zero, after
every other measurement was printed.
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
        "prefix-length = 22",
        # /26 subnets in a /22 VPC (the default 8 new bits suits the example's /16 blocks).
        "[plugins.network]",
        "subnet-newbits = 4",
    ]
    for index in range(tenants):
        lines += ["[[tenants]]", f'id = "bench-{index:05d}"']
    return "\n".join(lines) + "\n"


class RunFailed(Exception):
    pass


def timed(command: list[str], cwd: pathlib.Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall time and CPU time (user + system) in seconds and peak resident memory in KiB of one
    run. CPU time barely moves with other processes' load; wall time does."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            stderr.seek(0)
            tail = stderr.read()[-600:].decode(errors="replace").strip()
            raise RunFailed(f"exit code {code} after {elapsed:.1f}s, peak {usage.ru_maxrss / 1024:.0f} MiB: {tail}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def repeated(command, cwd, env, runs: int, budget: float) -> tuple[str, float, float]:
    """Runs `command` up to `runs` times within `budget` seconds; describes the result and gives
    the median wall and CPU times."""
    results = []
    while len(results) < runs and (not results or sum(t for t, _, _ in results) < budget):
        results.append(timed(command, cwd, env))
    times = [elapsed for elapsed, _, _ in results]
    cpu = [used for _, used, _ in results]
    peak = max(rss for _, _, rss in results)
    wall, used = statistics.median(times), statistics.median(cpu)
    described = (
        f"median {format_seconds(wall)}, fastest {format_seconds(min(times))}"
        f" ({len(results)} runs), CPU median {format_seconds(used)}, peak RSS {peak / 1024:.0f} MiB"
    )
    return described, wall, used


def linearity(smaller: int, larger: int, before: tuple[float, float], larger_times: tuple[float, float],
              after: tuple[float, float]) -> str:
    """How much longer `check` of the larger fleet took than of the smaller, against the mean of
    the smaller fleet's medians measured before and after the larger one: this machine's speed
    drifts over minutes, and bracketing keeps the drift out of the ratio."""
    wall = larger_times[0] / statistics.mean([before[0], after[0]])
    cpu = larger_times[1] / statistics.mean([before[1], after[1]])
    return (
        f"  linearity, check: {larger} / {smaller} tenants = {wall:.1f}x wall, {cpu:.1f}x CPU"
        f" ({smaller} tenants before and after: {format_seconds(before[0])}, {format_seconds(after[0])} wall)"
    )


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def commands(binary: pathlib.Path, plugins: pathlib.Path, work: pathlib.Path, tenants: int) -> dict[str, list[str]]:
    common = ["--plugins", str(plugins)]
    if tenants != 3:
        fleet = work / f"fleet-{tenants}.toml"
        fleet.write_text(config(tenants), encoding="utf-8")
        common += ["--config", str(fleet)]
    commands = {
        "synth": [str(binary), "synth", *common, "--out", str(work / f"cdktf-{tenants}.out")],
        "check": [str(binary), "check", *common, "--format", "json", "--report", str(work / "report.json")],
    }
    if tenants <= QUICK_MAX_TENANTS:
        # A small fleet runs the quick code tier by default; show what the optimized one costs.
        commands["synth, optimized code"] = commands["synth"] + ["--plugin-code", "optimized"]
    return commands


# `CodeTier::QUICK_MAX_TENANTS` in host/src/plugin/runtime.rs.
QUICK_MAX_TENANTS = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", type=pathlib.Path)
    parser.add_argument("plugins", type=pathlib.Path)
    parser.add_argument("--tenants", default="3,1000,10000", help="comma-separated fleet sizes; 3 is the example")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--dev-binary", type=pathlib.Path, help="a dev-profile build, for the first run after a build")
    args = parser.parse_args()
    binary, plugins = args.binary.resolve(), args.plugins.resolve()
    failed = False
    with tempfile.TemporaryDirectory(prefix="tenant-host-bench-") as scratch:
        work = pathlib.Path(scratch)
        env = dict(os.environ)
        # Other processes' load skews wall times on a shared machine: say how busy it was.
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{binary}, {os.cpu_count()} cores (load average {load}), up to {args.runs} runs or {args.budget:.0f} s per command")
        # Median (wall, CPU) of `check` per fleet size, for the linearity lines.
        checks: dict[int, tuple[float, float]] = {}
        sizes = [int(n) for n in args.tenants.split(",")]
        # Fill the compilation cache for both code tiers first: right after the plugins were
        # rebuilt, the first timed run would otherwise compile them (and peak with the compiler).
        example = commands(binary, plugins, work, 3)
        for name in ("synth", "synth, optimized code"):
            timed(example[name], work, env)
        for tenants in sizes:
            for name, command in commands(binary, plugins, work, tenants).items():
                try:
                    described, wall, cpu = repeated(command, work, env, args.runs, args.budget)
                    if name == "check":
                        checks[tenants] = (wall, cpu)
                except RunFailed as error:
                    described, failed = f"FAILED: {error}", True
                print(f"  {tenants:>6} tenants  {name}: {described}", flush=True)
        # The example is mostly start-up; linearity is judged between the generated fleets.
        fleets = [n for n in sizes if n != 3 and n in checks]
        for smaller, larger in zip(fleets, fleets[1:]):
            try:
                _, *after = repeated(commands(binary, plugins, work, smaller)["check"], work, env, args.runs, args.budget)
                print(linearity(smaller, larger, checks[smaller], checks[larger], tuple(after)), flush=True)
            except RunFailed as error:
                print(f"  linearity, check: {larger} / {smaller} tenants: FAILED: {error}", flush=True)
                failed = True
        cold = [("release", binary, "synth"), ("release", binary, "synth, optimized code")]
        cold += [("dev", args.dev_binary.resolve(), "synth")] if args.dev_binary else []
        for profile, program, name in cold:
            cache = work / f"empty-cache-{profile}-{name}"
            command = commands(program, plugins, work, 3)[name]
            try:
                elapsed, cpu, rss = timed(command, work, {**env, "XDG_CACHE_HOME": str(cache)})
                described = f"{format_seconds(elapsed)}, CPU {format_seconds(cpu)}, peak RSS {rss / 1024:.0f} MiB"
            except RunFailed as error:
                described, failed = f"FAILED: {error}", True
            print(f"  empty compilation cache, example {name}, {profile} build: {described}", flush=True)
        print(f"  load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
