// Tests of tools/npy: round trips for every dtype, files written by real NumPy
// (testdata/make_npy_fixtures.py), and every kind of malformed file.
#include "tools/npy.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "base/half.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const char kTestdata[] = "tests/tools/testdata/";

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// An .npy file with header dict `dict` (the newline is added) and `data`.
std::string Npy(absl::string_view dict, absl::string_view data, int major = 1) {
  std::string header = absl::StrCat(dict, "\n");
  std::string out = absl::StrCat("\x93NUMPY", std::string(1, static_cast<char>(major)),
                                 std::string(1, '\0'));
  int width = major == 1 ? 2 : 4;
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return absl::StrCat(out, header, data);
}

std::string F32Dict(absl::string_view shape) {
  return absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': ", shape, ", }");
}

std::string Bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.push_back(t.GetAsDouble(i));
  return out;
}

// Expects ParseNpy(bytes) to fail with InvalidArgument and `substring` in the message.
void ExpectRejected(const std::string& bytes, absl::string_view substring) {
  absl::StatusOr<Tensor> t = ParseNpy(bytes);
  ASSERT_FALSE(t.ok()) << "accepted; expected an error containing: " << substring;
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << t.status();
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(std::string(substring)));
}

// ---------------------------------------------------------------------------------------
// Files written by NumPy.

TEST(NpyNumPyFixturesTest, F32Matrix) {
  for (const char* file : {"f32_2x3.npy", "f32_2x3_v2.npy", "f32_2x3_v3.npy"}) {
    SCOPED_TRACE(file);
    absl::StatusOr<Tensor> t = ReadNpy(absl::StrCat(kTestdata, file));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->dtype(), DataType::kF32);
    EXPECT_EQ(t->shape(), (Shape{2, 3}));
    EXPECT_EQ(Values(*t), (std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0, 1.5}));
  }
}

TEST(NpyNumPyFixturesTest, F64Scalar) {
  absl::StatusOr<Tensor> t = ReadNpy(absl::StrCat(kTestdata, "f64_scalar.npy"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DataType::kF64);
  EXPECT_EQ(t->shape(), Shape{});
  EXPECT_EQ(t->data<double>()[0], 3.25);
}

TEST(NpyNumPyFixturesTest, F16) {
  absl::StatusOr<Tensor> t = ReadNpy(absl::StrCat(kTestdata, "f16_4.npy"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DataType::kF16);
  EXPECT_EQ(t->shape(), Shape{4});
  // IEEE half bit patterns of 1, -2, 0.5 and 65504 (the largest finite half).
  const uint16_t want[] = {0x3c00, 0xc000, 0x3800, 0x7bff};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t->data<Half>()[i].bits, want[i]) << i;
}

TEST(NpyNumPyFixturesTest, Integers) {
  absl::StatusOr<Tensor> i8 = ReadNpy(absl::StrCat(kTestdata, "i8_3.npy"));
  ASSERT_TRUE(i8.ok()) << i8.status();
  EXPECT_EQ(i8->dtype(), DataType::kI8);
  EXPECT_EQ(Values(*i8), (std::vector<double>{-128, 0, 127}));

  absl::StatusOr<Tensor> u8 = ReadNpy(absl::StrCat(kTestdata, "u8_2x2.npy"));
  ASSERT_TRUE(u8.ok()) << u8.status();
  EXPECT_EQ(u8->dtype(), DataType::kU8);
  EXPECT_EQ(u8->shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(*u8), (std::vector<double>{0, 1, 254, 255}));

  absl::StatusOr<Tensor> i32 = ReadNpy(absl::StrCat(kTestdata, "i32_0x3.npy"));
  ASSERT_TRUE(i32.ok()) << i32.status();
  EXPECT_EQ(i32->dtype(), DataType::kI32);
  EXPECT_EQ(i32->shape(), (Shape{0, 3}));
  EXPECT_EQ(i32->NumElements(), 0);

  absl::StatusOr<Tensor> i64 = ReadNpy(absl::StrCat(kTestdata, "i64_2.npy"));
  ASSERT_TRUE(i64.ok()) << i64.status();
  EXPECT_EQ(i64->dtype(), DataType::kI64);
  EXPECT_EQ(i64->GetAsInt64(0), -(int64_t{1} << 40));
  EXPECT_EQ(i64->GetAsInt64(1), int64_t{1} << 62);
}

TEST(NpyNumPyFixturesTest, Bool) {
  absl::StatusOr<Tensor> t = ReadNpy(absl::StrCat(kTestdata, "bool_5.npy"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DataType::kBool);
  EXPECT_EQ(Values(*t), (std::vector<double>{1, 0, 0, 1, 1}));
}

TEST(NpyNumPyFixturesTest, RejectedNumPyFiles) {
  struct Case {
    const char* file;
    const char* error;
  };
  for (const Case& c : {Case{"f32_fortran.npy", "Fortran-order"},
                        Case{"f32_bigendian.npy", "big-endian dtype '>f4'"},
                        Case{"u16_2.npy", "unsupported dtype '<u2'"}}) {
    std::string path = absl::StrCat(kTestdata, c.file);
    absl::StatusOr<Tensor> t = ReadNpy(path);
    ASSERT_FALSE(t.ok()) << c.file;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(t.status().message()), StartsWith(absl::StrCat(path, ": ")));
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.error));
  }
}

// The writer produces what numpy.save produces for the same array.
TEST(NpyNumPyFixturesTest, SerializeMatchesNumPyBytes) {
  Tensor t = Tensor::F32({2, 3}, {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});
  absl::StatusOr<std::string> bytes = SerializeNpy(t);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, ReadFile(absl::StrCat(kTestdata, "f32_2x3.npy")));
}

// ---------------------------------------------------------------------------------------
// Writing and round trips.

TEST(NpyWriteTest, HeaderLayout) {
  absl::StatusOr<std::string> bytes = SerializeNpy(Tensor::I32({3}, {1, 2, 3}));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GE(bytes->size(), 10u);
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  size_t header_len = static_cast<unsigned char>((*bytes)[8]) |
                      (static_cast<unsigned char>((*bytes)[9]) << 8);
  size_t data_start = 10 + header_len;
  EXPECT_EQ(data_start % 64, 0u);
  ASSERT_EQ(bytes->size(), data_start + 12);
  std::string header = bytes->substr(10, header_len);
  EXPECT_THAT(header, StartsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"));
  EXPECT_EQ(header.back(), '\n');

  absl::StatusOr<std::string> scalar = SerializeNpy(Tensor::ScalarF32(1.0f));
  ASSERT_TRUE(scalar.ok());
  EXPECT_THAT(*scalar, HasSubstr("'shape': (), }"));
}

// Distinct, exactly representable values for every dtype, including negatives where the
// dtype has them.
Tensor Sample(DataType dtype, const Shape& shape) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    if (dtype == DataType::kBool) {
      t.SetFromInt64(i, i % 3 == 0);
    } else if (dtype == DataType::kU8) {
      t.SetFromInt64(i, (i * 37) % 256);
    } else if (IsInteger(dtype)) {
      t.SetFromInt64(i, (i % 2 == 0 ? 1 : -1) * (i * 5 % 100));
    } else {
      t.SetFromDouble(i, (i % 2 == 0 ? 0.25 : -1.5) * static_cast<double>(i + 1));
    }
  }
  return t;
}

TEST(NpyWriteTest, RoundTripEveryDtypeAndShape) {
  const DataType dtypes[] = {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kI8,
                             DataType::kU8,  DataType::kI32, DataType::kI64, DataType::kBool};
  const Shape shapes[] = {Shape{}, Shape{0}, Shape{5}, Shape{2, 3}, Shape{2, 0, 4},
                          Shape{1, 2, 1, 3}};
  for (DataType dtype : dtypes) {
    for (const Shape& shape : shapes) {
      SCOPED_TRACE(absl::StrCat(DataTypeName(dtype), shape.ToString()));
      Tensor t = Sample(dtype, shape);
      absl::StatusOr<std::string> bytes = SerializeNpy(t);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      absl::StatusOr<Tensor> back = ParseNpy(*bytes);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->dtype(), dtype);
      EXPECT_EQ(back->shape(), shape);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(back->bytes().data()), back->ByteSize()),
                std::string(reinterpret_cast<const char*>(t.bytes().data()), t.ByteSize()));
    }
  }
}

TEST(NpyWriteTest, BFloat16IsWrittenAsF32) {
  Tensor t = Tensor::Allocate(DataType::kBF16, {3}).value();
  // 1.5, -3.0 and 2^-10 + 2^-17 (uses the low mantissa bits of bf16).
  t.data<BFloat16>()[0] = FloatToBFloat16(1.5f);
  t.data<BFloat16>()[1] = FloatToBFloat16(-3.0f);
  t.data<BFloat16>()[2] = FloatToBFloat16(0.0009765625f + 0.00000762939453125f);
  absl::StatusOr<std::string> bytes = SerializeNpy(t);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, HasSubstr("'descr': '<f4'"));
  absl::StatusOr<Tensor> back = ParseNpy(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dtype(), DataType::kF32);
  EXPECT_EQ(Values(*back),
            (std::vector<double>{1.5, -3.0, 0.0009765625 + 0.00000762939453125}));
}

TEST(NpyWriteTest, FileRoundTrip) {
  std::string path = TempPath("round_trip.npy");
  Tensor t = Sample(DataType::kI64, {4, 2});
  ASSERT_TRUE(WriteNpy(t, path).ok());
  absl::StatusOr<Tensor> back = ReadNpy(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->shape(), (Shape{4, 2}));
  for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(back->GetAsInt64(i), t.GetAsInt64(i)) << i;
}

TEST(NpyWriteTest, Errors) {
  absl::StatusOr<std::string> invalid = SerializeNpy(Tensor());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);

  std::string path = TempPath("no_such_dir/out.npy");
  absl::Status status = WriteNpy(Tensor::ScalarF32(1.0f), path);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
}

// ---------------------------------------------------------------------------------------
// Reading: accepted variants of the header.

TEST(NpyParseTest, AcceptsPythonLiteralVariants) {
  std::string data = Bytes({1, 2, 3, 4, 5, 6});
  for (const std::string& dict : {
           F32Dict("(2, 3)"),
           std::string("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}"),
           std::string("{'shape': (2,3,), 'fortran_order': False, 'descr': '<f4'}"),
           std::string("  {'descr':'<f4','fortran_order':False,'shape':(2L, 3L)}  "),
           std::string("{\n'descr': '<f4',\n'fortran_order': False,\n'shape': (2, 3),\n}"),
       }) {
    SCOPED_TRACE(dict);
    absl::StatusOr<Tensor> t = ParseNpy(Npy(dict, data));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->shape(), (Shape{2, 3}));
    EXPECT_EQ(Values(*t), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  }
  // Version 2.0 with a 4-byte header length.
  absl::StatusOr<Tensor> v2 = ParseNpy(Npy(F32Dict("(6,)"), data, 2));
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->shape(), Shape{6});
}

TEST(NpyParseTest, OneByteTypesIgnoreByteOrder) {
  for (const char* descr : {"|i1", "<i1", ">i1", "=i1"}) {
    absl::StatusOr<Tensor> t = ParseNpy(Npy(
        absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (2,), }"),
        std::string("\xff\x05", 2)));
    ASSERT_TRUE(t.ok()) << descr << ": " << t.status();
    EXPECT_EQ(t->dtype(), DataType::kI8);
    EXPECT_EQ(Values(*t), (std::vector<double>{-1, 5}));
  }
}

TEST(NpyParseTest, BoolBytesAreNormalized) {
  absl::StatusOr<Tensor> t = ParseNpy(
      Npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x02\xff", 3)));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->data<uint8_t>()[0], 0);
  EXPECT_EQ(t->data<uint8_t>()[1], 1);
  EXPECT_EQ(t->data<uint8_t>()[2], 1);
}

// ---------------------------------------------------------------------------------------
// Reading: malformed files, one case per check.

TEST(NpyMalformedTest, MagicAndVersion) {
  ExpectRejected("", "not an .npy file");
  ExpectRejected("PK\x03\x04 a zip file", "not an .npy file");
  ExpectRejected("\x93NUMPZ\x01\x00", "not an .npy file");
  ExpectRejected("\x93NUMPY", "no version");
  ExpectRejected(std::string("\x93NUMPY\x04\x00\x10\x00", 10), "unsupported .npy format version 4.0");
  ExpectRejected(std::string("\x93NUMPY\x01\x01\x10\x00", 10), "unsupported .npy format version 1.1");
  ExpectRejected(std::string("\x93NUMPY\x00\x00\x10\x00", 10), "version 0.0");
}

TEST(NpyMalformedTest, TruncatedHeader) {
  ExpectRejected(std::string("\x93NUMPY\x01\x00\x10", 9), "no header length");
  ExpectRejected(std::string("\x93NUMPY\x02\x00\x10\x00\x00", 11), "no header length");
  std::string full = Npy(F32Dict("(1,)"), Bytes({1}));
  ExpectRejected(full.substr(0, 30), "the header declares");
  // A version 2.0 length of 4 GiB - 1.
  ExpectRejected(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14),
                 "header declares 4294967295 bytes, more than the limit of 1048576");
}

TEST(NpyMalformedTest, HeaderSyntax) {
  std::string data = Bytes({1});
  ExpectRejected(Npy("", data), "expected '{'");
  ExpectRejected(Npy("['descr']", data), "expected '{'");
  ExpectRejected(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", data),
                 "expected ',' or '}'");
  ExpectRejected(Npy("{'descr' '<f4'}", data), "expected ':' after key 'descr'");
  ExpectRejected(Npy("{'descr': '<f4' 'shape': (1,)}", data), "expected ',' or '}'");
  ExpectRejected(Npy("{'descr: '<f4'}", data), "expected ':' after key 'descr: '");
  ExpectRejected(Npy("{'descr': '<f4", data), "unterminated string");
  ExpectRejected(Npy("{'descr': '<\\x66'}", data), "escape sequences");
  ExpectRejected(Npy(F32Dict("(1,)") + " extra", data), "unexpected text after the header dict");
  ExpectRejected(Npy("{descr: '<f4'}", data), "expected a string as a key");
}

TEST(NpyMalformedTest, HeaderKeysAndValues) {
  std::string data = Bytes({1});
  ExpectRejected(Npy("{'descr': '<f4', 'fortran_order': False}", data), "missing key 'shape'");
  ExpectRejected(Npy("{'descr': '<f4', 'shape': (1,)}", data), "missing key 'fortran_order'");
  ExpectRejected(Npy("{'fortran_order': False, 'shape': (1,)}", data), "missing key 'descr'");
  ExpectRejected(Npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data),
                 "key 'descr' appears twice");
  ExpectRejected(Npy(F32Dict("(1,)").substr(0, F32Dict("(1,)").size() - 1) + "'foo': 1}", data),
                 "unexpected key 'foo'");
  ExpectRejected(Npy("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", data),
                 "expected a string as the value of 'descr'");
  ExpectRejected(Npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", data),
                 "must be True or False");
  ExpectRejected(Npy("{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", data),
                 "must be True or False");
}

TEST(NpyMalformedTest, Dtypes) {
  auto with_descr = [](absl::string_view descr) {
    return Npy(absl::StrCat("{'descr': ", descr, ", 'fortran_order': False, 'shape': (1,), }"),
               std::string(8, '\0'));
  };
  ExpectRejected(with_descr("[('a', '<f4')]"), "structured dtypes");
  ExpectRejected(with_descr("'>f4'"), "big-endian dtype '>f4'");
  ExpectRejected(with_descr("'>i8'"), "big-endian dtype '>i8'");
  ExpectRejected(with_descr("'=f4'"), "little-endian");
  ExpectRejected(with_descr("'|f4'"), "little-endian");
  ExpectRejected(with_descr("'<c8'"), "unsupported dtype '<c8'");
  ExpectRejected(with_descr("'<U2'"), "unsupported dtype '<U2'");
  ExpectRejected(with_descr("'|O'"), "unsupported dtype '|O'");
  ExpectRejected(with_descr("'<u4'"), "unsupported dtype '<u4'");
  ExpectRejected(with_descr("'f4'"), "unsupported dtype 'f4'");
  ExpectRejected(with_descr("'xf4'"), "no byte order mark");
  ExpectRejected(with_descr("''"), "unsupported dtype ''");
}

TEST(NpyMalformedTest, FortranOrder) {
  ExpectRejected(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", Bytes({1, 2})),
                 "Fortran-order (column-major) arrays are not supported");
}

TEST(NpyMalformedTest, Shapes) {
  ExpectRejected(Npy(F32Dict("[1]"), Bytes({1})), "must be a tuple");
  ExpectRejected(Npy(F32Dict("(1)"), Bytes({1})), "is an integer, not a tuple");
  ExpectRejected(Npy(F32Dict("(-1,)"), Bytes({1})), "shape dimension 0 is negative");
  ExpectRejected(Npy(F32Dict("(1, 2.5)"), Bytes({1})), "expected ',' or ')'");
  ExpectRejected(Npy(F32Dict("(1,,)"), Bytes({1})), "expected an integer");
  ExpectRejected(Npy(F32Dict("(1, 2"), Bytes({1})), "expected an integer");
  ExpectRejected(Npy(F32Dict("((1,),)"), Bytes({1})), "expected an integer");
  ExpectRejected(Npy(F32Dict("(99999999999999999999999999,)"), Bytes({1})),
                 "shape dimension 0 exceeds 2^40");
  // Each dimension is fine, the product is not (2^60 elements).
  ExpectRejected(Npy(F32Dict("(1048576, 1048576, 1048576)"), Bytes({1})),
                 "element count exceeds 2^40");
  std::string rank65 = "(";
  for (int i = 0; i < 65; ++i) absl::StrAppend(&rank65, "1,");
  ExpectRejected(Npy(F32Dict(rank65 + ")"), Bytes({1})), "more than 64 dimensions");
}

TEST(NpyMalformedTest, DataLengthMustMatchShape) {
  ExpectRejected(Npy(F32Dict("(2, 3)"), Bytes({1, 2, 3, 4, 5})),
                 "truncated .npy data: shape (2, 3) of '<f4' needs 24 bytes, the file has 20");
  ExpectRejected(Npy(F32Dict("(2,)"), Bytes({1, 2, 3})), "trailing bytes after the .npy data");
  ExpectRejected(Npy(F32Dict("()"), ""), "needs 4 bytes, the file has 0");
  // A shape claiming 2^40 elements over 4 bytes of data is rejected without allocating.
  ExpectRejected(Npy(F32Dict("(1099511627776,)"), Bytes({1})), "needs 4398046511104 bytes");
}

// Every prefix of a valid file is rejected cleanly, and no single-byte corruption of the
// header crashes the parser (the fuzzer explores further).
TEST(NpyMalformedTest, TruncationsAndCorruptionsNeverCrash) {
  std::string valid = *SerializeNpy(Tensor::F32({2, 3}, {1, 2, 3, 4, 5, 6}));
  for (size_t n = 0; n < valid.size(); ++n) {
    EXPECT_FALSE(ParseNpy(valid.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
  for (size_t i = 0; i < 128; ++i) {
    for (int value : {0, int{'('}, int{')'}, int{'\''}, int{','}, int{'9'}, 0xff}) {
      std::string corrupt = valid;
      corrupt[i] = static_cast<char>(value);
      (void)ParseNpy(corrupt);
    }
  }
}

// ReadNpy reads only what the header announces, and still reports short and long data.
TEST(NpyReadTest, FileDataLengthChecks) {
  std::string valid = Npy(F32Dict("(2,)"), Bytes({1, 2}));
  std::string longer = TempPath("longer.npy");
  std::ofstream(longer, std::ios::binary) << valid << std::string(1000, 'x');
  absl::StatusOr<Tensor> t = ReadNpy(longer);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            absl::StrCat(longer, ": trailing bytes after the .npy data: shape (2,) of '<f4' "
                                 "needs 8 bytes"));

  std::string shorter = TempPath("shorter.npy");
  std::ofstream(shorter, std::ios::binary) << valid.substr(0, valid.size() - 3);
  t = ReadNpy(shorter);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("needs 8 bytes, the file has 5"));

  std::string exact = TempPath("exact.npy");
  std::ofstream(exact, std::ios::binary) << valid;
  t = ReadNpy(exact);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Values(*t), (std::vector<double>{1, 2}));
}

TEST(NpyReadTest, FileErrorsNameThePath) {
  std::string missing = TempPath("missing.npy");
  absl::StatusOr<Tensor> t = ReadNpy(missing);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(missing));

  absl::StatusOr<Tensor> dir = ReadNpy(TempPath(""));
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr(TempPath("")));

  std::string bad = TempPath("bad.npy");
  std::ofstream(bad) << "not numpy";
  absl::StatusOr<Tensor> parsed = ReadNpy(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(std::string(parsed.status().message()),
            absl::StrCat(bad, ": not an .npy file (it does not start with \"\\x93NUMPY\")"));
}

}  // namespace
}  // namespace kiln
