#!/usr/bin/env bash
# `make test`: every Bazel test, the tests again under ASan+UBSan (clang), and a short
# run of each fuzzer; ends with the line `N passed, N failed`.
#   KILN_ASAN=0     skip the sanitizer pass
#   FUZZ_SECONDS=N  time per fuzzer (default 5)
set -uo pipefail
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d)
extras=()

echo "== bazel test //... =="
bazel test //... --keep_going --test_summary=short --show_progress_rate_limit=30 2>&1 | tee "$log_dir/tests.log"
testlogs=$(bazel info bazel-testlogs 2>/dev/null)

asan_summary=""
if [[ "${KILN_ASAN:-1}" != "0" ]]; then
  echo "== bazel test --config=asan //... =="
  bazel test --config=asan //... --keep_going --test_summary=short --show_progress_rate_limit=30 2>&1 | tee "$log_dir/asan.log"
  asan_testlogs=$(bazel info --config=asan bazel-testlogs 2>/dev/null)
  if python3 tools/test_summary.py "$log_dir/asan.log" "$asan_testlogs" > "$log_dir/asan_summary.txt"; then
    extras+=("asan=pass")
  else
    extras+=("asan=fail")
    sed 's/^/asan: /' "$log_dir/asan_summary.txt"
  fi
fi

echo "== fuzzers (${FUZZ_SECONDS:-5}s each) =="
touch "$log_dir/fuzz_results.txt"
# With the sanitizer pass done, the fuzzers link against its objects (a smoke run without
# coverage instrumentation of the libraries); otherwise they get their own fuzz build.
if [[ "${KILN_ASAN:-1}" != "0" ]]; then export FUZZ_CONFIG=${FUZZ_CONFIG:-asan}; fi
tools/run_fuzzers.sh "$log_dir/fuzz_results.txt"
while read -r line; do extras+=("$line"); done < "$log_dir/fuzz_results.txt"

python3 tools/test_summary.py "$log_dir/tests.log" "$testlogs" "${extras[@]}"
exit $?
