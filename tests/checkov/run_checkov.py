#!/usr/bin/env python3
"""Run checkov (framework terraform_json) on every stack of a synthesized folder.

usage: run_checkov.py OUT_DIR WAIVERS_FILE

Prints one summary line per stack and every failed check. Exits 1 when a check fails that is
not waived (waived failures are listed as such), when checkov cannot parse a stack (checkov itself reports that as zero failures),
when a stack passes no check at all, or when a waiver matches nothing in any stack."""
import json
import os
import pathlib
import subprocess
import sys


def read_waivers(path):
    waivers = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            check_id, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"{path}: waiver {check_id} has no reason")
            waivers[check_id] = reason.strip()
    return waivers


def scan(stack_dir):
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE")
    command = [
        "checkov", "-d", str(stack_dir), "--framework", "terraform_json", "--output", "json",
        "--quiet", "--compact", "--skip-download",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"checkov gave no JSON report for {stack_dir}:\n{result.stdout}\n{result.stderr}")
    return report[0] if isinstance(report, list) else report


def main():
    out, waivers_file = pathlib.Path(sys.argv[1]), sys.argv[2]
    waivers = read_waivers(waivers_file)
    stacks = sorted(p for p in (out / "stacks").iterdir() if p.is_dir())
    if not stacks:
        sys.exit(f"no stacks under {out}")
    problems, used = [], set()
    for stack in stacks:
        report = scan(stack)
        summary = report.get("summary", {})
        failed = report.get("results", {}).get("failed_checks", [])
        waived = [c for c in failed if c["check_id"] in waivers]
        failing = [c for c in failed if c["check_id"] not in waivers]
        used.update(c["check_id"] for c in waived)
        print(f"{stack.name}: {summary.get('passed', 0)} passed, {len(failing)} failed, "
              f"{len(waived)} waived, {summary.get('parsing_errors', 0)} parsing errors")
        for check in waived:
            print(f"  waived {check['check_id']} on {check['resource']}")
        for check in failing:
            problems.append(f"{stack.name}: {check['check_id']} {check['check_name']} ({check['resource']})")
        if summary.get("parsing_errors", 0):
            problems.append(f"{stack.name}: checkov could not parse the stack")
        if summary.get("passed", 0) == 0:
            problems.append(f"{stack.name}: checkov passed no check, so it checked nothing")
    for check_id in sorted(set(waivers) - used):
        problems.append(f"waiver {check_id} matches nothing any more: remove it from {waivers_file}")
    for problem in problems:
        print(problem)
    passed = len(stacks) - len({p.split(":")[0] for p in problems if not p.startswith("waiver")})
    print(f"checkov: {passed} passed, {len(stacks) - passed} failed")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
