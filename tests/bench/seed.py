"""Times the seed's cdktf-Python app synthesizing its 3 tenants (`just bench-seed`), for comparison.

Usage: python3 tests/bench/seed.py SEED_DOCUMENT [--runs N]

The seed document (`../shared/seeds/000_*.txt`) holds the app as `## File: <path>` headings, each
followed by a fenced code block. They are written into a scratch folder at bench time (nothing of
them is copied into this repository) and `python tap.py` runs there with the interpreter running
this script, which must have cdktf and cdktf-cdktf-provider-aws installed (the recipe's
virtualenv). Prints the median wall time and the largest peak resident memory among its processes
(the Python app and its jsii node child).
"""

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

FILE = re.compile(r"^## File: (\S+)\s*\n+```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def extract(document: str, into: pathlib.Path) -> list[str]:
    """Writes every file of the seed document under `into`; returns their paths."""
    paths = []
    for path, body in FILE.findall(document):
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        paths.append(path)
    for folder in {p.parent for p in into.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=pathlib.Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenant-host-seed-") as scratch:
        app = pathlib.Path(scratch)
        files = extract(args.seed.read_text(encoding="utf-8"), app)
        if "tap.py" not in files:
            sys.exit(f"{args.seed}: no `## File: tap.py` section")
        times, peaks = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryFile() as stderr:
                started = time.perf_counter()
                process = subprocess.Popen([sys.executable, "tap.py"], cwd=app, stdout=subprocess.DEVNULL, stderr=stderr)
                process.wait()
                elapsed = time.perf_counter() - started
                if process.returncode != 0:
                    stderr.seek(0)
                    tail = stderr.read()[-1500:].decode(errors="replace")
                    sys.exit(f"the seed app failed with exit code {process.returncode} after {elapsed:.1f}s:\n{tail}")
            times.append(elapsed)
            # RUSAGE_CHILDREN holds the largest peak among the waited-for descendants so far.
            peaks.append(os.getrusage(os.RUSAGE_CHILDREN).ru_maxrss)
        stacks = sorted(p.name for p in (app / "cdktf.out" / "stacks").iterdir())
        print(
            f"  seed cdktf-Python synth, {len(stacks)} stacks: median {statistics.median(times):.2f} s,"
            f" fastest {min(times):.2f} s ({len(times)} runs), peak RSS {max(peaks) / 1024:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
