#!/usr/bin/env bash
# Builds every libFuzzer target of tests/fuzz (clang, ASan, UBSan) and runs each for
# FUZZ_SECONDS (default 5) over its seed corpus tests/fuzz/corpus/NAME (kept read-only:
# new inputs go to a scratch folder). Writes NAME=pass|fail lines to $1 if given.
#   FUZZ_CONFIG=fuzz (default): libraries instrumented for coverage, for real fuzzing.
#   FUZZ_CONFIG=asan: reuses the ASan build of the tests (a smoke run, as `make test` does).
set -uo pipefail
cd "$(dirname "$0")/.."
results=${1:-/dev/null}
seconds=${FUZZ_SECONDS:-5}
config=${FUZZ_CONFIG:-fuzz}
scratch=$(mktemp -d)

fuzzers=$(bazel query 'attr(linkopts, "-fsanitize=fuzzer", kind(cc_binary, //tests/fuzz/...))' 2>/dev/null)
if [[ -z "$fuzzers" ]]; then
  echo "no fuzz targets found under //tests/fuzz (bazel query failed or matched nothing)"
  echo "fuzz-targets=fail" >> "$results"
  exit 1
fi
if ! bazel build --config="$config" $fuzzers > "$scratch/build.log" 2>&1; then
  tail -30 "$scratch/build.log"
  echo "fuzz-build=fail" >> "$results"
  exit 1
fi
bin=$(bazel info --config="$config" bazel-bin 2>/dev/null)
failed=0
for target in $fuzzers; do
  name=${target##*:}
  seeds=()
  [[ -d "tests/fuzz/corpus/${name%_fuzzer}" ]] && seeds+=("tests/fuzz/corpus/${name%_fuzzer}")
  mkdir -p "$scratch/$name" out/fuzz-crashes
  if "$bin/tests/fuzz/$name" -max_total_time="$seconds" -rss_limit_mb=4096 \
      -artifact_prefix=out/fuzz-crashes/"$name"- \
      "$scratch/$name" "${seeds[@]}" > "$scratch/$name.log" 2>&1; then
    echo "$name: $(grep -o 'Done [0-9]* runs in [0-9]* second' "$scratch/$name.log"), no crash"
    echo "$name=pass" >> "$results"
  else
    tail -40 "$scratch/$name.log"
    echo "$name: CRASH (reproducer saved in out/fuzz-crashes/)"
    echo "$name=fail" >> "$results"
    failed=1
  fi
done
exit $failed
