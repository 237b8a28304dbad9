#!/usr/bin/env bash
# Checks that a program built on the runtime core never reaches the compiler.
#   core_deps_test.sh CLOSURE NEEDED [BINARY...]
# CLOSURE: a genquery output (one label per line), checked against the compiler-side
# targets; NEEDED: comma-separated labels the closure must hold (so the check can fail);
# each BINARY: its dynamic dependencies (ldd) must not include LLVM or MLIR, and its size
# is printed.
set -u
closure="$1"
needed="$2"
shift 2
if [[ ! -s "$closure" ]]; then
  echo "FAIL: empty dependency closure in $closure"
  exit 1
fi
forbidden='^//graph[:/]|^//passes[:/]|^//runtime:(compile|planner|session|reference_|default_provider|fallback_)|^//kernels:kernel_provider$|^//kernels/cpu:cpu_kernels$|llvm|mlir'
found=$(grep -Ei "$forbidden" "$closure")
total=$(wc -l < "$closure")
rules=$(grep '^//' "$closure" | grep -Ev '\.(h|cc|c|proto|inc)$')
echo "closure: $total labels; $(echo "$rules" | wc -l) project targets:"
echo "$rules" | sort | sed 's/^/  /'
if [[ -n "$found" ]]; then
  echo "FAIL: the closure reaches the compiler:"
  echo "$found" | sed 's/^/  /'
  exit 1
fi
# The check itself must be able to fail: the closure names the core's own pieces.
for label in ${needed//,/ }; do
  if ! grep -qx "$label" "$closure"; then
    echo "FAIL: $label is missing from the closure; is the query right?"
    exit 1
  fi
done
for binary in "$@"; do
  libraries=$(ldd "$binary" 2>&1)
  if [[ $? -ne 0 || -z "$libraries" ]]; then
    echo "FAIL: ldd $binary: $libraries"
    exit 1
  fi
  echo "$(basename "$binary"): $(stat -L -c %s "$binary") bytes; dynamic dependencies:"
  echo "$libraries" | awk '{print "  " $1}'
  if echo "$libraries" | grep -Eiq 'llvm|mlir'; then
    echo "FAIL: $binary links LLVM or MLIR"
    exit 1
  fi
  if ! echo "$libraries" | grep -q 'libc\.so'; then
    echo "FAIL: ldd lists no libc for $binary; is it the binary?"
    exit 1
  fi
done
echo "PASS"
