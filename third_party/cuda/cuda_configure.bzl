"""Detects the CUDA toolkit at /usr/local/cuda (not a Debian package).

Creates @local_cuda with:
  defs.bzl: CUDA_AVAILABLE (bool), CUDA_VERSION (string, "" when absent)
  //:cuda_driver  the driver API (libcuda) and headers, when available
  //:cublas       cuBLAS / cuBLASLt, when available
Targets that need CUDA are declared only `if CUDA_AVAILABLE`, so a machine without the
toolkit builds everything else.
"""

_CUDA_ROOT = "/usr/local/cuda"

def _cuda_configure_impl(ctx):
    root = ctx.path(_CUDA_ROOT)
    available = root.exists and ctx.path(_CUDA_ROOT + "/include/cuda.h").exists
    version = ""
    if available:
        result = ctx.execute([_CUDA_ROOT + "/bin/nvcc", "--version"])
        for line in result.stdout.splitlines():
            if "release" in line:
                version = line.split("release ")[1].split(",")[0]
        ctx.symlink(_CUDA_ROOT + "/include", "include")
    ctx.file("defs.bzl", "CUDA_AVAILABLE = %s\nCUDA_VERSION = \"%s\"\n" % (available, version))
    if not available:
        ctx.file("BUILD.bazel", "# No CUDA toolkit at %s.\n" % _CUDA_ROOT)
        return
    ctx.file("BUILD.bazel", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "cuda_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp"], allow_empty = True),
    includes = ["include"],
)

# The driver API. At build time the toolkit's stub satisfies the linker; at run time the
# driver's libcuda.so.1 is loaded (present only on machines with a GPU).
cc_library(
    name = "cuda_driver",
    linkopts = ["-L%s/lib64/stubs", "-lcuda"],
    deps = [":cuda_headers"],
)

cc_library(
    name = "cublas",
    linkopts = ["-L%s/lib64", "-Wl,-rpath,%s/lib64", "-lcublasLt", "-lcublas"],
    deps = [":cuda_headers"],
)
""" % (_CUDA_ROOT, _CUDA_ROOT, _CUDA_ROOT))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    local = True,
)
