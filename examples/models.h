// The benchmark suite's models built with the C++ API (define-then-run), with random
// weights from a fixed seed. Each graph has one input "x" whose batch dimension is -1
// and one output "y". Configs shrink for tests; the defaults are the suite's sizes.
#ifndef KILN_EXAMPLES_MODELS_H_
#define KILN_EXAMPLES_MODELS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace kiln::examples {

// 784 -> 2048 -> 2048 -> 10 with ReLU, ReLU, Softmax.
struct MlpConfig {
  int64_t in = 784;
  int64_t hidden = 2048;
  int64_t out = 10;
  uint64_t seed = 0;
};
absl::StatusOr<Graph> BuildMlp(const MlpConfig& config = {});

// torchvision's ResNet-50 (v1.5: stride on the 3x3 conv), eval mode, NCHW.
struct ResNetConfig {
  int64_t image = 224;
  int64_t base_width = 64;        // channels of the stem; stages use 1x, 2x, 4x, 8x
  int64_t blocks[4] = {3, 4, 6, 3};
  int64_t classes = 1000;
  uint64_t seed = 0;
};
absl::StatusOr<Graph> BuildResNet50(const ResNetConfig& config = {});

// BERT-base encoder written out op by op: post-LayerNorm, GELU(erf), eps 1e-12,
// no embedding and no mask. Input and output are [batch, seq, hidden].
struct BertConfig {
  int64_t layers = 12;
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t ffn = 3072;
  int64_t seq = 128;
  uint64_t seed = 0;
};
absl::StatusOr<Graph> BuildBert(const BertConfig& config = {});

// y = tanh(x*a + b) * sigmoid(x) + x*x - 0.5*x over a 1-D x.
inline constexpr double kEltwiseA = 1.5409960746765137;
inline constexpr double kEltwiseB = -0.293428897857666;
absl::StatusOr<Graph> BuildEltwise();

}  // namespace kiln::examples

#endif  // KILN_EXAMPLES_MODELS_H_
