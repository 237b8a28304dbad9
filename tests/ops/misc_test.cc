// Tests of ArgMax, ArgMin, CumSum, Trilu, GatherElements, GatherND, ScatterElements,
// ScatterND, TopK, Expand, Tile, ReduceMin and ReduceProd: hand-computed values, several dtypes, size-0 and size-1 dims, unknown dims
// in shape inference, and errors naming the attribute or input.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::kiln::testing::InferSingleOp;
using ::kiln::testing::MakeTensor;
using ::kiln::testing::RunSingleOp;
using ::kiln::testing::Values;
using ::testing::HasSubstr;
using D = std::vector<double>;
using V = std::vector<int64_t>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::StatusOr<Tensor> Eval(absl::string_view op, const std::vector<Tensor>& inputs,
                            AttrMap attrs = {}) {
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunSingleOp(op, inputs, std::move(attrs)));
  return outputs.at(0);
}

Tensor MustEval(absl::string_view op, const std::vector<Tensor>& inputs, AttrMap attrs = {}) {
  absl::StatusOr<Tensor> t = Eval(op, inputs, std::move(attrs));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Tensor();
}

Shape InferShape(absl::string_view op, const std::vector<TensorType>& inputs, AttrMap attrs) {
  absl::StatusOr<std::vector<TensorType>> t = InferSingleOp(op, inputs, std::move(attrs));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? (*t)[0].shape : Shape{-2};
}

void ExpectInvalid(const absl::Status& status, absl::string_view substring) {
  ASSERT_FALSE(status.ok()) << "expected an error containing " << substring;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(substring)));
}

// -------------------------------------------------------------------- ArgMax/ArgMin

TEST(ArgTest, AlongEachAxisWithTies) {
  // [[1, 5, 5], [7, 0, 7]]
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kF16}) {
    SCOPED_TRACE(DataTypeName(dt));
    Tensor x = MakeTensor(dt, Shape{2, 3}, {1, 5, 5, 7, 0, 7});
    Tensor a = MustEval("ArgMax", {x}, {{"axis", int64_t{1}}});
    EXPECT_EQ(a.dtype(), DataType::kI64);
    EXPECT_EQ(a.shape(), (Shape{2, 1}));
    EXPECT_EQ(Values(a), (D{1, 0}));
    EXPECT_EQ(Values(MustEval("ArgMax", {x}, {{"axis", int64_t{1}}, {"select_last_index", true}})),
              (D{2, 2}));
    Tensor m = MustEval("ArgMin", {x}, {{"axis", int64_t{0}}, {"keepdims", false}});
    EXPECT_EQ(m.shape(), (Shape{3}));
    EXPECT_EQ(Values(m), (D{0, 1, 0}));
    EXPECT_EQ(Values(MustEval("ArgMin", {x}, {{"axis", int64_t{-1}}})), (D{0, 1}));
  }
}

TEST(ArgTest, NaNWinsAndErrors) {
  Tensor x = MakeTensor(DataType::kF64, Shape{4}, {1, kNaN, 3, kNaN});
  EXPECT_EQ(Values(MustEval("ArgMax", {x})), (D{1}));
  EXPECT_EQ(Values(MustEval("ArgMin", {x})), (D{1}));
  ExpectInvalid(InferSingleOp("ArgMax", {{DataType::kF32, Shape{2, 0}}}, {{"axis", int64_t{1}}}).status(),
                "is empty");
  ExpectInvalid(InferSingleOp("ArgMax", {{DataType::kF32, Shape{2}}}, {{"axis", int64_t{1}}}).status(),
                "attribute 'axis'");
  EXPECT_EQ(InferShape("ArgMin", {{DataType::kF32, Shape{-1, 4}}}, {{"axis", int64_t{1}}}), (Shape{-1, 1}));
}

// ------------------------------------------------------------------------ CumSum

TEST(CumSumTest, ExclusiveAndReverse) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(Values(MustEval("CumSum", {x}, {{"axis", int64_t{1}}})), (D{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(Values(MustEval("CumSum", {x}, {{"axis", int64_t{0}}})), (D{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(Values(MustEval("CumSum", {x}, {{"axis", int64_t{1}}, {"exclusive", true}})),
            (D{0, 1, 3, 0, 4, 9}));
  EXPECT_EQ(Values(MustEval("CumSum", {x}, {{"axis", int64_t{-1}}, {"reverse", true}})),
            (D{6, 5, 3, 15, 11, 6}));
  EXPECT_EQ(Values(MustEval("CumSum", {x}, {{"axis", int64_t{1}}, {"reverse", true}, {"exclusive", true}})),
            (D{5, 3, 0, 11, 6, 0}));
  // Integers wrap like Add.
  Tensor i = Tensor::I32(Shape{2}, {std::numeric_limits<int32_t>::max(), 1});
  EXPECT_EQ(Values(MustEval("CumSum", {i})), (D{2147483647.0, -2147483648.0}));
  EXPECT_EQ(MustEval("CumSum", {MakeTensor(DataType::kF32, Shape{0, 2}, {})}).shape(), (Shape{0, 2}));
  ExpectInvalid(InferSingleOp("CumSum", {{DataType::kF32, Shape{}}}).status(), "scalar");
}

// ------------------------------------------------------------------------- Trilu

TEST(TriluTest, UpperLowerWithDiagonalOffset) {
  // 3x3 matrix 1..9, batched twice (the second batch is 10..18).
  D in;
  for (int i = 1; i <= 18; ++i) in.push_back(i);
  Tensor x = MakeTensor(DataType::kF64, Shape{2, 3, 3}, in);
  Tensor upper = MustEval("Trilu", {x});
  EXPECT_EQ(Values(upper), (D{1, 2, 3, 0, 5, 6, 0, 0, 9, 10, 11, 12, 0, 14, 15, 0, 0, 18}));
  Tensor lower1 = MustEval("Trilu", {x}, {{"upper", false}, {"k", int64_t{1}}});
  EXPECT_EQ(Values(lower1), (D{1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11, 0, 13, 14, 15, 16, 17, 18}));
  Tensor upper_neg = MustEval("Trilu", {Tensor::I64(Shape{2, 2}, {1, 2, 3, 4})}, {{"k", int64_t{-1}}});
  EXPECT_EQ(Values(upper_neg), (D{1, 2, 3, 4}));
  // A huge k keeps nothing (upper) without overflowing.
  Tensor none = MustEval("Trilu", {Tensor::I64(Shape{2, 2}, {1, 2, 3, 4})},
                         {{"k", std::numeric_limits<int64_t>::max()}});
  EXPECT_EQ(Values(none), (D{0, 0, 0, 0}));
  ExpectInvalid(InferSingleOp("Trilu", {{DataType::kF32, Shape{3}}}).status(), "rank below 2");
}

// ---------------------------------------------------------------- GatherElements

TEST(GatherElementsTest, PicksAlongAxis) {
  Tensor data = MakeTensor(DataType::kF32, Shape{2, 2}, {1, 2, 3, 4});
  Tensor idx = Tensor::I64(Shape{2, 2}, {0, 0, 1, 0});
  EXPECT_EQ(Values(MustEval("GatherElements", {data, idx}, {{"axis", int64_t{1}}})), (D{1, 1, 4, 3}));
  Tensor idx0 = Tensor::I32(Shape{1, 2}, {1, -2});  // negative counts from the end
  EXPECT_EQ(Values(MustEval("GatherElements", {data, idx0})), (D{3, 2}));
  absl::StatusOr<Tensor> out = Eval("GatherElements", {data, Tensor::I64(Shape{1, 1}, {2})});
  ExpectInvalid(out.status(), "out of range");
  ExpectInvalid(InferSingleOp("GatherElements", {{DataType::kF32, Shape{2, 2}}, {DataType::kF32, Shape{2, 2}}}).status(),
                "input 'indices'");
  ExpectInvalid(InferSingleOp("GatherElements", {{DataType::kF32, Shape{2, 2}}, {DataType::kI64, Shape{2}}}).status(),
                "rank");
  ExpectInvalid(InferSingleOp("GatherElements", {{DataType::kF32, Shape{2, 2}}, {DataType::kI64, Shape{2, 3}}},
                              {{"axis", int64_t{0}}}).status(),
                "larger than 'data'");
  EXPECT_EQ(InferShape("GatherElements", {{DataType::kF32, Shape{-1, 4}}, {DataType::kI64, Shape{3, -1}}}, {}),
            (Shape{3, -1}));
}

// ------------------------------------------------------------------ Expand, Tile

TEST(ExpandTest, BroadcastsBothWays) {
  Tensor x = Tensor::Bool(Shape{2, 1}, {true, false});
  Tensor y = MustEval("Expand", {x}, {{"shape", V{1, 3}}});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(y), (D{1, 1, 1, 0, 0, 0}));
  // A 1 in `shape` keeps x's dimension; a longer shape adds leading dimensions.
  Tensor z = MustEval("Expand", {MakeTensor(DataType::kI8, Shape{3}, {1, 2, 3})}, {{"shape", V{2, 1}}});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(z), (D{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(InferShape("Expand", {{DataType::kF32, Shape{-1, 1}}}, {{"shape", V{4}}}), (Shape{-1, 4}));
  EXPECT_EQ(MustEval("Expand", {MakeTensor(DataType::kF32, Shape{1}, {1})}, {{"shape", V{0}}}).shape(), (Shape{0}));
  ExpectInvalid(InferSingleOp("Expand", {{DataType::kF32, Shape{2}}}, {{"shape", V{3}}}).status(),
                "attribute 'shape'");
  ExpectInvalid(InferSingleOp("Expand", {{DataType::kF32, Shape{2}}}, {{"shape", V{-3}}}).status(),
                "attribute 'shape'");
}

TEST(TileTest, RepeatsEachDimension) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 2}, {1, 2, 3, 4});
  Tensor y = MustEval("Tile", {x}, {{"repeats", V{1, 2}}});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(Values(y), (D{1, 2, 1, 2, 3, 4, 3, 4}));
  Tensor z = MustEval("Tile", {x}, {{"repeats", V{2, 1}}});
  EXPECT_EQ(Values(z), (D{1, 2, 3, 4, 1, 2, 3, 4}));
  EXPECT_EQ(MustEval("Tile", {x}, {{"repeats", V{0, 3}}}).shape(), (Shape{0, 6}));
  EXPECT_EQ(InferShape("Tile", {{DataType::kF32, Shape{-1, 2}}}, {{"repeats", V{3, 2}}}), (Shape{-1, 4}));
  ExpectInvalid(InferSingleOp("Tile", {{DataType::kF32, Shape{2}}}, {{"repeats", V{1, 1}}}).status(),
                "attribute 'repeats' has 2 entries");
  ExpectInvalid(InferSingleOp("Tile", {{DataType::kF32, Shape{1 << 20}}},
                              {{"repeats", V{int64_t{1} << 40}}}).status(),
                "attribute 'repeats'");
}

// ------------------------------------------------- GatherND, ScatterElements, ScatterND

TEST(GatherNDTest, TuplesSlicesAndBatches) {
  Tensor data = MakeTensor(DataType::kF32, Shape{2, 2}, {0, 1, 2, 3});
  // Full tuples pick elements; partial tuples pick rows.
  EXPECT_EQ(Values(MustEval("GatherND", {data, Tensor::I64(Shape{2, 2}, {0, 0, 1, 1})})), (D{0, 3}));
  Tensor rows = MustEval("GatherND", {data, Tensor::I64(Shape{2, 1}, {1, -2})});
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(rows), (D{2, 3, 0, 1}));
  // batch_dims 1: each batch of data [2, 2, 2] indexed by its own tuple.
  Tensor cube = Tensor::I32(Shape{2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor b = MustEval("GatherND", {cube, Tensor::I64(Shape{2, 1}, {1, 0})}, {{"batch_dims", int64_t{1}}});
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values(b), (D{2, 3, 4, 5}));
  ExpectInvalid(Eval("GatherND", {data, Tensor::I64(Shape{1, 1}, {2})}).status(), "out of range");
  ExpectInvalid(InferSingleOp("GatherND", {{DataType::kF32, Shape{2, 2}}, {DataType::kI64, Shape{1, 3}}}).status(),
                "last dimension of 'indices'");
  ExpectInvalid(InferSingleOp("GatherND", {{DataType::kF32, Shape{2, 2}}, {DataType::kF32, Shape{1, 1}}}).status(),
                "input 'indices'");
  EXPECT_EQ(InferShape("GatherND", {{DataType::kF32, Shape{-1, 5}}, {DataType::kI64, Shape{3, 1}}}, {}), (Shape{3, 5}));
}

TEST(ScatterTest, ElementsAlongAxisWithReductions) {
  Tensor data = MakeTensor(DataType::kF32, Shape{2, 3}, {0, 0, 0, 0, 0, 0});
  Tensor idx = Tensor::I64(Shape{2, 2}, {2, 0, -1, 1});
  Tensor upd = MakeTensor(DataType::kF32, Shape{2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(Values(MustEval("ScatterElements", {data, idx, upd}, {{"axis", int64_t{1}}})), (D{2, 0, 1, 0, 4, 3}));
  // Duplicates: add accumulates, none keeps the last.
  Tensor dup = Tensor::I64(Shape{1, 2}, {1, 1});
  Tensor upd2 = MakeTensor(DataType::kF32, Shape{1, 2}, {5, 7});
  Tensor ones = MakeTensor(DataType::kF32, Shape{1, 3}, {1, 1, 1});
  EXPECT_EQ(Values(MustEval("ScatterElements", {ones, dup, upd2}, {{"axis", int64_t{1}}, {"reduction", std::string("add")}})),
            (D{1, 13, 1}));
  EXPECT_EQ(Values(MustEval("ScatterElements", {ones, dup, upd2}, {{"axis", int64_t{1}}, {"reduction", std::string("mul")}})),
            (D{1, 35, 1}));
  EXPECT_EQ(Values(MustEval("ScatterElements", {ones, dup, upd2}, {{"axis", int64_t{1}}})), (D{1, 7, 1}));
  ExpectInvalid(Eval("ScatterElements", {ones, Tensor::I64(Shape{1, 1}, {3}), MakeTensor(DataType::kF32, Shape{1, 1}, {1})},
                     {{"axis", int64_t{1}}}).status(), "out of range");
  ExpectInvalid(InferSingleOp("ScatterElements", {{DataType::kF32, Shape{2}}, {DataType::kI64, Shape{2}}, {DataType::kF32, Shape{2}}},
                              {{"reduction", std::string("avg")}}).status(), "attribute 'reduction'");
  ExpectInvalid(InferSingleOp("ScatterElements", {{DataType::kF32, Shape{2}}, {DataType::kI64, Shape{2}}, {DataType::kF32, Shape{3}}}).status(),
                "one shape");
}

TEST(ScatterTest, NDSlices) {
  Tensor data = Tensor::I64(Shape{3, 2}, {1, 1, 1, 1, 1, 1});
  // Tuples of depth 1 address rows; updates are rows.
  Tensor y = MustEval("ScatterND", {data, Tensor::I64(Shape{2, 1}, {2, 0}), Tensor::I64(Shape{2, 2}, {7, 8, 9, 10})});
  EXPECT_EQ(Values(y), (D{9, 10, 1, 1, 7, 8}));
  Tensor m = MustEval("ScatterND", {data, Tensor::I64(Shape{2, 2}, {0, 1, 0, 1}), Tensor::I64(Shape{2}, {3, 4})},
                      {{"reduction", std::string("mul")}});
  EXPECT_EQ(Values(m), (D{1, 12, 1, 1, 1, 1}));
  ExpectInvalid(InferSingleOp("ScatterND", {{DataType::kF32, Shape{3, 2}}, {DataType::kI64, Shape{2, 1}}, {DataType::kF32, Shape{2, 3}}}).status(),
                "input 'updates'");
}

// ------------------------------------------------------------------------------- TopK

TEST(TopKTest, LargestSmallestAndTies) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 4}, {1, 3, 3, 2, 5, -1, 0, 5});
  absl::StatusOr<std::vector<Tensor>> out = RunSingleOp("TopK", {x}, {{"k", int64_t{2}}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(Values((*out)[0]), (D{3, 3, 5, 5}));
  EXPECT_EQ((*out)[1].dtype(), DataType::kI64);
  EXPECT_EQ(Values((*out)[1]), (D{1, 2, 0, 3}));  // ties keep index order
  out = RunSingleOp("TopK", {x}, {{"k", int64_t{1}}, {"axis", int64_t{0}}, {"largest", false}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values((*out)[0]), (D{1, -1, 0, 2}));
  EXPECT_EQ(Values((*out)[1]), (D{0, 1, 1, 0}));
  out = RunSingleOp("TopK", {MakeTensor(DataType::kF64, Shape{3}, {1, kNaN, 2})}, {{"k", int64_t{2}}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values((*out)[1]), (D{1, 2}));
  ExpectInvalid(InferSingleOp("TopK", {{DataType::kF32, Shape{3}}}, {{"k", int64_t{4}}}).status(), "attribute 'k'");
  absl::StatusOr<std::vector<TensorType>> t = InferSingleOp("TopK", {{DataType::kI32, Shape{-1, 6}}}, {{"k", int64_t{3}}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 3}));
  EXPECT_EQ((*t)[1].dtype, DataType::kI64);
}

// ------------------------------------------------------------ ReduceMin / ReduceProd

TEST(ReduceExtraTest, MinAndProd) {
  Tensor x = MakeTensor(DataType::kF32, Shape{2, 3}, {3, -1, 2, 4, 5, 0.5});
  EXPECT_EQ(Values(MustEval("ReduceMin", {x}, {{"axes", V{1}}})), (D{-1, 0.5}));
  EXPECT_EQ(Values(MustEval("ReduceProd", {x}, {{"axes", V{0}}})), (D{12, -5, 1}));
  Tensor all = MustEval("ReduceProd", {x}, {{"keepdims", true}});
  EXPECT_EQ(all.shape(), (Shape{1, 1}));
  EXPECT_EQ(Values(all), (D{-60}));
  Tensor i = Tensor::I64(Shape{3}, {int64_t{1} << 62, 4, 7});
  EXPECT_EQ(Values(MustEval("ReduceMin", {i})), (D{4}));
  // Integer products wrap: 2^62 * 4 = 2^64 = 0 (mod 2^64).
  EXPECT_EQ(MustEval("ReduceProd", {i}).GetAsInt64(0), 0);
  // An empty product is 1; an empty minimum is an error.
  EXPECT_EQ(Values(MustEval("ReduceProd", {MakeTensor(DataType::kF64, Shape{0, 2}, {})}, {{"axes", V{0}}})),
            (D{1, 1}));
  ExpectInvalid(InferSingleOp("ReduceMin", {{DataType::kF32, Shape{0, 2}}}, {{"axes", V{0}}}).status(),
                "empty set");
  EXPECT_TRUE(std::isnan(MustEval("ReduceMin", {MakeTensor(DataType::kF32, Shape{2}, {1, kNaN})}).GetAsDouble(0)));
  EXPECT_EQ(InferShape("ReduceProd", {{DataType::kF32, Shape{-1, 3}}}, {{"axes", V{1}}}), (Shape{-1}));
  ExpectInvalid(InferSingleOp("ReduceProd", {{DataType::kF32, Shape{2}}}, {{"axes", V{0, 0}}}).status(),
                "twice");
}

TEST(MiscOpsTest, TraitsAndFlops) {
  for (const char* op : {"Expand", "Tile", "Trilu", "GatherElements"}) {
    EXPECT_TRUE(OpRegistry::Global().Find(op)->Has(kDataMovement)) << op;
  }
  for (const char* op : {"ArgMax", "ArgMin", "ReduceMin", "ReduceProd"}) {
    const OpDef* def = OpRegistry::Global().Find(op);
    EXPECT_TRUE(def->Has(kReduction)) << op;
    std::vector<TensorType> in = {{DataType::kF32, Shape{4, 5}}};
    EXPECT_EQ(def->flops(Node(), in, in), 20) << op;
  }
}

}  // namespace
}  // namespace kiln
