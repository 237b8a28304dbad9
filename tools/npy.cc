// .npy parsing and serialization: a strict reader for the header dict NumPy writes
// (a Python literal) and a writer producing the same layout as numpy.save.
#include "tools/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/half.h"
#include "base/status_macros.h"

// Tensor bytes are host order and .npy data is little-endian; Kiln only targets
// little-endian hosts, so data is copied as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy I/O assumes a little-endian host");

namespace kiln {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// NumPy aligns the start of the data to this many bytes.
constexpr size_t kAlignment = 64;
// NumPy's limit on dimensions (NPY_MAXDIMS in NumPy 2).
constexpr int kMaxRank = 64;
// Real headers are under 2 KiB even at 64 dimensions; NumPy's own limit is 10000.
constexpr size_t kMaxHeaderSize = 1 << 20;

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed .npy header: ", what));
}

// The header dict after parsing: each field set once.
struct Header {
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
};

// Recursive-descent parser for the header's Python dict literal. Accepts what NumPy
// itself writes and what Python's literal syntax allows for these three keys (either
// quote style, any whitespace, trailing commas, keys in any order); nothing nests deeper
// than the shape tuple, so hostile input cannot exhaust the stack.
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Header> Parse() {
    Header header;
    SkipSpace();
    if (!Consume('{')) return Malformed("expected '{' at the start of the header dict");
    SkipSpace();
    while (!Consume('}')) {
      ASSIGN_OR_RETURN(std::string key, ParseString("a key"));
      SkipSpace();
      if (!Consume(':')) return Malformed(absl::StrCat("expected ':' after key '", key, "'"));
      SkipSpace();
      if (key == "descr") {
        if (header.descr) return Malformed("key 'descr' appears twice");
        if (Peek() == '[') {
          return absl::InvalidArgumentError(
              "structured dtypes (a 'descr' list of fields) are not supported");
        }
        ASSIGN_OR_RETURN(header.descr, ParseString("the value of 'descr'"));
      } else if (key == "fortran_order") {
        if (header.fortran_order) return Malformed("key 'fortran_order' appears twice");
        ASSIGN_OR_RETURN(header.fortran_order, ParseBool());
      } else if (key == "shape") {
        if (header.shape) return Malformed("key 'shape' appears twice");
        ASSIGN_OR_RETURN(header.shape, ParseShape());
      } else {
        return Malformed(absl::StrCat("unexpected key '", absl::CHexEscape(key),
                                      "' (expected 'descr', 'fortran_order', 'shape')"));
      }
      SkipSpace();
      if (Consume(',')) {
        SkipSpace();
      } else if (Peek() != '}') {
        return Malformed("expected ',' or '}' after a value of the header dict");
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) return Malformed("unexpected text after the header dict");
    if (!header.descr) return Malformed("missing key 'descr'");
    if (!header.fortran_order) return Malformed("missing key 'fortran_order'");
    if (!header.shape) return Malformed("missing key 'shape'");
    return header;
  }

 private:
  int Peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1; }

  bool Consume(char c) {
    if (Peek() != static_cast<unsigned char>(c)) return false;
    ++pos_;
    return true;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // A quoted string without escapes (none of the valid keys or dtypes needs one).
  absl::StatusOr<std::string> ParseString(absl::string_view what) {
    int quote = Peek();
    if (quote != '\'' && quote != '"') return Malformed(absl::StrCat("expected a string as ", what));
    size_t end = text_.find(static_cast<char>(quote), pos_ + 1);
    if (end == absl::string_view::npos) return Malformed("unterminated string");
    absl::string_view body = text_.substr(pos_ + 1, end - pos_ - 1);
    if (body.find('\\') != absl::string_view::npos) {
      return Malformed("escape sequences in strings are not supported");
    }
    pos_ = end + 1;
    return std::string(body);
  }

  absl::StatusOr<bool> ParseBool() {
    if (ConsumeWord("True")) return true;
    if (ConsumeWord("False")) return false;
    return Malformed("the value of 'fortran_order' must be True or False");
  }

  // A tuple of non-negative integers: "()", "(3,)", "(2, 3)", "(2, 3,)". "(3)" is an int
  // in Python, not a tuple, and is rejected as NumPy would.
  absl::StatusOr<std::vector<int64_t>> ParseShape() {
    if (!Consume('(')) return Malformed("the value of 'shape' must be a tuple such as (2, 3)");
    std::vector<int64_t> dims;
    bool trailing_comma = false;
    SkipSpace();
    while (!Consume(')')) {
      if (static_cast<int>(dims.size()) >= kMaxRank) {
        return absl::InvalidArgumentError(
            absl::StrCat("shape has more than ", kMaxRank, " dimensions"));
      }
      ASSIGN_OR_RETURN(int64_t dim, ParseDim(static_cast<int>(dims.size())));
      dims.push_back(dim);
      SkipSpace();
      trailing_comma = Consume(',');
      SkipSpace();
      if (!trailing_comma && Peek() != ')') {
        return Malformed("expected ',' or ')' in the shape tuple");
      }
    }
    if (dims.size() == 1 && !trailing_comma) {
      return Malformed("the value of 'shape' is an integer, not a tuple (write (n,))");
    }
    return dims;
  }

  absl::StatusOr<int64_t> ParseDim(int index) {
    if (Peek() == '-') {
      return absl::InvalidArgumentError(absl::StrCat("shape dimension ", index, " is negative"));
    }
    if (!absl::ascii_isdigit(Peek())) return Malformed("expected an integer in the shape tuple");
    int64_t value = 0;
    while (absl::ascii_isdigit(Peek())) {
      value = value * 10 + (Peek() - '0');
      // Checked per digit, so the accumulator never comes near int64 overflow.
      if (value > kMaxElements) {
        return absl::InvalidArgumentError(
            absl::StrCat("shape dimension ", index, " exceeds 2^40 elements"));
      }
      ++pos_;
    }
    Consume('L');  // Python 2 longs, as written by old NumPy versions.
    return value;
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

// Maps a descr to a kiln dtype, or explains why it has none.
absl::StatusOr<DataType> DataTypeFromDescr(const std::string& descr) {
  auto unsupported = [&] {
    return absl::InvalidArgumentError(absl::StrCat("unsupported dtype '", absl::CHexEscape(descr),
                                                   "' (supported: <f4 <f8 <f2 |i1 |u1 <i4 <i8 |b1)"));
  };
  if (descr.size() < 3) return unsupported();
  char order = descr[0];
  absl::string_view kind = absl::string_view(descr).substr(1);
  struct Entry {
    absl::string_view kind;
    DataType dtype;
  };
  static constexpr Entry kTable[] = {
      {"f4", DataType::kF32}, {"f8", DataType::kF64}, {"f2", DataType::kF16},
      {"i1", DataType::kI8},  {"u1", DataType::kU8},  {"i4", DataType::kI32},
      {"i8", DataType::kI64}, {"b1", DataType::kBool},
  };
  std::optional<DataType> dtype;
  for (const Entry& e : kTable) {
    if (e.kind == kind) dtype = e.dtype;
  }
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    return absl::InvalidArgumentError(absl::StrCat("dtype '", absl::CHexEscape(descr),
                                                   "' has no byte order mark (<, >, |, =)"));
  }
  if (!dtype) return unsupported();
  // Byte order is meaningless for one-byte types; NumPy itself writes '|'.
  if (DataTypeSize(*dtype) == 1) return *dtype;
  if (order == '>') {
    return absl::InvalidArgumentError(absl::StrCat(
        "big-endian dtype '", descr, "' is not supported; convert with arr.astype('<", kind, "')"));
  }
  if (order != '<') {
    return absl::InvalidArgumentError(absl::StrCat(
        "dtype '", descr, "' does not state little-endian byte order ('<", kind, "')"));
  }
  return *dtype;
}

absl::string_view DescrOf(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return "<f4";
    case DataType::kBF16: return "<f4";  // widened on write
    case DataType::kF64: return "<f8";
    case DataType::kF16: return "<f2";
    case DataType::kI8: return "|i1";
    case DataType::kU8: return "|u1";
    case DataType::kI32: return "<i4";
    case DataType::kI64: return "<i8";
    case DataType::kBool: return "|b1";
    case DataType::kInvalid: break;
  }
  return "";
}

uint32_t ReadLittleEndian(absl::string_view bytes, size_t offset, int width) {
  uint32_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  }
  return value;
}

std::string ShapeTuple(const Shape& shape) {
  if (shape.rank() == 1) return absl::StrCat("(", shape.dim(0), ",)");
  return absl::StrCat("(", absl::StrJoin(shape.dims(), ", "), ")");
}

// The magic, version, length and padded header dict for a tensor of `dtype` and `shape`.
std::string MakeHeader(absl::string_view descr, const Shape& shape) {
  std::string dict = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ",
                                  ShapeTuple(shape), ", }");
  for (int major = 1; major <= 2; ++major) {
    size_t prefix = kMagicSize + 2 + (major == 1 ? 2 : 4);
    size_t unpadded = prefix + dict.size() + 1;  // + the closing newline
    size_t header_len = dict.size() + 1 + (kAlignment - unpadded % kAlignment) % kAlignment;
    if (major == 1 && header_len > 0xffff) continue;
    std::string out(kMagic, kMagicSize);
    out.push_back(static_cast<char>(major));
    out.push_back(0);
    for (int i = 0; i < (major == 1 ? 2 : 4); ++i) {
      out.push_back(static_cast<char>((header_len >> (8 * i)) & 0xff));
    }
    out += dict;
    out.append(header_len - dict.size() - 1, ' ');
    out.push_back('\n');
    return out;
  }
  return "";  // unreachable: a version 2.0 header holds 4 GiB
}

// What the magic, version and header dict say about the data that follows.
struct Layout {
  std::string descr;
  DataType dtype = DataType::kInvalid;
  Shape shape;
  size_t data_start = 0;    // offset of the first data byte
  uint64_t data_bytes = 0;  // data length the shape and dtype need

  // "shape (2, 3) of '<f4' needs 24 bytes"
  std::string Describe() const {
    return absl::StrCat("shape ", ShapeTuple(shape), " of '", descr, "' needs ", data_bytes,
                        " bytes");
  }
};

// The offset where the header dict ends (the data starts), read from the first bytes of
// a file; bytes.size() when they are too few or not an .npy prefix (ParseLayout then
// reports why). Lets ReadNpy read a file's header without reading the whole file.
size_t HeaderEnd(absl::string_view bytes) {
  if (bytes.size() < kMagicSize + 2 || bytes.substr(0, kMagicSize) != absl::string_view(kMagic, kMagicSize)) {
    return bytes.size();
  }
  int width = bytes[6] == 1 ? 2 : 4;
  if (bytes.size() < kMagicSize + 2 + width) return bytes.size();
  size_t header_len = ReadLittleEndian(bytes, kMagicSize + 2, width);
  if (header_len > kMaxHeaderSize) return bytes.size();
  return kMagicSize + 2 + width + header_len;
}

// Parses everything before the data; `bytes` may end anywhere after the header.
absl::StatusOr<Layout> ParseLayout(absl::string_view bytes) {
  if (bytes.size() < kMagicSize || bytes.substr(0, kMagicSize) != absl::string_view(kMagic, kMagicSize)) {
    return absl::InvalidArgumentError("not an .npy file (it does not start with \"\\x93NUMPY\")");
  }
  if (bytes.size() < kMagicSize + 2) return absl::InvalidArgumentError("truncated .npy file: no version");
  int major = static_cast<unsigned char>(bytes[6]);
  int minor = static_cast<unsigned char>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported .npy format version ", major, ".",
                                                   minor, " (supported: 1.0, 2.0, 3.0)"));
  }
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 (UTF-8 header) in 4.
  int length_width = major == 1 ? 2 : 4;
  size_t header_start = kMagicSize + 2 + length_width;
  if (bytes.size() < header_start) {
    return absl::InvalidArgumentError("truncated .npy file: no header length");
  }
  size_t header_len = ReadLittleEndian(bytes, kMagicSize + 2, length_width);
  if (header_len > kMaxHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the .npy header declares ", header_len, " bytes, more than the limit of ", kMaxHeaderSize));
  }
  if (bytes.size() - header_start < header_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncated .npy file: the header declares ", header_len, " bytes, only ",
                     bytes.size() - header_start, " follow"));
  }
  ASSIGN_OR_RETURN(Header header, HeaderParser(bytes.substr(header_start, header_len)).Parse());

  Layout layout;
  layout.descr = *header.descr;
  ASSIGN_OR_RETURN(layout.dtype, DataTypeFromDescr(layout.descr));
  if (*header.fortran_order) {
    return absl::InvalidArgumentError(
        "Fortran-order (column-major) arrays are not supported; save "
        "np.ascontiguousarray(arr) instead");
  }
  layout.shape = Shape(*header.shape);
  RETURN_IF_ERROR(ValidateShape(layout.shape));
  layout.data_start = header_start + header_len;
  // ValidateShape bounds the element count by 2^40, so the byte count cannot overflow.
  layout.data_bytes =
      static_cast<uint64_t>(layout.shape.NumElements()) * DataTypeSize(layout.dtype);
  return layout;
}

// Appends bytes from `file` to `bytes` until it holds `size` bytes or the file ends.
// Returns false on a read error (errno set).
bool ReadUpTo(std::FILE* file, uint64_t size, std::string& bytes) {
  char buffer[1 << 16];
  while (bytes.size() < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(buffer), size - bytes.size()));
    size_t n = std::fread(buffer, 1, want, file);
    bytes.append(buffer, n);
    if (n < want) return std::ferror(file) == 0;
  }
  return true;
}

// The tensor whose bytes go into the file: bf16 widened to f32, others unchanged.
absl::StatusOr<Tensor> StorableTensor(const Tensor& tensor) {
  if (!tensor.valid()) return absl::InvalidArgumentError("cannot write an invalid tensor as .npy");
  RETURN_IF_ERROR(ValidateShape(tensor.shape()));
  if (!tensor.shape().IsFullyKnown()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write a tensor of unknown shape ", tensor.shape().ToString()));
  }
  if (tensor.raw_data() == nullptr && tensor.NumElements() > 0) {
    return absl::InvalidArgumentError("cannot write a tensor without data");
  }
  if (tensor.dtype() != DataType::kBF16) return tensor;
  ASSIGN_OR_RETURN(Tensor wide, Tensor::Allocate(DataType::kF32, tensor.shape()));
  for (int64_t i = 0; i < tensor.NumElements(); ++i) {
    wide.data<float>()[i] = BFloat16ToFloat(tensor.data<BFloat16>()[i]);
  }
  return wide;
}

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes) {
  ASSIGN_OR_RETURN(Layout layout, ParseLayout(bytes));
  uint64_t actual = bytes.size() - layout.data_start;
  if (actual < layout.data_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("truncated .npy data: ", layout.Describe(),
                                                   ", the file has ", actual));
  }
  if (actual > layout.data_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("trailing bytes after the .npy data: ", layout.Describe()));
  }
  absl::string_view data = bytes.substr(layout.data_start);
  ASSIGN_OR_RETURN(Tensor tensor,
                   Tensor::FromBytes(layout.dtype, layout.shape,
                                     absl::Span<const uint8_t>(
                                         reinterpret_cast<const uint8_t*>(data.data()), data.size())));
  if (layout.dtype == DataType::kBool) {
    uint8_t* values = tensor.data<uint8_t>();
    for (int64_t i = 0; i < tensor.NumElements(); ++i) values[i] = values[i] != 0 ? 1 : 0;
  }
  return tensor;
}

absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor) {
  ASSIGN_OR_RETURN(Tensor stored, StorableTensor(tensor));
  std::string out = MakeHeader(DescrOf(stored.dtype()), stored.shape());
  absl::Span<const uint8_t> data = stored.bytes();
  out.append(reinterpret_cast<const char*>(data.data()), data.size());
  return out;
}

absl::StatusOr<Tensor> ReadNpy(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  // Read the header first, then only as much data as it announces (plus one byte to
  // detect trailing data), so a wrong multi-gigabyte file fails fast. The buffer grows
  // with what the file really holds, never with what a header claims.
  std::string bytes;
  bool ok = ReadUpTo(file, kMagicSize + 6, bytes) && ReadUpTo(file, HeaderEnd(bytes), bytes);
  absl::StatusOr<Layout> layout = ParseLayout(bytes);
  if (ok && layout.ok()) ok = ReadUpTo(file, layout->data_start + layout->data_bytes + 1, bytes);
  int error = errno;
  std::fclose(file);
  if (!ok) {
    return absl::DataLossError(absl::StrCat("cannot read '", path, "': ", std::strerror(error)));
  }
  absl::StatusOr<Tensor> tensor = ParseNpy(bytes);
  if (!tensor.ok()) return WithPath(path, tensor.status());
  return tensor;
}

absl::Status WriteNpy(const Tensor& tensor, const std::string& path) {
  // The header and the data are written separately so the data is not copied.
  absl::StatusOr<Tensor> stored = StorableTensor(tensor);
  if (!stored.ok()) return WithPath(path, stored.status());
  std::string header = MakeHeader(DescrOf(stored->dtype()), stored->shape());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
  }
  absl::Span<const uint8_t> data = stored->bytes();
  bool ok = std::fwrite(header.data(), 1, header.size(), file) == header.size() &&
            (data.empty() || std::fwrite(data.data(), 1, data.size(), file) == data.size());
  int error = errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    return absl::DataLossError(absl::StrCat("writing '", path, "' failed: ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace kiln
