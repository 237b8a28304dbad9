"""Golden pass tests: one test per tests/passes/*.kgraph file, and none left unlisted."""

load("//tests:defs.bzl", "kiln_cc_test")

def kiln_golden_tests(name, srcs):
    """A test per .kgraph file in `srcs`, run by the :golden_driver library (compiled once);
    fails at load time when a .kgraph file of the package is not listed, so no golden file
    goes unrun."""
    unlisted = [f for f in native.glob(["*.kgraph"]) if f not in srcs]
    if unlisted:
        fail("golden files not listed in %s: %s" % (name, ", ".join(unlisted)))
    tests = []
    for src in srcs:
        test = src[:-len(".kgraph")] + "_golden"
        kiln_cc_test(
            name = test,
            srcs = [],
            data = [src],
            args = ["$(location %s)" % src],
            deps = [":golden_driver"],
        )
        tests.append(":" + test)
    native.test_suite(name = name, tests = tests)
