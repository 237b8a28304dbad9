// The README's C++ example as a program: builds y = relu(x @ w + b) with the
// builder API, runs it with a Session and prints y for x = [[1, 2]]: "[[5.5,
// 1]]". Built by Bazel
// (//examples/cpp:dense) and, against an installed Kiln, by g++ with pkg-config
// and by CMake (CMakeLists.txt here; docs/install.md).
#include <iostream>

#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "runtime/session.h"

absl::StatusOr<kiln::Tensor> Dense() {
  kiln::GraphBuilder b;
  kiln::Value x = b.Input("x", kiln::DataType::kF32, kiln::Shape{-1, 2});  // -1: any batch
  kiln::Value w = b.Constant(kiln::Tensor::F32({2, 2}, {1, -1, 2, 1}));
  kiln::Value bias = b.Constant(kiln::Tensor::F32({2}, {0.5, 0}));
  b.Output("y", kiln::ops::Relu(b, kiln::ops::Add(b, kiln::ops::MatMul(b, x, w), bias)));
  absl::StatusOr<kiln::proto::GraphDef> graph = b.Build();  // shapes were checked as built
  if (!graph.ok()) return graph.status();

  absl::StatusOr<std::unique_ptr<kiln::Session>> session = kiln::Session::Create(*graph);
  if (!session.ok()) return session.status();
  absl::StatusOr<std::vector<kiln::Tensor>> y =
      (*session)->Run({{"x", kiln::Tensor::F32({1, 2}, {1, 2})}}, {"y"});
  if (!y.ok()) return y.status();
  return (*y)[0];  // [[5.5, 1]]
}

int main() {
  absl::StatusOr<kiln::Tensor> y = Dense();
  if (!y.ok()) {
    std::cerr << y.status() << "\n";
    return 1;
  }
  // y is f32[rows, columns]: print it as nested lists.
  const int64_t rows = y->shape().dims()[0], columns = y->shape().dims()[1];
  std::cout << "[";
  for (int64_t r = 0; r < rows; ++r) {
    std::cout << (r > 0 ? ", [" : "[");
    for (int64_t c = 0; c < columns; ++c) {
      std::cout << (c > 0 ? ", " : "") << y->data<float>()[r * columns + c];
    }
    std::cout << "]";
  }
  std::cout << "]\n";
  return 0;
}
