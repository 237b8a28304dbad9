#!/usr/bin/env python3
"""Turns Bazel's test results into one closing line: `N passed, N failed`.

Reads the `bazel test --test_summary=short` log: for each test target it counts the
GoogleTest cases in the target's test.xml; a target that failed to build or has no
result counts as one failure. Extra results (fuzzer smoke runs) come as NAME=pass|fail.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|FAILED TO BUILD|SKIPPED|INCOMPLETE)")


def count_cases(testlogs, target):
    path = os.path.join(testlogs, target[2:].replace(":", "/"), "test.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.get("status", "run") != "run":
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    return passed, failed


def main():
    log, testlogs, extras = sys.argv[1], sys.argv[2], sys.argv[3:]
    passed = failed = 0
    failures = []
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.match(line.strip())
            if not m:
                continue
            target, status = m.groups()
            counts = count_cases(testlogs, target)
            if status == "PASSED" and counts and counts[1] == 0 and counts[0] > 0:
                passed += counts[0]
            elif status == "PASSED":
                passed += 1  # a test binary that is not GoogleTest (e.g. sh_test)
            elif counts and counts[1] > 0:
                passed += counts[0]
                failed += counts[1]
                failures.append(target)
            else:
                failed += 1
                failures.append(f"{target} ({status.lower()})")
    for extra in extras:
        name, _, result = extra.partition("=")
        if result == "pass":
            passed += 1
        else:
            failed += 1
            failures.append(name)
    for name in failures:
        print(f"failed: {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
