// Session: the run half of define-then-run. Created from a GraphDef (or a verified
// Graph), it binds run-time dimensions from the feeds and executes the graph.
#ifndef KILN_RUNTIME_SESSION_H_
#define KILN_RUNTIME_SESSION_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "graph/proto_convert.h"
#include "graph/tensor.h"
#include "proto/graph.pb.h"

namespace kiln {

struct SessionOptions {
  // Threads for intra-op parallelism; 0 means one per core.
  int num_threads = 0;
};

using Feeds = std::vector<std::pair<std::string, Tensor>>;

class Session {
 public:
  // Imports and verifies `def`. External data is resolved per `import`.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const proto::GraphDef& def,
                                                         const SessionOptions& options = {},
                                                         const ImportOptions& import = {});
  // Takes a graph (verified here again).
  static absl::StatusOr<std::unique_ptr<Session>> Create(Graph graph,
                                                         const SessionOptions& options = {});

  // Runs the graph. `feeds` gives every signature input exactly once, by name, with the
  // declared dtype and a shape matching the declared one (-1 accepts any size).
  // `fetches` are signature output names, or tensor names "node" / "node:k". Returns one
  // tensor per fetch, owned by the caller. Errors name the feed, fetch or node; the
  // Session stays usable after an error. Thread-safe: concurrent calls are allowed.
  absl::StatusOr<std::vector<Tensor>> Run(const Feeds& feeds,
                                          const std::vector<std::string>& fetches) const;

  // Runs with every signature output fetched, in signature order.
  absl::StatusOr<std::vector<Tensor>> Run(const Feeds& feeds) const;

  const Graph& graph() const { return graph_; }
  const SessionOptions& options() const { return options_; }

 private:
  Session(Graph graph, SessionOptions options)
      : graph_(std::move(graph)), options_(options) {}

  absl::StatusOr<TensorRef> ResolveFetch(const std::string& fetch) const;

  Graph graph_;
  SessionOptions options_;
};

}  // namespace kiln

#endif  // KILN_RUNTIME_SESSION_H_
