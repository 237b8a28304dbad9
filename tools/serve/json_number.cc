#include "tools/serve/json_number.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/half.h"

namespace kiln::serve {
namespace {

// The number as an error quotes it: a body may hold a number of a million digits.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxQuoted = 40;
  if (text.size() <= kMaxQuoted) return std::string(text);
  return absl::StrCat(text.substr(0, kMaxQuoted), "...");
}

absl::Status OutOfRange(absl::string_view text, DataType dtype) {
  return absl::InvalidArgumentError(
      absl::StrCat("value ", Quote(text), " out of range for ", DataTypeName(dtype)));
}

absl::Status NotAnInteger(absl::string_view text, DataType dtype) {
  return absl::InvalidArgumentError(
      absl::StrCat("value ", Quote(text), " is not an integer for ", DataTypeName(dtype)));
}

absl::Status NotANumber(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("value ", Quote(text), " is not a number"));
}

// For a decimal that from_chars found out of range: true when its magnitude is at least 1
// (the type overflowed), false when it is below 1 (it underflowed to zero). Reads the
// position of the first nonzero digit and the exponent, never the value.
bool MagnitudeAtLeastOne(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  int64_t integer_digits = 0;
  int64_t digits = 0;
  int64_t first_nonzero = -1;
  bool after_point = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      after_point = true;
      continue;
    }
    if (first_nonzero < 0 && text[i] != '0') first_nonzero = digits;
    ++digits;
    if (!after_point) ++integer_digits;
  }
  if (first_nonzero < 0) return false;  // zero is never out of range
  int64_t exponent = 0;
  bool negative_exponent = false;
  if (i < text.size()) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    // Saturates: any exponent past 10^12 decides the answer alone.
    for (; i < text.size(); ++i) {
      if (exponent < int64_t{1} << 40) exponent = exponent * 10 + (text[i] - '0');
    }
  }
  if (negative_exponent) exponent = -exponent;
  // The leading digit's power of ten: "123.4" -> 2, "0.001" -> -3.
  return integer_digits - first_nonzero - 1 + exponent >= 0;
}

template <typename F>
absl::Status ParseFloating(absl::string_view text, DataType dtype, F* value) {
  const char* end = text.data() + text.size();
  std::from_chars_result result = std::from_chars(text.data(), end, *value);
  if (result.ptr != end) return NotANumber(text);
  if (result.ec == std::errc::result_out_of_range) {
    if (MagnitudeAtLeastOne(text)) return OutOfRange(text, dtype);
    *value = text[0] == '-' ? -F{0} : F{0};
  } else if (result.ec != std::errc()) {
    return NotANumber(text);
  }
  return absl::OkStatus();
}

// f16 and bf16 read through f32; a finite reading that rounds to infinity is out of range.
template <typename H, typename FromFloat, typename ToFloat>
absl::Status ParseHalf(absl::string_view text, DataType dtype, FromFloat from_float,
                       ToFloat to_float, void* out) {
  float value;
  absl::Status status = ParseFloating(text, dtype, &value);
  if (!status.ok()) return status;
  H half = from_float(value);
  if (std::isfinite(value) && std::isinf(to_float(half))) return OutOfRange(text, dtype);
  std::memcpy(out, &half, sizeof(H));
  return absl::OkStatus();
}

template <typename I>
absl::Status ParseInteger(absl::string_view text, DataType dtype, void* out) {
  const char* end = text.data() + text.size();
  int64_t whole = 0;
  std::from_chars_result result = std::from_chars(text.data(), end, whole);
  if (result.ptr == end && result.ec == std::errc::result_out_of_range) {
    return OutOfRange(text, dtype);
  }
  if (result.ptr != end || result.ec != std::errc()) {
    // A fraction, an exponent, NaN or Infinity: fine when the value is integral.
    // Not through ParseFloating: an underflow to zero must not pass as the integer 0.
    double value = 0.0;
    result = std::from_chars(text.data(), end, value);
    if (result.ptr != end) return NotANumber(text);
    if (result.ec == std::errc::result_out_of_range) {
      return MagnitudeAtLeastOne(text) ? OutOfRange(text, dtype) : NotAnInteger(text, dtype);
    }
    if (result.ec != std::errc()) return NotANumber(text);
    if (std::isinf(value)) return OutOfRange(text, dtype);
    if (!(value == std::trunc(value))) return NotAnInteger(text, dtype);  // NaN too
    // max + 1 is a power of two, exact as a double (2^63 for i64, whose max is not).
    constexpr double kMin = static_cast<double>(std::numeric_limits<I>::min());
    constexpr double kMaxPlusOne = static_cast<double>(std::numeric_limits<I>::max() / 2 + 1) * 2;
    if (value < kMin || value >= kMaxPlusOne) return OutOfRange(text, dtype);
    I narrow = static_cast<I>(value);
    std::memcpy(out, &narrow, sizeof(I));
    return absl::OkStatus();
  }
  if (whole < static_cast<int64_t>(std::numeric_limits<I>::min()) ||
      whole > static_cast<int64_t>(std::numeric_limits<I>::max())) {
    return OutOfRange(text, dtype);
  }
  I narrow = static_cast<I>(whole);
  std::memcpy(out, &narrow, sizeof(I));
  return absl::OkStatus();
}

template <typename F>
absl::string_view FormatFloating(F value, char* buf) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  // Leaves room for the ".0" below.
  char* end = std::to_chars(buf, buf + kMaxElementChars - 2, value).ptr;
  if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
    *end++ = '.';
    *end++ = '0';
  }
  return absl::string_view(buf, end - buf);
}

// The fewest significant digits whose f32 reading rounds back to the same 16 bits, then
// printed as the shortest f32 text of that reading: bf16 0.1 prints "0.1", not the nine
// digits of the f32 it widens to (0.100097656).
template <typename H, typename FromFloat>
absl::string_view FormatHalf(float value, H half, FromFloat from_float, char* buf) {
  if (!std::isfinite(value)) return FormatFloating(value, buf);
  for (int precision = 0; precision < 9; ++precision) {
    char* end =
        std::to_chars(buf, buf + kMaxElementChars, value, std::chars_format::scientific, precision)
            .ptr;
    float reading = 0.0f;
    std::from_chars_result result = std::from_chars(buf, end, reading);
    if (result.ec == std::errc() && from_float(reading).bits == half.bits) {
      return FormatFloating(reading, buf);
    }
  }
  return FormatFloating(value, buf);
}

template <typename T>
T Load(const void* element) {
  T value;
  std::memcpy(&value, element, sizeof(T));
  return value;
}

absl::string_view FormatInteger(int64_t value, char* buf) {
  char* end = std::to_chars(buf, buf + kMaxElementChars, value).ptr;
  return absl::string_view(buf, end - buf);
}

}  // namespace

absl::Status ParseNumber(absl::string_view text, DataType dtype, void* out) {
  switch (dtype) {
    case DataType::kF32:
      return ParseFloating(text, dtype, static_cast<float*>(out));
    case DataType::kF64:
      return ParseFloating(text, dtype, static_cast<double*>(out));
    case DataType::kF16:
      return ParseHalf<Half>(text, dtype, FloatToHalf, HalfToFloat, out);
    case DataType::kBF16:
      return ParseHalf<BFloat16>(text, dtype, FloatToBFloat16, BFloat16ToFloat, out);
    case DataType::kI8:
      return ParseInteger<int8_t>(text, dtype, out);
    case DataType::kU8:
      return ParseInteger<uint8_t>(text, dtype, out);
    case DataType::kI32:
      return ParseInteger<int32_t>(text, dtype, out);
    case DataType::kI64:
      return ParseInteger<int64_t>(text, dtype, out);
    case DataType::kBool:
    case DataType::kInvalid:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("value ", Quote(text), " is not a ", DataTypeName(dtype)));
}

absl::string_view FormatElement(DataType dtype, const void* element, char* buf) {
  switch (dtype) {
    case DataType::kF32:
      return FormatFloating(Load<float>(element), buf);
    case DataType::kF64:
      return FormatFloating(Load<double>(element), buf);
    case DataType::kF16: {
      Half half = Load<Half>(element);
      return FormatHalf(HalfToFloat(half), half, FloatToHalf, buf);
    }
    case DataType::kBF16: {
      BFloat16 half = Load<BFloat16>(element);
      return FormatHalf(BFloat16ToFloat(half), half, FloatToBFloat16, buf);
    }
    case DataType::kI8:
      return FormatInteger(Load<int8_t>(element), buf);
    case DataType::kU8:
      return FormatInteger(Load<uint8_t>(element), buf);
    case DataType::kI32:
      return FormatInteger(Load<int32_t>(element), buf);
    case DataType::kI64:
      return FormatInteger(Load<int64_t>(element), buf);
    case DataType::kBool:
      return Load<uint8_t>(element) != 0 ? "true" : "false";
    case DataType::kInvalid:
      break;
  }
  return "null";
}

}  // namespace kiln::serve
