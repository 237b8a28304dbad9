// libFuzzer target: arbitrary bytes as an ONNX ModelProto through the importer (with a
// small folding limit), the report mode, and, for small imported graphs, the reference
// interpreter. Bad models must only produce a Status: any crash, leak or undefined
// behaviour is a bug.
#include <cstddef>
#include <cstdint>

#include "graph/onnx/onnx_importer.h"
#include "onnx/onnx-ml.pb.h"
#include "tests/fuzz/run_small_graph.h"

namespace {

// Keeps each input fast and memory-bounded.
constexpr int64_t kMaxElements = 1 << 16;


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size))) return 0;
  kiln::OnnxImportOptions options;
  options.max_folded_elements = kMaxElements;
  (void)kiln::ListUnsupportedOnnxNodes(model, options);
  absl::StatusOr<kiln::Graph> graph = kiln::ImportOnnxModel(model, options);
  if (graph.ok()) kiln::fuzzing::RunIfSmall(*graph, kMaxElements, /*fetch_all=*/false);
  return 0;
}
