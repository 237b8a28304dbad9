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

// A JSON number as read by ScanJsonDecimal: when `length` is nonzero and `truncated`
// false, its value is (-1)^negative * significand * 10^exponent exactly.
struct JsonDecimal {
  size_t length = 0;  // 0: the text does not start a JSON number
  bool negative = false;
  uint64_t significand = 0;
  int64_t exponent = 0;
  bool truncated = false;  // more significant digits than kMaxFastDigits
};

// Significant digits a JsonDecimal keeps: below 2^63, so a signed conversion to double.
constexpr int kMaxFastDigits = 18;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Eight ASCII characters loaded little-endian (the first in the low byte): whether all
// are digits, and their value as an eight-digit decimal. JSON writers print floats with
// 16 or 17 digits, which one comparison and three multiplications per eight digits read
// faster than a loop over each.
bool AreEightDigits(uint64_t chunk) {
  // Each byte's high nibble is 3, and adding 6 does not carry out of its low nibble.
  return ((chunk & 0xF0F0F0F0F0F0F0F0) |
          (((chunk + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) == 0x3333333333333333;
}

uint64_t EightDigitsValue(uint64_t chunk) {
  chunk -= 0x3030303030303030;  // bytes d0..d7, d0 the most significant digit
  // Pairs: byte 2i becomes 10 d(2i) + d(2i+1).
  chunk = (chunk * 10 + (chunk >> 8)) & 0x00FF00FF00FF00FF;
  // Quads: 16-bit lane 2i becomes 100 pair(2i) + pair(2i+1).
  chunk = (chunk * 100 + (chunk >> 16)) & 0x0000FFFF0000FFFF;
  // Both quads: 10000 quad0 + quad1.
  return ((chunk * 10000 + (chunk >> 32)) & 0xFFFFFFFF);
}

// Reads RFC 8259's number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as far as
// it goes, collecting the digits on the way. The text must be readable 8 bytes past its
// NUL. The digits accumulate in locals (a loop over the struct's fields would store and
// reload them at every digit).
JsonDecimal ScanJsonDecimal(const char* text) {
  uint64_t significand = 0;
  int64_t exponent = 0;
  int digits = 0;
  bool truncated = false;
  // Reads the digits at p (`fraction`: they follow the point, so each one taken lowers
  // the exponent). Zeros before the first significant digit only move the exponent;
  // digits past kMaxFastDigits are dropped, which keeps the value exact only where they
  // are zeros.
  auto take_digits = [&](const char*& p, bool fraction) __attribute__((always_inline)) {
    while (significand == 0 && *p == '0') {
      ++p;
      exponent -= fraction;
    }
    for (;;) {
      uint64_t chunk;
      std::memcpy(&chunk, p, sizeof(chunk));
      if (digits + 8 > kMaxFastDigits || !AreEightDigits(chunk)) break;
      significand = significand * 100000000 + EightDigitsValue(chunk);
      digits += 8;
      exponent -= 8 * fraction;
      p += 8;
    }
    for (; IsDigit(*p); ++p) {
      if (digits < kMaxFastDigits) {
        significand = significand * 10 + static_cast<uint64_t>(*p - '0');
        ++digits;
        exponent -= fraction;
      } else {
        exponent += !fraction;
        truncated |= *p != '0';
      }
    }
  };
  const char* p = text;
  const bool negative = *p == '-';
  p += negative;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    take_digits(p, /*fraction=*/false);
  } else {
    return JsonDecimal();
  }
  if (*p == '.') {
    if (!IsDigit(*++p)) return JsonDecimal();
    take_digits(p, /*fraction=*/true);
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    const bool negative_exponent = *p == '-';
    p += *p == '+' || *p == '-';
    if (!IsDigit(*p)) return JsonDecimal();
    int64_t power = 0;
    // Saturates: an exponent past 10^9 is out of every type's range alone.
    do power = std::min<int64_t>(power * 10 + (*p++ - '0'), int64_t{1} << 30);
    while (IsDigit(*p));
    exponent += negative_exponent ? -power : power;
  }
  JsonDecimal decimal;
  decimal.length = static_cast<size_t>(p - text);
  decimal.negative = negative;
  decimal.significand = significand;
  decimal.exponent = exponent;
  decimal.truncated = truncated;
  return decimal;
}

// Powers of ten exact as doubles (5^22 < 2^53).
constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int64_t kMaxExactPowerOfTen = 22;

// The decimal rounded to the nearest float without from_chars, where double arithmetic
// can tell it: q = double(significand) / or * 10^|exponent| is within 2^-52 of the
// decimal's value (two roundings of 2^-53 each; the power of ten is exact), so float(q)
// is the decimal's own rounding unless q lies within that error of a halfway point
// between two floats, which is checked. Returns false where it cannot tell (the caller
// takes from_chars' path): too many digits, a power of ten past 10^22, near a halfway
// point (about one value in 2^27), or a result that overflows float.
bool DecimalToFloat(const JsonDecimal& decimal, float* out) {
  if (decimal.truncated) return false;
  if (decimal.significand == 0) {
    *out = decimal.negative ? -0.0f : 0.0f;
    return true;
  }
  if (decimal.exponent < -kMaxExactPowerOfTen || decimal.exponent > kMaxExactPowerOfTen) {
    return false;
  }
  double q = static_cast<double>(static_cast<int64_t>(decimal.significand));
  q = decimal.exponent < 0 ? q / kExactPowersOfTen[-decimal.exponent]
                           : q * kExactPowersOfTen[decimal.exponent];
  const float value = static_cast<float>(q);
  if (std::isinf(value)) return false;  // from_chars' path says it is out of range
  // The gap from value to the halfway point on q's side: half an ulp, or a quarter
  // just below a power of two (whose lower neighbour is closer); the smaller one where
  // value is a power of two, which only errs towards from_chars. value is normal here
  // (q >= 10^-22), so its ulp is 2^(its exponent - 23).
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint32_t ulp_bits = (bits & 0x7F800000u) - (23u << 23);
  float ulp;
  std::memcpy(&ulp, &ulp_bits, sizeof(ulp));
  const double half_gap = (bits & 0x007FFFFFu) == 0 ? 0.25 * ulp : 0.5 * ulp;
  const double off = std::fabs(q - static_cast<double>(value));  // exact
  if (half_gap - off <= q * 0x1p-51) return false;
  *out = decimal.negative ? -value : value;
  return true;
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

size_t ReadJsonNumber(const char* text, DataType dtype, void* out, absl::Status* error) {
  const JsonDecimal decimal = ScanJsonDecimal(text);
  if (decimal.length == 0) return 0;
  if (dtype == DataType::kF32 && DecimalToFloat(decimal, static_cast<float*>(out))) {
    return decimal.length;
  }
  *error = ParseNumber(absl::string_view(text, decimal.length), dtype, out);
  return decimal.length;
}

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
