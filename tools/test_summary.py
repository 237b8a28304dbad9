#!/usr/bin/env python3
"""Turns `bazel test` runs into one closing line: `N passed, N failed, N skipped`.

Each run (one Bazel configuration) is given as five values:
  --run NAME LOG TESTLOGS EXIT_CODE TARGETS
NAME labels the run in messages ("default", "asan"); LOG is the output of
`bazel test --test_summary=short`; TESTLOGS is `bazel info bazel-testlogs` for that
configuration; EXIT_CODE is bazel's exit status; TARGETS is a file with the test targets
that must have a result, one per line (`bazel query` output).

GoogleTest cases are counted from each target's test.xml; a passing target without
cases (a plain script test) counts as one. Cases skipped with GTEST_SKIP or disabled are
counted and listed by name. Extra results (fuzzer smoke runs, the
installed-library checks) come as --extra NAME=pass|fail.

The summary cannot report success when tests did not run: it fails (exit status 1, the
reason on one `error:` line) when bazel exited for a reason other than test failures it
reported per target (loading, analysis or build errors: any status but 0 and 3), when a
listed target has no result, when the target list is missing or empty, or when no test
ran at all. Failed targets and cases are listed above the closing line.
"""
import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET

STATUS_LINE = re.compile(
    r"^(//\S+)\s+(?:\(cached\)\s+)?"
    r"(PASSED|FAILED TO BUILD|FAILED|FLAKY|TIMEOUT|NO STATUS|SKIPPED|INCOMPLETE)\b")

# bazel's exit codes that mean "every target built and ran": 0 all passed, 3 some failed.
BAZEL_TESTS_RAN = {0, 3}


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []  # "TARGET [run]: what failed"
        self.skips = []     # "TARGET [run]: Suite.Case"
        self.errors = []    # run-level reasons, one line each


def read_cases(testlogs, target):
    """(passed, failed, skipped names, failed names) from TARGET's test.xml, or None."""
    path = os.path.join(testlogs, target[2:].replace(":", "/"), "test.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = 0
    failed_names, skipped_names = [], []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        skipped = (case.get("status") == "notrun" or case.get("result") in ("skipped", "suppressed")
                   or case.find("skipped") is not None)
        if case.find("failure") is not None or case.find("error") is not None:
            failed_names.append(name)
        elif skipped:
            skipped_names.append(name)
        else:
            passed += 1
    return passed, len(failed_names), skipped_names, failed_names


def read_targets(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip().startswith("//")]
    except OSError:
        return None


def summarize_run(tally, name, log, testlogs, exit_code, targets_file):
    statuses = {}
    try:
        with open(log, errors="replace") as f:
            for line in f:
                m = STATUS_LINE.match(line.strip())
                if m:
                    statuses[m.group(1)] = m.group(2)
    except OSError:
        tally.errors.append(f"{name}: cannot read the bazel log {log}")

    for target, status in sorted(statuses.items()):
        cases = read_cases(testlogs, target)
        if status == "PASSED":
            if cases and cases[1] == 0 and (cases[0] > 0 or cases[2]):
                tally.passed += cases[0]
                tally.skipped += len(cases[2])
                tally.skips += [f"{target} [{name}]: {case}" for case in cases[2]]
            else:
                tally.passed += 1  # a test that is not GoogleTest (a script test)
        elif cases and cases[1] > 0:
            tally.passed += cases[0]
            tally.failed += cases[1]
            tally.skipped += len(cases[2])
            tally.skips += [f"{target} [{name}]: {case}" for case in cases[2]]
            tally.failures += [f"{target} [{name}]: {case}" for case in cases[3]]
        else:
            # Failed without a failing case: did not build, timed out, crashed (a
            # sanitizer report after the cases passed), or never ran.
            tally.failed += 1
            tally.failures.append(f"{target} [{name}]: {status.lower()}")

    expected = read_targets(targets_file)
    if expected is None or not expected:
        tally.errors.append(f"{name}: no test targets listed ({targets_file}): "
                            "`bazel query 'tests(//...)'` failed or found nothing")
    else:
        missing = [t for t in expected if t not in statuses]
        for target in missing:
            tally.failed += 1
            tally.failures.append(f"{target} [{name}]: no result")
        if missing:
            tally.errors.append(f"{name}: {len(missing)} test target(s) have no result "
                                f"(a BUILD file or the analysis failed), first {missing[0]}")

    if exit_code not in BAZEL_TESTS_RAN:
        reasons = {1: "a build or analysis error", 2: "a command-line or environment problem",
                   4: "no test targets were found", 8: "the run was interrupted"}
        tally.errors.append(f"{name}: bazel test exited with status {exit_code} "
                            f"({reasons.get(exit_code, 'a failure before or outside the tests')})")
    elif exit_code == 3 and not any(s != "PASSED" for s in statuses.values()):
        tally.errors.append(f"{name}: bazel test exited with status 3 but no target failed in its log")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", nargs=5, action="append", default=[],
                        metavar=("NAME", "LOG", "TESTLOGS", "EXIT_CODE", "TARGETS"))
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=pass|fail")
    args = parser.parse_args(argv)

    tally = Tally()
    for name, log, testlogs, exit_code, targets in args.run:
        try:
            code = int(exit_code)
        except ValueError:
            code = -1
        summarize_run(tally, name, log, testlogs, code, targets)
    for extra in args.extra:
        name, _, result = extra.partition("=")
        if result == "pass":
            tally.passed += 1
        else:
            tally.failed += 1
            tally.failures.append(f"{name}: {result or 'no result'}")

    if not args.run:
        tally.errors.append("no bazel test run was given")
    if tally.passed + tally.failed == 0:
        tally.errors.append("no test ran")
    # The closing line and the exit status never disagree: a run-level error with no
    # failed test behind it counts as one failure.
    if tally.errors and tally.failed == 0:
        tally.failed = len(tally.errors)

    for line in tally.skips:
        print(f"skipped: {line}")
    for line in tally.failures:
        print(f"failed: {line}")
    for line in tally.errors:
        print(f"error: {line}")
    print(f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped")
    return 1 if tally.failed or tally.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
