#!/usr/bin/env bash
# Runs the Python package's pytest suite (python/tests) with /usr/bin/python3 against the
# Bazel-built extension: the package and _kiln.so are put together under $TEST_TMPDIR,
# which goes first on PYTHONPATH. The cases go to Bazel's test.xml one by one.
#   --asan  the extension is built with ASan+UBSan: preload clang's ASan runtime (a plain
#           interpreter cannot load it otherwise); leaks are not checked, Python keeps
#           objects alive to the end by design.
set -euo pipefail

site="${TEST_TMPDIR:-$(mktemp -d)}/site"
mkdir -p "$site/kiln"
cp python/kiln/*.py python/_kiln.so "$site/kiln/"
export PYTHONPATH="$site"
export PYTHONDONTWRITEBYTECODE=1

if [[ "${1:-}" == "--asan" ]]; then
  runtime=$(clang-14 -print-file-name=libclang_rt.asan-x86_64.so)
  if [[ ! -f "$runtime" ]]; then
    echo "python_test: clang's ASan runtime ($runtime) is missing" >&2
    exit 1
  fi
  export LD_PRELOAD="$runtime"
  export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
fi

xml=()
if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then xml=(--junitxml="$XML_OUTPUT_FILE"); fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "${xml[@]}" python/tests
