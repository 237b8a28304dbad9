// Session: Compile plus the runtime core, for programs that hold a graph. Created from a
// GraphDef (or a verified Graph), it optimizes the graph once, compiles an Executable per
// input-shape signature (cached) and runs it on the runtime core (LoadedExecutable) over
// pre-planned arenas: no allocation in a steady-state run, any number of concurrent runs.
#ifndef KILN_RUNTIME_SESSION_H_
#define KILN_RUNTIME_SESSION_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "graph/proto_convert.h"
#include "base/tensor.h"
#include "kernels/kernel_provider.h"
#include "proto/graph.pb.h"
#include "runtime/compile.h"
#include "runtime/plan.h"
#include "runtime/thread_pool.h"

namespace kiln {

struct SessionOptions {
  // Threads for intra-op parallelism, the calling thread included; 0 means one per
  // core. Kernels split into several workgroups run across them.
  int num_threads = 0;
  // The kernel library; null means DefaultKernelProvider() (runtime/default_provider.h):
  // generated kernels for loop clusters, the CPU library for the rest.
  std::shared_ptr<const KernelProvider> kernel_provider;
  // With the default provider: a directory where generated kernels' object code is kept
  // (created if missing), so a later process compiles only what is new. Empty: none.
  std::string kernel_cache_dir;
  // Compiled plans kept, one per (input shapes, fetch list, output placement); the
  // oldest is dropped when a new one would exceed this. At least 1.
  int max_cached_plans = 16;
  // Time every step of every Run (Session::Profile); off by default, when the run loop
  // reads no clock.
  bool profile_steps = false;
  // Graph optimization at creation (runtime/compile.h): level 0 runs the graph as given,
  // 1 canonicalizes, 2 (the default) runs the default pipeline. Fusion clusters the kernel
  // library cannot run as one kernel are expanded back into their ops. Only signature
  // outputs and tensors that survive optimization can be fetched by name; use level 0 to
  // fetch any intermediate tensor.
  CompileOptions compile;
};

using Feeds = std::vector<std::pair<std::string, Tensor>>;

// One step of a cached plan with the wall time its Runs spent in it
// (SessionOptions::profile_steps).
struct StepTime {
  std::string node;
  std::string op;
  std::string kernel;
  std::string output;  // the first output's type, "f32[1,56,56,64]"
  int64_t workgroups = 0;
  int64_t nanos = 0;  // summed over `runs`
  int64_t runs = 0;
};

class Session {
 public:
  // Imports and verifies `def`. External data is resolved per `import`.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const proto::GraphDef& def,
                                                         const SessionOptions& options = {},
                                                         const ImportOptions& import = {});
  // Takes a graph (verified here again) and optimizes it (SessionOptions::compile). The
  // constants' bytes move into the Session's read-only weights region, which graph() then
  // borrows.
  static absl::StatusOr<std::unique_ptr<Session>> Create(Graph graph,
                                                         const SessionOptions& options = {});
  ~Session();

  // Runs the graph. `feeds` gives every signature input exactly once, by name, with the
  // declared dtype and a shape matching the declared one (-1 accepts any size).
  // `fetches` are signature output names, or tensor names "node" / "node:k". Returns one
  // tensor per fetch, owned by the caller (allocated here, then written by the kernels).
  // Errors name the feed, fetch or node; the Session stays usable after an error.
  // Thread-safe: concurrent calls are allowed.
  absl::StatusOr<std::vector<Tensor>> Run(const Feeds& feeds,
                                          const std::vector<std::string>& fetches) const;

  // Runs with every signature output fetched, in signature order.
  absl::StatusOr<std::vector<Tensor>> Run(const Feeds& feeds) const;

  // Runs and writes fetch i into the caller's `outputs[i]`, whose dtype and shape must be
  // the fetch's (see FetchTypes) and whose storage the caller owns (Tensor::Allocate or
  // Tensor::Borrow). When every buffer is 64-byte aligned the kernels write straight
  // into them; otherwise the outputs are planned in the arena and copied out. Once the
  // plan for these shapes and fetches is compiled and a context is free, this allocates
  // nothing (with a non-allocating kernel library; thread-local bookkeeping grows once
  // per thread). Errors as the other overloads, plus a buffer of the wrong count, type or
  // shape, naming the fetch. Thread-safe.
  absl::Status Run(const Feeds& feeds, const std::vector<std::string>& fetches,
                   absl::Span<Tensor> outputs) const;

  // The dtype and shape of each fetch for these feeds (compiling the plan if needed).
  // Only the feeds' dtypes and shapes are read: their data may be null.
  absl::StatusOr<std::vector<TensorType>> FetchTypes(const Feeds& feeds,
                                                     const std::vector<std::string>& fetches) const;

  // The plan the tensor-returning Run uses for these feeds and fetches (compiled if
  // needed): kernels write fetched tensors into the caller's buffers. Feeds as for
  // FetchTypes.
  absl::StatusOr<std::shared_ptr<const Plan>> GetPlan(const Feeds& feeds,
                                                      const std::vector<std::string>& fetches) const;

  // Plans in the cache now.
  int num_cached_plans() const;

  // With SessionOptions::profile_steps: every step of every cached plan, in plan order,
  // plan after plan, with its time so far. Call it when no Run is in flight.
  std::vector<StepTime> Profile() const;

  // The verified, optimized graph with its -1 dimensions. Its constants borrow the
  // Session's weights region: copies of it are valid only while the Session lives.
  const Graph& graph() const { return graph_; }
  const SessionOptions& options() const { return options_; }
  const KernelProvider& kernel_provider() const { return *provider_; }

  struct CompiledPlan;  // a cached, loaded Executable (session.cc)
  struct RunScratch;    // per-thread bookkeeping of one Run (session.cc)

 private:
  Session(Graph graph, SessionOptions options);

  // Checks feeds and resolves fetches into `scratch`; a feed without data is an error
  // when `need_data` (a run), not when only a plan or the fetch types are asked for.
  absl::Status ResolveRun(const Feeds& feeds, const std::vector<std::string>& fetches,
                          RunScratch& scratch, bool need_data = true) const;
  absl::StatusOr<TensorRef> ResolveFetch(const std::string& fetch) const;
  absl::StatusOr<std::shared_ptr<CompiledPlan>> FindOrCompile(const RunScratch& scratch,
                                                              OutputPlacement placement) const;
  absl::StatusOr<std::shared_ptr<CompiledPlan>> CompileFor(const RunScratch& scratch,
                                                           OutputPlacement placement,
                                                           uint64_t hash) const;
  // Runs `compiled` with the feeds in `scratch` and outputs at `scratch.outputs`.
  absl::Status Execute(CompiledPlan& compiled, RunScratch& scratch) const;

  Graph graph_;
  SessionOptions options_;
  std::shared_ptr<const KernelProvider> provider_;
  // The constants, read-only, in LayoutWeights' layout: shared by every Executable.
  std::shared_ptr<const uint8_t> weights_;
  std::unique_ptr<ThreadPool> pool_;  // null with one thread
  std::vector<std::string> output_names_;

  // Standard mutexes (not absl::Mutex) so ThreadSanitizer, which cannot see inside the
  // uninstrumented system Abseil, checks the locking too.
  mutable std::mutex compile_mu_;  // one compilation at a time
  mutable std::shared_mutex cache_mu_;
  mutable std::vector<std::shared_ptr<CompiledPlan>> cache_;  // guarded by cache_mu_
};

}  // namespace kiln

#endif  // KILN_RUNTIME_SESSION_H_
