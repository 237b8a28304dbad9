// Data-movement kernels (Identity, Reshape, Flatten, Transpose, Slice, Concat, Gather, Pad)
// and Constant against the reference on every dtype: they move bytes, so results are
// exact. Also Gather's out-of-range error code.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "graph/shape_inference.h"
#include "kernels/cpu/cpu_kernel_provider.h"
#include "runtime/kernel_env.h"
#include "tests/kernels/cpu/kernel_harness.h"

namespace kiln::testing {
namespace {

const std::vector<DataType> kAll = {DataType::kF32, DataType::kF64, DataType::kF16,
                                    DataType::kBF16, DataType::kI8, DataType::kU8,
                                    DataType::kI32, DataType::kI64, DataType::kBool};

Tensor Any(DataType dtype, const Shape& shape, uint64_t seed) {
  return Random(dtype, shape, seed, -100, 100);
}

TEST(ShapeKernelsTest, CopiesMatchReference) {
  uint64_t seed = 1;
  for (DataType dtype : kAll) {
    for (const Shape& s : {Shape{}, Shape{0, 3}, Shape{4, 5, 6}, Shape{300, 300}}) {
      CheckKernel(KernelCase{"Identity", {Any(dtype, s, seed++)}}, Tolerance{});
      CheckKernel(KernelCase{"Reshape", {Any(dtype, s, seed++)},
                             {{"shape", std::vector<int64_t>{-1}}}}, Tolerance{});
      if (s.rank() > 0) {
        CheckKernel(KernelCase{"Flatten", {Any(dtype, s, seed++)}, {{"axis", int64_t{1}}}},
                    Tolerance{});
      }
    }
  }
}

TEST(ShapeKernelsTest, TransposeMatchesReference) {
  uint64_t seed = 100;
  struct Case {
    Shape shape;
    std::vector<int64_t> perm;
  };
  const std::vector<Case> cases = {
      {Shape{}, {}},
      {Shape{5}, {0}},
      {Shape{3, 4}, {1, 0}},
      {Shape{2, 3, 4}, {2, 0, 1}},
      {Shape{2, 3, 4, 5}, {0, 2, 3, 1}},   // NCHW -> NHWC
      {Shape{2, 1, 4, 1}, {3, 2, 1, 0}},
      {Shape{2, 3, 4, 5}, {0, 1, 3, 2}},
      {Shape{0, 3, 2}, {2, 1, 0}},
      {Shape{130, 257}, {1, 0}},
      {Shape{2, 2, 2, 2, 2, 2, 2, 3}, {7, 6, 5, 4, 3, 2, 1, 0}},
  };
  for (DataType dtype : kAll) {
    for (const Case& c : cases) {
      CheckKernel(KernelCase{"Transpose", {Any(dtype, c.shape, seed++)}, {{"perm", c.perm}}},
                  Tolerance{});
    }
  }
}

TEST(ShapeKernelsTest, SliceMatchesReference) {
  uint64_t seed = 200;
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  struct Case {
    Shape shape;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {
      {Shape{10}, {2}, {7}, {}, {}},
      {Shape{10}, {-3}, {kMax}, {}, {}},
      {Shape{10}, {8}, {1}, {}, {-2}},
      {Shape{10}, {kMax}, {kMin}, {}, {-1}},
      {Shape{4, 6}, {1, 0}, {3, 6}, {}, {1, 2}},
      {Shape{4, 6}, {5}, {-8}, {1}, {-3}},
      {Shape{3, 4, 5}, {1, 2}, {2, 5}, {0, 2}, {}},
      {Shape{3, 4, 5}, {0}, {0}, {1}, {}},  // empty
      {Shape{0, 4}, {0}, {2}, {1}, {}},
      {Shape{200, 300}, {10, 5}, {190, 295}, {}, {}},
  };
  for (DataType dtype : kAll) {
    for (const Case& c : cases) {
      CheckKernel(KernelCase{"Slice",
                             {Any(dtype, c.shape, seed++)},
                             {{"starts", c.starts}, {"ends", c.ends}, {"axes", c.axes},
                              {"steps", c.steps}}},
                  Tolerance{});
    }
  }
}

TEST(ShapeKernelsTest, ConcatMatchesReference) {
  uint64_t seed = 300;
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{Shape{3}}, 0},
      {{Shape{3}, Shape{0}, Shape{4}}, 0},
      {{Shape{2, 3}, Shape{2, 5}}, 1},
      {{Shape{2, 3}, Shape{4, 3}, Shape{1, 3}}, -2},
      {{Shape{2, 3, 4}, Shape{2, 1, 4}, Shape{2, 7, 4}}, 1},
      {{Shape{0, 3}, Shape{0, 2}}, 1},
      {{Shape{100, 200}, Shape{100, 300}}, 1},
      {{Shape{300, 200}, Shape{100, 200}}, 0},
  };
  for (DataType dtype : kAll) {
    for (const Case& c : cases) {
      KernelCase k{"Concat", {}, {{"axis", c.axis}}};
      for (const Shape& s : c.shapes) k.inputs.push_back(Any(dtype, s, seed++));
      CheckKernel(k, Tolerance{});
    }
  }
}

TEST(ShapeKernelsTest, GatherMatchesReference) {
  uint64_t seed = 400;
  for (DataType dtype : kAll) {
    for (DataType index_type : {DataType::kI32, DataType::kI64}) {
      const Shape data_shapes[] = {Shape{10}, Shape{5, 6}, Shape{3, 4, 5}, Shape{200, 400}};
      for (const Shape& data : data_shapes) {
        for (int axis = 0; axis < data.rank(); ++axis) {
          const int64_t size = data.dim(axis);
          for (const Shape& idx : {Shape{}, Shape{3}, Shape{2, 2}, Shape{0}}) {
            KernelCase c{"Gather",
                         {Any(dtype, data, seed++), Random(index_type, idx, seed++, -size, size - 1)},
                         {{"axis", int64_t{axis}}}};
            CheckKernel(c, Tolerance{});
          }
        }
      }
    }
  }
}

TEST(ShapeKernelsTest, GatherReportsOutOfRangeIndices) {
  for (int64_t bad : {5, -6, 1000}) {
    Tensor indices = Tensor::I64(Shape{3}, {0, bad, 1});
    absl::StatusOr<int32_t> code =
        RunForCode(KernelCase{"Gather", {Random(DataType::kF32, Shape{5, 2}, 1), indices}});
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, KILN_KERNEL_INDEX_OUT_OF_RANGE) << bad;
  }
  // Checked even when nothing is copied (an empty trailing dimension).
  absl::StatusOr<int32_t> code = RunForCode(
      KernelCase{"Gather", {Random(DataType::kF32, Shape{5, 0}, 1), Tensor::I32(Shape{1}, {7})}});
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, KILN_KERNEL_INDEX_OUT_OF_RANGE);
}

TEST(ShapeKernelsTest, PadMatchesReference) {
  uint64_t seed = 500;
  struct Case {
    Shape shape;
    std::vector<int64_t> pads;
  };
  const std::vector<Case> cases = {
      {Shape{}, {}},
      {Shape{5}, {2, 3}},
      {Shape{3, 4}, {1, 0, 2, 3}},
      {Shape{3, 4}, {0, 0, 0, 0}},
      {Shape{2, 3, 4}, {1, 2, 3, 1, 2, 3}},
      {Shape{4, 5}, {3, 4, 3, 4}},
      {Shape{0, 3}, {1, 1, 2, 0}},
      {Shape{100, 300}, {2, 2, 2, 2}},
  };
  for (DataType dtype : kAll) {
    for (const Case& c : cases) {
      for (const std::string mode : {"constant", "reflect", "edge"}) {
        bool valid = true;
        for (int d = 0; d < c.shape.rank(); ++d) {
          const bool padded = c.pads[d] > 0 || c.pads[d + c.shape.rank()] > 0;
          if (mode == "reflect" && padded &&
              (c.pads[d] >= c.shape.dim(d) || c.pads[d + c.shape.rank()] >= c.shape.dim(d))) {
            valid = false;
          }
          if (mode == "edge" && padded && c.shape.dim(d) == 0) valid = false;
        }
        if (!valid) continue;
        CheckKernel(KernelCase{"Pad",
                               {Any(dtype, c.shape, seed++)},
                               {{"pads", c.pads}, {"mode", mode}, {"value", 2.75}}},
                    Tolerance{});
      }
    }
  }
}

TEST(ShapeKernelsTest, ConstantCopiesItsValue) {
  for (DataType dtype : kAll) {
    for (const Shape& s : {Shape{}, Shape{0}, Shape{3, 5}, Shape{100, 300}}) {
      const Tensor value = Any(dtype, s, 7);
      Graph graph;
      Node node;
      node.name = "op";
      node.op = "Constant";
      node.attrs["value"] = value;
      absl::StatusOr<int> id = graph.AddNode(node);
      ASSERT_TRUE(id.ok());
      ASSERT_TRUE(InferNode(graph, *id).ok());
      absl::StatusOr<PreparedKernel> kernel =
          CreateCpuKernelProvider()->Prepare(graph, graph.node(*id));
      ASSERT_TRUE(kernel.ok()) << kernel.status();
      std::vector<uint8_t> out(value.ByteSize() + 1, 0xAB);
      std::vector<uint64_t> params((kernel->params.size() + 7) / 8);
      std::memcpy(params.data(), kernel->params.data(), kernel->params.size());
      void* buffers[] = {out.data()};
      KernelEnv env;
      kiln_kernel_call call{};
      call.buffers = buffers;
      call.num_buffers = 1;
      call.params = params.data();
      call.env = env.env();
      for (int64_t w = kernel->workgroup_count - 1; w >= 0; --w) {
        EXPECT_EQ(kernel->fn(&call, w, kernel->workgroup_count), 0);
      }
      EXPECT_EQ(std::memcmp(out.data(), value.raw_data(), value.ByteSize()), 0)
          << DataTypeName(dtype) << s;
      EXPECT_EQ(out.back(), 0xAB) << "wrote past the output";
    }
  }
}

}  // namespace
}  // namespace kiln::testing
