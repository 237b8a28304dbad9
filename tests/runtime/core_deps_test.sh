#!/usr/bin/env bash
# Checks the dependency closure of the runtime core (a genquery output, one label per
# line) against the compiler-side targets it must never reach.
set -u
closure="$1"
if [[ ! -s "$closure" ]]; then
  echo "FAIL: empty dependency closure in $closure"
  exit 1
fi
forbidden='^//graph[:/]|^//passes[:/]|^//runtime:(compile|planner|session|reference_|default_provider|fallback_)|^//kernels:kernel_provider$|^//kernels/cpu:cpu_kernels$|llvm|mlir'
found=$(grep -Ei "$forbidden" "$closure")
total=$(wc -l < "$closure")
rules=$(grep '^//' "$closure" | grep -Ev '\.(h|cc|c|proto|inc)$')
echo "runtime core closure: $total labels; $(echo "$rules" | wc -l) project targets:"
echo "$rules" | sort | sed 's/^/  /'
if [[ -n "$found" ]]; then
  echo "FAIL: the runtime core reaches the compiler:"
  echo "$found" | sed 's/^/  /'
  exit 1
fi
# The check itself must be able to fail: the closure names the core's own pieces.
for needed in //runtime:executor //runtime:loaded_executable //kernels/cpu:cpu_kernel_library; do
  if ! grep -qx "$needed" "$closure"; then
    echo "FAIL: $needed is missing from the closure; is the query right?"
    exit 1
  fi
done
echo "PASS"
