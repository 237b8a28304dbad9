#!/usr/bin/env bash
# `make install [PREFIX=/usr/local]`: installs what Bazel built (run `make build-install`
# first, which the Makefile does) into PREFIX:
#   include/kiln/...            the public headers (kiln/lib/public_headers.txt) and the
#                               project headers they include, at their repository paths
#   lib/libkiln.so.V            the compiler and runtime; libkiln.so.0, libkiln.so links
#   lib/libkiln_runtime.so.V    the runtime core alone; its links likewise
#   lib/pkgconfig/kiln.pc, kiln-runtime.pc
#   lib/cmake/Kiln/KilnConfig.cmake, KilnConfigVersion.cmake
#   bin/kiln, bin/kiln-serve, bin/kiln-runner
# DESTDIR is honoured as by GNU make's conventions (staged installs).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
dest="${DESTDIR:-}${prefix}"
bin=$(bazel info bazel-bin 2>/dev/null)

# The version lives in the C API's header: KILN_VERSION_MAJOR/MINOR/PATCH.
version_part() { sed -n "s/^#define KILN_VERSION_$1 \([0-9]*\).*/\1/p" kiln/c_api.h; }
major=$(version_part MAJOR)
minor=$(version_part MINOR)
patch=$(version_part PATCH)
if [[ -z "$major" || -z "$minor" || -z "$patch" ]]; then
  echo "install: no KILN_VERSION_MAJOR/MINOR/PATCH in kiln/c_api.h" >&2
  exit 1
fi
version="$major.$minor.$patch"

for built in kiln/lib/libkiln.so kiln/lib/libkiln_runtime.so tools/kiln tools/kiln-runner \
    tools/serve/kiln-serve; do
  if [[ ! -f "$bin/$built" ]]; then
    echo "install: $bin/$built is missing; run 'make install', which builds it" >&2
    exit 1
  fi
done

# Headers: the public ones and everything of the project they include, found by the
# compiler itself (-MM lists only non-system headers; generated ones are in bazel-bin).
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
{
  grep -v '^#' kiln/lib/public_headers.txt | sed 's|^|#include "|; s|$|"|'
  echo '#include "kiln/c_api.h"'
} | g++ -std=c++17 -x c++ -MM -MT all -I. -I"$bin" - \
  | tr ' \\' '\n\n' | grep -E '\.h$' > "$headers"
install -d "$dest/include/kiln"
while read -r header; do
  relative=${header#"$bin"/}
  install -D -m 644 "$header" "$dest/include/kiln/$relative"
done < "$headers"

# Libraries, named by version, with the soname link and the link-time name.
install -d "$dest/lib/pkgconfig" "$dest/lib/cmake/Kiln"
for library in libkiln libkiln_runtime; do
  install -m 755 "$bin/kiln/lib/$library.so" "$dest/lib/$library.so.$version"
  ln -sf "$library.so.$version" "$dest/lib/$library.so.$major"
  ln -sf "$library.so.$major" "$dest/lib/$library.so"
done

# pkg-config and CMake files from their templates.
fill() {
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@VERSION_MAJOR@|$major|g" \
    -e "s|@SOVERSION@|$major|g" "$1"
}
fill kiln/lib/kiln.pc.in > "$dest/lib/pkgconfig/kiln.pc"
fill kiln/lib/kiln-runtime.pc.in > "$dest/lib/pkgconfig/kiln-runtime.pc"
fill kiln/lib/KilnConfig.cmake.in > "$dest/lib/cmake/Kiln/KilnConfig.cmake"
fill kiln/lib/KilnConfigVersion.cmake.in > "$dest/lib/cmake/Kiln/KilnConfigVersion.cmake"

install -d "$dest/bin"
install -m 755 "$bin/tools/kiln" "$bin/tools/kiln-runner" "$bin/tools/serve/kiln-serve" \
  "$dest/bin/"
echo "installed Kiln $version into $dest ($(wc -l < "$headers") headers)"
