// libFuzzer target: arbitrary bytes as a GraphDef (text or binary, chosen by the first
// byte), imported and verified; small verified graphs are also run on the reference
// interpreter. Any crash, leak or undefined behaviour is a bug: bad graphs must only
// produce a Status.
#include <cstddef>
#include <cstdint>

#include "graph/graph_io.h"
#include "graph/proto_convert.h"
#include "tests/fuzz/run_small_graph.h"

namespace {

// Keeps fuzzing fast and memory-bounded: graphs whose tensors exceed this are only verified.
constexpr int64_t kMaxElementsToRun = 1 << 16;


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool text = data[0] & 1;
  absl::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<kiln::proto::GraphDef> def = kiln::ParseGraphDef(bytes, text);
  if (!def.ok()) return 0;
  absl::StatusOr<kiln::Graph> graph = kiln::GraphFromProto(*def);
  if (!graph.ok()) return 0;
  // A verified graph must export and re-import.
  absl::StatusOr<kiln::proto::GraphDef> again = kiln::GraphToProto(*graph);
  if (!again.ok() || !kiln::GraphFromProto(*again).ok()) __builtin_trap();
  kiln::fuzzing::RunIfSmall(*graph, kMaxElementsToRun, /*fetch_all=*/true);
  return 0;
}
