"""Test macros shared by tests/."""

def kiln_cc_test(name, srcs, deps = [], data = [], size = "small", args = [], **kwargs):
    """A GoogleTest binary linked against gtest_main from Debian's packages."""
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//third_party:gtest_main"],
        data = data,
        size = size,
        args = args,
        **kwargs
    )
