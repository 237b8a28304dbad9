#!/usr/bin/env bash
# `make test`: every Bazel test, the tests again under ASan+UBSan (clang), a short run of
# each fuzzer, and programs built against the installed library (tools/install_test.sh);
# ends with the line `N passed, N failed, N skipped` and exits non-zero when anything
# failed or did not run (tools/test_summary.py says why).
#   KILN_ASAN=0     skip the sanitizer pass
#   FUZZ_SECONDS=N  time per fuzzer (default 5)
set -uo pipefail
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d)
runs=()
extras=()

# The test targets that must report a result (`bazel test //...` skips manual ones). A
# BUILD file that does not load makes the query fail: the summary then fails too.
targets="$log_dir/targets.txt"
if ! bazel query 'tests(//...) except attr(tags, "manual", tests(//...))' \
    > "$targets" 2> "$log_dir/query.log"; then
  grep -E '^ERROR' "$log_dir/query.log" | head -20
  echo "bazel query failed: the list of test targets is incomplete" >&2
  : > "$targets"
fi

# run_config NAME [BAZEL_FLAGS...]: `bazel test //...` in one configuration.
run_config() {
  local name=$1
  shift
  echo "== bazel test $* //... =="
  bazel test "$@" //... --keep_going --test_summary=short --show_progress_rate_limit=30 \
    2>&1 | tee "$log_dir/$name.log"
  local code=${PIPESTATUS[0]}
  local testlogs
  testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  runs+=(--run "$name" "$log_dir/$name.log" "$testlogs" "$code" "$targets")
}

run_config default
if [[ "${KILN_ASAN:-1}" != "0" ]]; then
  run_config asan --config=asan
fi

echo "== fuzzers (${FUZZ_SECONDS:-5}s each) =="
touch "$log_dir/fuzz_results.txt"
# With the sanitizer pass done, the fuzzers link against its objects (a smoke run without
# coverage instrumentation of the libraries); otherwise they get their own fuzz build.
if [[ "${KILN_ASAN:-1}" != "0" ]]; then export FUZZ_CONFIG=${FUZZ_CONFIG:-asan}; fi
tools/run_fuzzers.sh "$log_dir/fuzz_results.txt"
echo "== installed library =="
tools/install_test.sh "$log_dir/fuzz_results.txt"
while read -r line; do extras+=(--extra "$line"); done < "$log_dir/fuzz_results.txt"

echo "== summary =="
python3 tools/test_summary.py "${runs[@]}" "${extras[@]}"
