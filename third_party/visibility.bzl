"""Visibility lists shared by BUILD files."""

# Every package of the project: for the targets all of it may use (the shared value types,
# the on-disk contracts, the kernel ABI, the system libraries). Packages are never public.
ALL_PROJECT_PACKAGES = [
    "//base:__subpackages__",
    "//bench:__subpackages__",
    "//docs:__subpackages__",
    "//examples:__subpackages__",
    "//graph:__subpackages__",
    "//kernels:__subpackages__",
    "//kiln:__subpackages__",
    "//passes:__subpackages__",
    "//proto:__subpackages__",
    "//python:__subpackages__",
    "//runtime:__subpackages__",
    "//tests:__subpackages__",
    "//tools:__subpackages__",
]
