#include "runtime/session.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "graph/bind_shapes.h"
#include "base/status_macros.h"
#include "graph/verifier.h"
#include "runtime/alignment.h"
#include "runtime/default_provider.h"
#include "runtime/loaded_executable.h"
#include "runtime/memory_planner.h"

namespace kiln {

// What one Run resolves before it looks up a plan. Kept per thread and reused, so a
// steady-state Run does not allocate it.
struct Session::RunScratch {
  std::vector<const Tensor*> feeds;  // per graph input position
  std::vector<TensorRef> fetches;
  std::vector<const void*> inputs;   // feed bytes, per graph input position
  std::vector<void*> outputs;        // caller buffers, per fetch
};

// The Executable of one (input shapes, fetch list, output placement), loaded on the
// runtime core with its pool of execution contexts.
struct Session::CompiledPlan {
  uint64_t hash = 0;
  std::vector<std::vector<int64_t>> input_dims;  // per graph input position
  std::vector<TensorRef> fetches;
  OutputPlacement placement = OutputPlacement::kArena;
  std::unique_ptr<LoadedExecutable> loaded;

  bool Matches(const RunScratch& scratch, OutputPlacement p, uint64_t h) const {
    if (h != hash || p != placement || scratch.fetches != fetches) return false;
    for (size_t i = 0; i < input_dims.size(); ++i) {
      if (scratch.feeds[i]->shape().dims() != input_dims[i]) return false;
    }
    return true;
  }
  const Plan& plan() const { return loaded->executable().plan; }
};

namespace {

Session::RunScratch& ThreadScratch() {
  thread_local Session::RunScratch scratch;
  return scratch;
}

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

uint64_t KeyHash(const Session::RunScratch& scratch, OutputPlacement placement) {
  uint64_t h = static_cast<uint64_t>(placement);
  for (const Tensor* feed : scratch.feeds) {
    h = Mix(h, feed->shape().rank());
    for (int64_t d : feed->shape().dims()) h = Mix(h, static_cast<uint64_t>(d));
  }
  for (const TensorRef& f : scratch.fetches) {
    h = Mix(h, (static_cast<uint64_t>(f.node) << 32) | static_cast<uint32_t>(f.output));
  }
  return h;
}

// Same test as CheckInputShape, without building the declared Shape (no allocation).
bool ShapeMatches(const std::vector<int64_t>& declared, const Shape& shape) {
  if (static_cast<int>(declared.size()) != shape.rank()) return false;
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape.dim(i) < 0 || (declared[i] != kUnknownDim && declared[i] != shape.dim(i))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Session::Session(Graph graph, SessionOptions options)
    : graph_(std::move(graph)), options_(std::move(options)) {}

Session::~Session() = default;

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const proto::GraphDef& def,
                                                         const SessionOptions& options,
                                                         const ImportOptions& import) {
  ImportOptions verified = import;
  verified.verify = true;
  ASSIGN_OR_RETURN(Graph graph, GraphFromProto(def, verified));
  return Create(std::move(graph), options);
}

absl::StatusOr<std::unique_ptr<Session>> Session::Create(Graph graph,
                                                         const SessionOptions& options) {
  RETURN_IF_ERROR(VerifyGraph(graph));
  if (options.num_threads < 0) {
    return absl::InvalidArgumentError("SessionOptions.num_threads must be >= 0");
  }
  if (options.max_cached_plans < 1) {
    return absl::InvalidArgumentError("SessionOptions.max_cached_plans must be >= 1");
  }
  std::shared_ptr<const KernelProvider> provider = options.kernel_provider;
  if (provider == nullptr) {
    provider = options.kernel_cache_dir.empty()
                   ? DefaultKernelProvider()
                   : GeneratedKernelProviderWithCache(options.kernel_cache_dir);
  }
  RETURN_IF_ERROR(OptimizeGraph(graph, options.compile, *provider));
  std::unique_ptr<Session> session(new Session(std::move(graph), options));
  session->provider_ = std::move(provider);
  int threads = options.num_threads == 0 ? ThreadPool::DefaultThreadCount() : options.num_threads;
  if (threads > 1) session->pool_ = std::make_unique<ThreadPool>(threads);
  for (const GraphOutput& out : session->graph_.outputs()) {
    session->output_names_.push_back(out.name);
  }

  // Weights: every constant copied once into one read-only region, in the layout every
  // plan of this graph uses; the graph's constants then borrow it.
  Graph& g = session->graph_;
  WeightsLayout layout = LayoutWeights(g);
  ASSIGN_OR_RETURN(MappedRegion region, MappedRegion::Create(layout.bytes, /*touch=*/false));
  auto weights = std::make_shared<MappedRegion>(std::move(region));
  CopyWeights(g, layout, weights->data());
  for (int n = 0; n < g.num_nodes(); ++n) {
    if (layout.offset[n] < 0) continue;
    Node& node = g.node(n);
    const Tensor value = node.attr<Tensor>("value");
    node.attrs["value"] =
        Tensor::Borrow(value.dtype(), value.shape(), weights->data() + layout.offset[n]);
  }
  RETURN_IF_ERROR(weights->MakeReadOnly());
  session->weights_ = std::shared_ptr<const uint8_t>(weights, weights->data());
  return session;
}

absl::StatusOr<TensorRef> Session::ResolveFetch(const std::string& fetch) const {
  for (const GraphOutput& out : graph_.outputs()) {
    if (out.name == fetch) return out.tensor;
  }
  absl::StatusOr<TensorRef> ref = graph_.ParseTensorName(fetch);
  if (!ref.ok() || ref->output >= static_cast<int>(graph_.node(ref->node).outputs.size())) {
    return absl::NotFoundError(absl::StrCat(
        "fetch '", fetch, "' is neither a graph output nor a tensor of the graph",
        options_.compile.optimization_level > 0
            ? " (optimization may have removed it: create the Session with "
              "compile.optimization_level = 0 to fetch intermediate tensors)"
            : ""));
  }
  return *ref;
}

absl::Status Session::ResolveRun(const Feeds& feeds, const std::vector<std::string>& fetches,
                                 RunScratch& scratch, bool need_data) const {
  const std::vector<int>& inputs = graph_.inputs();
  scratch.feeds.assign(inputs.size(), nullptr);
  for (const auto& [name, tensor] : feeds) {
    int position = -1;
    for (size_t i = 0; i < inputs.size() && position < 0; ++i) {
      if (graph_.node(inputs[i]).name == name) position = static_cast<int>(i);
    }
    if (position < 0) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is not a graph input"));
    }
    if (scratch.feeds[position] != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is given twice"));
    }
    const Node& input = graph_.node(inputs[position]);
    DataType declared = input.outputs[0].dtype;
    if (!tensor.valid() || tensor.dtype() != declared) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "': dtype ",
                                                     DataTypeName(tensor.dtype()), ", expected ",
                                                     DataTypeName(declared)));
    }
    if (need_data && tensor.raw_data() == nullptr && tensor.NumElements() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' has no data"));
    }
    if (!ShapeMatches(input.outputs[0].shape.dims(), tensor.shape())) {
      return CheckInputShape(input, tensor.shape());  // the error naming the input
    }
    RETURN_IF_ERROR(ValidateShape(tensor.shape()));
    scratch.feeds[position] = &tensor;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (scratch.feeds[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", graph_.node(inputs[i]).name, "' is not fed"));
    }
  }
  scratch.fetches.clear();
  for (const std::string& fetch : fetches) {
    ASSIGN_OR_RETURN(TensorRef ref, ResolveFetch(fetch));
    scratch.fetches.push_back(ref);
  }
  scratch.inputs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) scratch.inputs[i] = scratch.feeds[i]->raw_data();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session::CompiledPlan>> Session::FindOrCompile(
    const RunScratch& scratch, OutputPlacement placement) const {
  const uint64_t hash = KeyHash(scratch, placement);
  {
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    for (const std::shared_ptr<CompiledPlan>& compiled : cache_) {
      if (compiled->Matches(scratch, placement, hash)) return compiled;
    }
  }
  return CompileFor(scratch, placement, hash);
}

absl::StatusOr<std::shared_ptr<Session::CompiledPlan>> Session::CompileFor(
    const RunScratch& scratch, OutputPlacement placement, uint64_t hash) const {
  std::lock_guard<std::mutex> compile_lock(compile_mu_);
  {
    // Another thread may have compiled it while this one waited.
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    for (const std::shared_ptr<CompiledPlan>& compiled : cache_) {
      if (compiled->Matches(scratch, placement, hash)) return compiled;
    }
  }
  auto compiled = std::make_shared<CompiledPlan>();
  compiled->hash = hash;
  compiled->fetches = scratch.fetches;
  compiled->placement = placement;
  PlanRequest request;
  request.fetches = scratch.fetches;
  request.outputs = placement;
  request.weights = weights_;
  for (size_t i = 0; i < scratch.feeds.size(); ++i) {
    compiled->input_dims.push_back(scratch.feeds[i]->shape().dims());
    request.input_shapes[graph_.node(graph_.inputs()[i]).name] = scratch.feeds[i]->shape();
  }
  for (const TensorRef& fetch : scratch.fetches) {
    request.fetch_names.push_back(graph_.TensorName(fetch));
  }
  for (const GraphOutput& out : graph_.outputs()) {
    for (size_t f = 0; f < scratch.fetches.size(); ++f) {
      if (scratch.fetches[f] == out.tensor) request.fetch_names[f] = out.name;
    }
  }
  // A fetch list may name one tensor twice; the signature names each output once.
  for (size_t f = 0; f < request.fetch_names.size(); ++f) {
    for (size_t g = 0; g < f; ++g) {
      if (request.fetch_names[g] == request.fetch_names[f]) {
        absl::StrAppend(&request.fetch_names[f], "#", f);
        break;
      }
    }
  }
  ASSIGN_OR_RETURN(Executable executable, PlanExecutable(graph_, request, *provider_));
  // The first arena is made (and touched) at load, at plan time.
  ASSIGN_OR_RETURN(compiled->loaded, LoadedExecutable::Load(std::move(executable), pool_.get()));
  if (options_.profile_steps) compiled->loaded->EnableProfiling();

  std::unique_lock<std::shared_mutex> lock(cache_mu_);
  cache_.push_back(compiled);
  if (static_cast<int>(cache_.size()) > options_.max_cached_plans) {
    cache_.erase(cache_.begin());  // runs still using it hold their own reference
  }
  return compiled;
}

absl::Status Session::Execute(CompiledPlan& compiled, RunScratch& scratch) const {
  return compiled.loaded->Run(scratch.inputs, scratch.outputs);
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const Feeds& feeds,
                                                 const std::vector<std::string>& fetches) const {
  RunScratch& scratch = ThreadScratch();
  RETURN_IF_ERROR(ResolveRun(feeds, fetches, scratch));
  ASSIGN_OR_RETURN(std::shared_ptr<CompiledPlan> compiled,
                   FindOrCompile(scratch, OutputPlacement::kCallerBuffer));
  const Plan& plan = compiled->plan();
  std::vector<Tensor> results;
  results.reserve(fetches.size());
  scratch.outputs.assign(fetches.size(), nullptr);
  for (size_t f = 0; f < fetches.size(); ++f) {
    const TensorType& type = plan.value(plan.fetches[f]).type;
    ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(type.dtype, type.shape));
    scratch.outputs[f] = tensor.raw_data();
    results.push_back(std::move(tensor));
  }
  RETURN_IF_ERROR(Execute(*compiled, scratch));
  return results;
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const Feeds& feeds) const {
  return Run(feeds, output_names_);
}

absl::Status Session::Run(const Feeds& feeds, const std::vector<std::string>& fetches,
                          absl::Span<Tensor> outputs) const {
  if (outputs.size() != fetches.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Run: ", outputs.size(),
                                                   " output buffers for ", fetches.size(),
                                                   " fetches"));
  }
  RunScratch& scratch = ThreadScratch();
  RETURN_IF_ERROR(ResolveRun(feeds, fetches, scratch));
  OutputPlacement placement = OutputPlacement::kCallerBuffer;
  for (const Tensor& output : outputs) {
    if (output.ByteSize() > 0 && !IsAligned(output.raw_data())) placement = OutputPlacement::kArena;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<CompiledPlan> compiled, FindOrCompile(scratch, placement));
  const Plan& plan = compiled->plan();
  scratch.outputs.resize(fetches.size());
  for (size_t f = 0; f < fetches.size(); ++f) {
    const TensorType& type = plan.value(plan.fetches[f]).type;
    Tensor& output = outputs[f];
    if (!output.valid() || output.dtype() != type.dtype || output.shape() != type.shape) {
      return absl::InvalidArgumentError(absl::StrCat("output buffer for fetch '", fetches[f],
                                                     "' is ", output.TypeString(), ", expected ",
                                                     type.ToString()));
    }
    if (output.raw_data() == nullptr && output.ByteSize() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("output buffer for fetch '", fetches[f], "' has no data"));
    }
    scratch.outputs[f] = output.raw_data();
  }
  return Execute(*compiled, scratch);
}

absl::StatusOr<std::vector<TensorType>> Session::FetchTypes(
    const Feeds& feeds, const std::vector<std::string>& fetches) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, GetPlan(feeds, fetches));
  std::vector<TensorType> types;
  for (int v : plan->fetches) types.push_back(plan->value(v).type);
  return types;
}

absl::StatusOr<std::shared_ptr<const Plan>> Session::GetPlan(
    const Feeds& feeds, const std::vector<std::string>& fetches) const {
  RunScratch& scratch = ThreadScratch();
  RETURN_IF_ERROR(ResolveRun(feeds, fetches, scratch, /*need_data=*/false));
  ASSIGN_OR_RETURN(std::shared_ptr<CompiledPlan> compiled,
                   FindOrCompile(scratch, OutputPlacement::kCallerBuffer));
  return compiled->loaded->plan();
}

int Session::num_cached_plans() const {
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  return static_cast<int>(cache_.size());
}

std::vector<StepTime> Session::Profile() const {
  std::vector<StepTime> steps;
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  for (const std::shared_ptr<CompiledPlan>& compiled : cache_) {
    const LoadedExecutable::StepProfile profile = compiled->loaded->Profile();
    const Plan& plan = compiled->plan();
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      const PlanStep& step = plan.steps[s];
      const std::string output =
          step.num_outputs > 0
              ? plan.memory.values[step.operands[step.num_inputs]].type.ToString()
              : std::string();
      steps.push_back({step.node_name, step.op, step.kernel, output,
                       step.dispatch.workgroup_count, profile.step_nanos[s], profile.runs});
    }
  }
  return steps;
}

}  // namespace kiln
