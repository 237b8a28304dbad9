// JSON number text <-> one tensor element, for the REST codec: exact, range-checked
// parsing and the shortest text that reads back to the same element.
#ifndef KILN_TOOLS_SERVE_JSON_NUMBER_H_
#define KILN_TOOLS_SERVE_JSON_NUMBER_H_

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

// Writes the element at `element` (of `dtype`, anything but kInvalid) as JSON into `buf`
// (kMaxElementChars long) and returns the text. Floats get the shortest decimal that
// reads back to the same element through ParseNumber, with ".0" added to whole numbers
// as TF Serving does (so clients keep them floats); NaN, Infinity and -Infinity as
// words. Integers in decimal, bools as true/false. Thread-safe.
absl::string_view FormatElement(DataType dtype, const void* element, char* buf);

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_JSON_NUMBER_H_
