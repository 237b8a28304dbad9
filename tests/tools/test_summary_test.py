#!/usr/bin/env python3
"""Tests of tools/test_summary.py on fixture runs (tests/tools/testdata/test_summary/CASE):
each folder holds bazel logs, target lists and test.xml files of one or two runs, and
expected.txt with the arguments, the exit status, and the lines the summary must print
(the closing line last). Writes its results as JUnit XML for Bazel when asked."""
import io
import os
import shlex
import sys
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "testdata", "test_summary")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import test_summary  # noqa: E402


def read_expected(case):
    with open(os.path.join(FIXTURES, case, "expected.txt")) as f:
        lines = [line.rstrip("\n") for line in f]
    sections, current = {}, None
    for line in lines:
        if line.startswith("# "):
            current = line
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    args = shlex.split(sections["# args (paths relative to this folder):"][0])
    code = int(sections["# exit status:"][0])
    expected = sections["# lines that must appear, the closing line last:"]
    return args, code, expected


def run_summary(case, args):
    cwd = os.getcwd()
    os.chdir(os.path.join(FIXTURES, case))
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            code = test_summary.main(args)
    finally:
        os.chdir(cwd)
    return code, out.getvalue().splitlines()


class SummaryFixtureTest(unittest.TestCase):
    def check(self, case):
        args, expected_code, expected = read_expected(case)
        code, lines = run_summary(case, args)
        self.assertEqual(code, expected_code, "\n".join(lines))
        self.assertEqual(lines[-1], expected[-1], "\n".join(lines))
        for line in expected[:-1]:
            self.assertIn(line, lines)

    def test_every_fixture_is_tested(self):
        cases = sorted(os.listdir(FIXTURES))
        methods = sorted(name[len("test_"):] for name in dir(self)
                         if name.startswith("test_") and name != "test_every_fixture_is_tested")
        self.assertEqual(cases, methods)

    def test_all_pass(self):
        self.check("all_pass")

    def test_failed_case(self):
        self.check("failed_case")

    def test_skipped_case(self):
        self.check("skipped_case")

    def test_target_fails_to_build(self):
        self.check("target_fails_to_build")

    def test_package_fails_to_load(self):
        self.check("package_fails_to_load")

    def test_missing_target(self):
        self.check("missing_target")

    def test_sanitizer_failure(self):
        self.check("sanitizer_failure")

    def test_empty_log(self):
        self.check("empty_log")

    def test_fuzzer_crash(self):
        self.check("fuzzer_crash")


class SummaryArgumentTest(unittest.TestCase):
    def test_no_run_given_fails(self):
        code, lines = run_summary("all_pass", [])
        self.assertEqual(code, 1)
        self.assertIn("error: no bazel test run was given", lines)
        self.assertEqual(lines[-1], "0 passed, 2 failed, 0 skipped")

    def test_unexplained_exit_code_fails(self):
        # Every target passed, but bazel itself failed (status 37: a crash of bazel).
        args, _, _ = read_expected("all_pass")
        args[4] = "37"
        code, lines = run_summary("all_pass", args)
        self.assertEqual(code, 1)
        self.assertEqual(lines[-1], "6 passed, 1 failed, 0 skipped")


def write_junit(result, path, total):
    """GoogleTest-style XML, which Bazel's summary counts case by case."""
    root = ET.Element("testsuites", tests=str(total))
    suite = ET.SubElement(root, "testsuite", name="test_summary")
    failed = {test.id(): text for test, text in result.failures + result.errors}
    for test_id in result.ran:
        classname, _, name = test_id.rpartition(".")
        case = ET.SubElement(suite, "testcase", name=name, classname=classname, status="run")
        if test_id in failed:
            ET.SubElement(case, "failure", message="failed").text = failed[test_id]
    ET.ElementTree(root).write(path, encoding="unicode")


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ran = []

    def startTest(self, test):
        super().startTest(test)
        self.ran.append(test.id())


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(resultclass=RecordingResult, verbosity=2)
    result = runner.run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        write_junit(result, os.environ["XML_OUTPUT_FILE"], result.testsRun)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
