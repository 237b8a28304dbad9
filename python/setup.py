"""Builds the extension kiln._kiln against an installed Kiln.

`make install PREFIX=DIR` installs Kiln's headers under DIR/include/kiln (repository
paths kept), the library DIR/lib/libkiln.so and DIR/lib/pkgconfig/kiln.pc. This script
finds them with `pkg-config --cflags --libs kiln` (PKG_CONFIG_PATH is honoured), or under
KILN_PREFIX when that is set, and links the extension with an rpath to the library's
directory, so nothing else needs to be on LD_LIBRARY_PATH:

    KILN_PREFIX=$HOME/kiln pip install --no-build-isolation .

The extension's sources are the ones Bazel builds (python/src); they include each other
by repository path, so this runs from the python/ folder of a Kiln checkout.
"""
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # the repository: "python/src/errors.h" resolves from here
SOURCES = [
    "src/compile.cc",
    "src/dtypes.cc",
    "src/errors.cc",
    "src/kiln_module.cc",
    "src/session.cc",
    "src/tensor_info.cc",
]
# The ONNX importer's header includes Debian's libonnx-dev protobuf classes, which need
# these (third_party/BUILD.bazel's onnx_proto sets the same).
ONNX_DEFINES = ["-DONNX_ML=1", "-DONNX_NAMESPACE=onnx", "-DONNX_API="]
# A header every Kiln install has; its absence means the prefix is not one.
PROBE_HEADER = os.path.join("runtime", "open_model.h")


class KilnNotFound(Exception):
    pass


def _pkg_config(*args, env=None):
    try:
        result = subprocess.run(["pkg-config", *args], check=True, capture_output=True,
                                text=True, env=env)
    except FileNotFoundError:
        raise KilnNotFound("pkg-config is not installed")
    except subprocess.CalledProcessError as e:
        raise KilnNotFound(e.stderr.strip() or f"pkg-config {' '.join(args)} failed")
    return shlex.split(result.stdout)


def _from_pkg_config(env=None):
    """(compile flags, link flags) from kiln.pc."""
    return _pkg_config("--cflags", "kiln", env=env), _pkg_config("--libs", "kiln", env=env)


def _from_prefix(prefix):
    include = os.path.join(prefix, "include", "kiln")
    lib = os.path.join(prefix, "lib")
    pc_dir = os.path.join(lib, "pkgconfig")
    if os.path.isfile(os.path.join(pc_dir, "kiln.pc")):
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.pathsep.join(
            p for p in (pc_dir, env.get("PKG_CONFIG_PATH")) if p)
        return _from_pkg_config(env)
    if not os.path.isfile(os.path.join(lib, "libkiln.so")):
        raise KilnNotFound(f"KILN_PREFIX={prefix}: no {os.path.join(lib, 'libkiln.so')}")
    return [f"-I{include}"], [f"-L{lib}", "-lkiln"]


def find_kiln():
    """Compile flags, link flags and the library directories of the installed Kiln."""
    prefix = os.environ.get("KILN_PREFIX")
    try:
        cflags, libs = _from_prefix(prefix) if prefix else _from_pkg_config()
    except KilnNotFound as e:
        sys.exit(
            "setup.py: cannot find an installed Kiln (" + str(e) + ").\n"
            "Install it with `make install PREFIX=DIR` from the repository's root, then either\n"
            "  KILN_PREFIX=DIR pip install --no-build-isolation .\n"
            "or put DIR/lib/pkgconfig on PKG_CONFIG_PATH.")
    includes = [flag[2:] for flag in cflags if flag.startswith("-I")]
    if not any(os.path.isfile(os.path.join(d, PROBE_HEADER)) for d in includes):
        sys.exit(f"setup.py: the installed Kiln's include flags {cflags} do not lead to "
                 f"{PROBE_HEADER}")
    lib_dirs = [flag[2:] for flag in libs if flag.startswith("-L")]
    return cflags, libs, lib_dirs


def extension():
    import pybind11

    if not os.path.isdir(os.path.join(ROOT, "python", "src")):
        sys.exit("setup.py: run it from the python/ folder of a Kiln checkout "
                 "(the extension's sources include python/src/... by repository path)")
    cflags, libs, lib_dirs = find_kiln()
    return Extension(
        "kiln._kiln",
        sources=SOURCES,
        include_dirs=[ROOT, pybind11.get_include()],
        language="c++",
        extra_compile_args=["-std=c++17", "-O2", "-fvisibility=hidden", *ONNX_DEFINES, *cflags],
        extra_link_args=[*libs, *(f"-Wl,-rpath,{d}" for d in lib_dirs),
                         f"-Wl,--version-script={os.path.join(HERE, 'exports.lds')}"],
    )


if __name__ == "__main__":
    # Metadata-only commands (egg_info, sdist) need no Kiln install.
    building = not {"egg_info", "sdist", "dist_info", "--version", "--name"} & set(sys.argv)
    setup(ext_modules=[extension()] if building else [])
