// JSON number text <-> one tensor element, for the REST codec: exact, range-checked
// parsing and the shortest text that reads back to the same element.
#ifndef KILN_TOOLS_SERVE_JSON_NUMBER_H_
#define KILN_TOOLS_SERVE_JSON_NUMBER_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/dtype.h"

namespace kiln::serve {

// Room FormatElement needs: the longest double ("-2.2250738585072014e-308") plus ".0".
inline constexpr int kMaxElementChars = 32;

// Parses `text`, one JSON number as RapidJSON hands it over with kParseNumbersAsStringsFlag
// (also NaN, Inf, Infinity, each optionally negative), into one element of the numeric
// `dtype` written at `out`. f32 and f64 round the decimal directly to nearest; f16 and
// bf16 round through f32 (base/half.h), the path FormatElement's output is checked against.
// Magnitudes below the smallest subnormal read as a signed zero. Integer types take
// integral values only ("2.0" and "1e3" are fine) and check the range.
// Errors (InvalidArgument, no input name): "value 3.5 is not an integer for i64",
// "value 300 out of range for i8", "value 1e39 out of range for f32".
// Thread-safe.
absl::Status ParseNumber(absl::string_view text, DataType dtype, void* out);

// Reads the JSON number starting at `text` into one element of the numeric `dtype` at
// `out`, as ParseNumber would read its text, and returns its length: RFC 8259's grammar,
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, read as far as it goes, which is where
// RapidJSON's number ends too. Returns 0, writing nothing, when `text` does not start
// one or it ends malformed ("1.", "-", "1e+"; NaN and Infinity too). `text` must be
// NUL-terminated with 7 readable bytes after the NUL (digits are read 8 at a time).
// A number ParseNumber refuses sets `*error` (left alone otherwise). f32 values of up
// to 18 significant digits and a power of ten within 10^+-22 (what JSON writers print)
// are rounded without from_chars, still exactly, at about a third of its cost.
// Thread-safe.
size_t ReadJsonNumber(const char* text, DataType dtype, void* out, absl::Status* error);

// Writes the element at `element` (of `dtype`, anything but kInvalid) as JSON into `buf`
// (kMaxElementChars long) and returns the text. Floats get the shortest decimal that
// reads back to the same element through ParseNumber, with ".0" added to whole numbers
// as TF Serving does (so clients keep them floats); NaN, Infinity and -Infinity as
// words. Integers in decimal, bools as true/false. Thread-safe.
absl::string_view FormatElement(DataType dtype, const void* element, char* buf);

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_JSON_NUMBER_H_
