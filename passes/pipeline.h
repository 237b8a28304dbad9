// Pipeline: runs passes in order (stages of one pass, or groups iterated to a fixed point),
// verifies after every pass, times them, and dumps the graph after each as text and dot.
#ifndef KILN_PASSES_PIPELINE_H_
#define KILN_PASSES_PIPELINE_H_

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "passes/pass.h"

namespace kiln::passes {

struct PipelineOptions {
#ifdef NDEBUG
  static constexpr bool kVerifyByDefault = false;
#else
  static constexpr bool kVerifyByDefault = true;
#endif
  // Run VerifyGraph after every pass (XLA's invariant checker). On in debug builds; tests
  // and `kiln opt` turn it on. A verifier error names the pass that broke the graph.
  bool verify_each = kVerifyByDefault;
  // When set, the input and the graph after each pass are written there as
  // NNN-PASS.kgraph and NNN-PASS.dot (the directory must exist).
  std::string dump_dir;
  // Print one line per pass run: time, changed or not, node count.
  bool verbose = false;
  // Where verbose lines go; null means std::cerr. Not owned.
  std::ostream* log = nullptr;
  // Passes skipped by name (--disable).
  std::set<std::string> disabled;
};

// One pass run, as recorded for --verbose and benchmarks.
struct PassRecord {
  std::string pass;
  int iteration = 0;  // within a fixed-point group, from 0
  double seconds = 0;
  bool changed = false;
  int nodes_after = 0;
};

// Owns its passes. Not thread-safe; Run may be called again on another graph.
class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options = {}) : options_(std::move(options)) {}
  Pipeline(Pipeline&&) = default;
  Pipeline& operator=(Pipeline&&) = default;

  // Appends a stage that runs `pass` once.
  void AddPass(std::unique_ptr<Pass> pass);
  // Appends a stage that runs `passes` in order, again and again until none changes the
  // graph or `max_iterations` rounds ran (then it stops quietly: the graph is still valid).
  void AddFixedPoint(std::string name, std::vector<std::unique_ptr<Pass>> passes,
                     int max_iterations);

  // Runs every stage; returns whether any pass changed the graph. Errors read
  // "pass 'NAME': reason" or "pipeline: after pass 'NAME': verifier message".
  absl::StatusOr<bool> Run(Graph& graph);

  // Names of the passes in run order (a fixed-point group's once), disabled ones included.
  std::vector<std::string> PassNames() const;
  // The runs of the last Run.
  const std::vector<PassRecord>& records() const { return records_; }
  PipelineOptions& options() { return options_; }

 private:
  struct Stage {
    std::string name;  // the fixed-point group's, or empty for a single pass
    std::vector<std::unique_ptr<Pass>> passes;
    int max_iterations = 1;
  };

  absl::StatusOr<bool> RunPass(Pass& pass, int iteration, Graph& graph);
  absl::Status Dump(const Graph& graph, absl::string_view label);

  PipelineOptions options_;
  std::vector<Stage> stages_;
  std::vector<PassRecord> records_;
  int dump_count_ = 0;
};

}  // namespace kiln::passes

#endif  // KILN_PASSES_PIPELINE_H_
