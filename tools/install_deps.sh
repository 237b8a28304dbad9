#!/usr/bin/env bash
# Installs the Debian packages Kiln builds with, only those missing. Run as root, or it
# prints the exact command to run. Used by `make demo` and `make test`.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms
  # lld-14: the sanitizer builds' linker, and the one `kiln compile` links an artifact's
  # generated kernels with.
  g++ clang-14 libclang-rt-14-dev lld-14
  llvm-16-dev libmlir-16-dev mlir-16-tools
  libprotobuf-dev protobuf-compiler
  # kiln-serve (tools/serve): HTTP (libevent), JSON (RapidJSON), TF Serving's gRPC
  # interface (gRPC's -dev headers also include c-ares' and RE2's), artifacts' CRC (zlib).
  libevent-dev rapidjson-dev libgrpc++-dev protobuf-compiler-grpc libc-ares-dev libre2-dev
  zlib1g-dev
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3
  # ONNX import: protobuf classes, and the backend test generator the conformance test
  # runs (tools/onnx/export_models.py also needs python3-torch python3-torchvision, which
  # no test does: the tiny exported models are kept in tests/onnx/testdata).
  libonnx-dev python3-onnx python3-numpy
  # The Python package (python/): its extension's headers, and its tests' runner.
  python3-dev pybind11-dev python3-pybind11 python3-pytest python3-setuptools
  # `make install`'s checks (tools/install_test.sh): building against the installed
  # library with pkg-config and CMake, and pip-installing the package into a venv.
  pkg-config cmake python3-venv
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "kiln: missing Debian packages: ${missing[*]}" >&2
  echo "kiln: run as root:  $cmd" >&2
  exit 1
fi
echo "kiln: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
