#!/usr/bin/env bash
# The installed library as a user meets it: `tools/install.sh` into a temporary prefix,
# then the README's C++ example (examples/cpp/dense.cc) built with g++ and pkg-config and
# with CMake's find_package(Kiln), run, and checked to print [[5.5, 1]]; the libraries'
# sonames, exports and dynamic dependencies checked. Run by `make test` after the Bazel
# build (it installs what Bazel built). Writes NAME=pass|fail lines to $1 (the summary's
# extra results) and prints why a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
results=${1:-/dev/null}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

report() {  # report NAME CODE [WHY]
  if [[ $2 -eq 0 ]]; then
    echo "$1=pass" >> "$results"
    echo "install: $1 passed"
  else
    echo "$1=fail" >> "$results"
    echo "install: $1 FAILED${3:+: $3}"
  fi
}

# expect_output NAME EXPECTED COMMAND...: runs COMMAND and compares its stdout.
expect_output() {
  local name=$1 expected=$2
  shift 2
  local got
  got=$("$@" 2> "$work/$name.err")
  local code=$?
  if [[ $code -ne 0 || "$got" != "$expected" ]]; then
    report "$name" 1 "exit $code, printed '$got', expected '$expected'; $(head -c 2000 "$work/$name.err")"
  else
    report "$name" 0
  fi
}

if ! tools/install.sh "$prefix" > "$work/install.log" 2>&1; then
  report install-prefix 1 "$(cat "$work/install.log")"
  exit 0
fi
report install-prefix 0
lib="$prefix/lib"

# The README's example with plain g++ and pkg-config.
export PKG_CONFIG_PATH="$lib/pkgconfig"
if g++ -std=c++17 -o "$work/dense_pkgconfig" examples/cpp/dense.cc \
    $(pkg-config --cflags --libs kiln) -Wl,-rpath,"$lib" > "$work/gxx.log" 2>&1; then
  expect_output install-example-pkgconfig "[[5.5, 1]]" "$work/dense_pkgconfig"
else
  report install-example-pkgconfig 1 "$(head -c 3000 "$work/gxx.log")"
fi

# The same with CMake.
if cmake -S examples/cpp -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" > "$work/cmake.log" 2>&1 &&
    cmake --build "$work/cmake" >> "$work/cmake.log" 2>&1; then
  expect_output install-example-cmake "[[5.5, 1]]" "$work/cmake/dense"
else
  report install-example-cmake 1 "$(tail -c 3000 "$work/cmake.log")"
fi

# Sonames, and nothing exported but the API (kiln::, kiln_ and the version node).
code=0
why=""
for library in libkiln libkiln_runtime; do
  soname=$(readelf -d "$lib/$library.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  if [[ "$soname" != "$library.so.0" ]]; then code=1; why+="$library soname '$soname'; "; fi
  leaked=$(nm -DC --defined-only "$lib/$library.so" | awk '{$1=""; $2=""; print}' |
    grep -v -E '^ *(kiln::|kiln_|KILN_0|vtable for kiln::|typeinfo (name )?for kiln::|descriptor_table_proto_)' |
    head -5)
  if [[ -n "$leaked" ]]; then code=1; why+="$library exports $leaked; "; fi
done
report install-library-exports $code "$why"

# The runtime library runs artifacts without the compiler: no LLVM or MLIR.
compiler_deps=$(ldd "$lib/libkiln_runtime.so" | grep -E 'LLVM|MLIR|onnx' || true)
if [[ -n "$compiler_deps" ]]; then
  report install-runtime-ldd 1 "libkiln_runtime.so needs $compiler_deps"
else
  report install-runtime-ldd 0
fi
# The C API from C: examples/c/run_model.c linked with libkiln_runtime runs an artifact
# that the installed `kiln compile` made, with libkiln the graph it came from; both print
# the same y, and libkiln_runtime refuses the graph, naming libkiln.
model=tests/kiln/testdata/mlp.pbtxt
c_ok=0
c_why=""
if ! "$prefix/bin/kiln" compile "$model" -o "$work/mlp.kiln" --batch 2 > "$work/compile.log" 2>&1; then
  c_ok=1; c_why="kiln compile: $(tail -c 1000 "$work/compile.log")"
fi
for variant in kiln kiln-runtime; do
  if ! gcc -std=c11 -Wall -Werror -o "$work/run_model_$variant" examples/c/run_model.c \
      $(pkg-config --cflags --libs "$variant") -Wl,-rpath,"$lib" > "$work/gcc.log" 2>&1; then
    c_ok=1; c_why+="gcc with $variant: $(head -c 2000 "$work/gcc.log"); "
  fi
done
if [[ $c_ok -eq 0 ]]; then
  from_graph=$("$work/run_model_kiln" "$model" 2>&1)
  from_artifact=$("$work/run_model_kiln-runtime" "$work/mlp.kiln" 2>&1)
  refused=$("$work/run_model_kiln-runtime" "$model" 2>&1)
  refused_code=$?
  if [[ "$from_graph" != "y = [["* || "$from_graph" != "$from_artifact" ]]; then
    c_ok=1; c_why="graph printed '$from_graph', artifact '$from_artifact'"
  elif [[ $refused_code -eq 0 || "$refused" != *libkiln* ]]; then
    c_ok=1; c_why="libkiln_runtime opened a graph: exit $refused_code, '$refused'"
  fi
fi
report install-c-api $c_ok "$c_why"

# The Python package: `pip install` from python/ against the installed library (in a
# virtual environment over Debian's Python), then its tests on the installed package.
if /usr/bin/python3 -m venv --system-site-packages "$work/venv" > "$work/venv.log" 2>&1 &&
    (cd python && "$work/venv/bin/pip" install --no-build-isolation --no-deps --no-index -q . \
      >> "$work/venv.log" 2>&1) &&
    (cd "$work" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
      "$OLDPWD/python/tests" >> "$work/venv.log" 2>&1) &&
    (cd "$work" && "$work/venv/bin/python" -c 'import kiln, sys; sys.exit(not kiln.__file__.startswith(sys.prefix))'); then
  report install-python-pip 0
else
  report install-python-pip 1 "$(tail -c 3000 "$work/venv.log")"
fi
exit 0
