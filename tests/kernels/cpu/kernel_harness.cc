#include "tests/kernels/cpu/kernel_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "runtime/kernel_env.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/shape_inference.h"
#include "base/status_macros.h"
#include "gtest/gtest.h"
#include "runtime/reference_interpreter.h"

namespace kiln::testing {
namespace {

// A 64-byte-aligned buffer of exactly `bytes` bytes (so ASan sees any overrun), null
// when empty: the ABI promises non-null pointers only for operands of non-zero size.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(int64_t bytes) : bytes_(bytes) {
    if (bytes > 0 && posix_memalign(&data_, 64, static_cast<size_t>(bytes)) != 0) {
      data_ = nullptr;
    }
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }
  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  void Fill(uint8_t value) {
    if (data_ != nullptr) std::memset(data_, value, bytes_);
  }
  void CopyFrom(const void* src) {
    if (data_ != nullptr) std::memcpy(data_, src, bytes_);
  }

 private:
  void* data_ = nullptr;
  int64_t bytes_ = 0;
};

int64_t Bytes(const TensorType& type) {
  return type.shape.NumElements() * DataTypeSize(type.dtype);
}

// Compares `got` (bytes laid out as `type`) with `want`; adds failures naming `context`.
bool Compare(const std::string& context, const TensorType& type, const void* got_bytes,
             const Tensor& want, const Tensor* magnitude, const Tolerance& tol) {
  Tensor got = Tensor::Borrow(type.dtype, type.shape, const_cast<void*>(got_bytes));
  if (want.dtype() != type.dtype || want.shape() != type.shape) {
    ADD_FAILURE() << context << ": reference output is " << want.TypeString()
                  << ", kernel output " << type.ToString();
    return false;
  }
  int failures = 0;
  const int64_t n = type.shape.NumElements();
  for (int64_t i = 0; i < n && failures < 5; ++i) {
    if (type.dtype == DataType::kBool) {
      const uint8_t byte = static_cast<const uint8_t*>(got_bytes)[i];
      if (byte > 1 || byte != static_cast<uint8_t>(want.GetAsInt64(i))) {
        ADD_FAILURE() << context << ": element " << i << " is byte " << int{byte}
                      << ", expected " << want.GetAsInt64(i);
        ++failures;
      }
    } else if (!IsFloating(type.dtype)) {
      if (got.GetAsInt64(i) != want.GetAsInt64(i)) {
        ADD_FAILURE() << context << ": element " << i << " is " << got.GetAsInt64(i)
                      << ", expected " << want.GetAsInt64(i);
        ++failures;
      }
    } else {
      const double g = got.GetAsDouble(i);
      const double w = want.GetAsDouble(i);
      bool ok;
      double allowed = 0.0;
      if (std::isnan(w)) {
        ok = std::isnan(g);
      } else if (std::isinf(w)) {
        ok = g == w;
      } else {
        allowed = tol.atol + tol.rtol * std::fabs(w);
        if (magnitude != nullptr) allowed += tol.bound_scale * magnitude->GetAsDouble(i);
        ok = std::fabs(g - w) <= allowed;  // false for a NaN g
      }
      if (!ok) {
        ADD_FAILURE() << context << ": element " << i << " is " << g << ", expected " << w
                      << " (error " << std::fabs(g - w) << ", allowed " << allowed << ")";
        ++failures;
      }
    }
  }
  return failures == 0;
}

}  // namespace

std::string Describe(const KernelCase& c) {
  std::vector<std::string> parts;
  for (const Tensor& t : c.inputs) parts.push_back(t.TypeString());
  std::vector<std::string> attrs;
  for (const auto& [name, value] : c.attrs) {
    attrs.push_back(absl::StrCat(name, "=", AttrValueToString(value)));
  }
  return absl::StrCat(c.op, "(", absl::StrJoin(parts, ", "), ")",
                      attrs.empty() ? "" : absl::StrCat(" {", absl::StrJoin(attrs, ", "), "}"),
                      " gemm=", GemmIsaName(c.options.gemm_isa));
}

double Ulp(DataType dtype) {
  switch (dtype) {
    case DataType::kF32: return std::ldexp(1.0, -23);
    case DataType::kF64: return std::ldexp(1.0, -52);
    case DataType::kF16: return std::ldexp(1.0, -10);
    case DataType::kBF16: return std::ldexp(1.0, -7);
    default: return 0.0;
  }
}

absl::StatusOr<Graph> SingleOpGraph(const KernelCase& c) {
  Graph graph;
  Node node;
  node.name = "op";
  node.op = c.op;
  node.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Node in;
    in.name = absl::StrCat("in", i);
    in.op = "Input";
    in.attrs["dtype"] = c.inputs[i].dtype();
    in.attrs["shape"] = c.inputs[i].shape().dims();
    ASSIGN_OR_RETURN(int id, graph.AddNode(std::move(in)));
    RETURN_IF_ERROR(InferNode(graph, id));
    graph.inputs().push_back(id);
    node.inputs.push_back(TensorRef{id, 0});
  }
  ASSIGN_OR_RETURN(int id, graph.AddNode(std::move(node)));
  RETURN_IF_ERROR(InferNode(graph, id));
  return graph;
}

namespace {

std::shared_ptr<const KernelProvider> ProviderFor(const KernelCase& c) {
  if (c.provider != nullptr) return c.provider;
  return CreateCpuKernelProvider(c.options);
}

}  // namespace

absl::StatusOr<PreparedKernel> PrepareCase(const KernelCase& c) {
  ASSIGN_OR_RETURN(Graph graph, SingleOpGraph(c));
  std::shared_ptr<const KernelProvider> provider = ProviderFor(c);
  return provider->Prepare(graph, graph.node(graph.num_nodes() - 1));
}

namespace {

// Operand buffers of one prepared kernel, in ABI order.
struct Operands {
  std::vector<std::unique_ptr<AlignedBuffer>> inputs;
  std::vector<std::unique_ptr<AlignedBuffer>> outputs;
  std::unique_ptr<AlignedBuffer> scratch;
  std::unique_ptr<AlignedBuffer> params;
  std::vector<void*> pointers;

  void Bind() {
    pointers.clear();
    for (auto& b : inputs) pointers.push_back(b->data());
    for (auto& b : outputs) pointers.push_back(b->data());
    if (scratch->bytes() > 0) pointers.push_back(scratch->data());
  }
};

Operands MakeOperands(const KernelCase& c, const Node& node, const PreparedKernel& kernel) {
  Operands ops;
  for (const Tensor& t : c.inputs) {
    ops.inputs.push_back(std::make_unique<AlignedBuffer>(t.ByteSize()));
    ops.inputs.back()->CopyFrom(t.raw_data());
  }
  for (const TensorType& type : node.outputs) {
    ops.outputs.push_back(std::make_unique<AlignedBuffer>(Bytes(type)));
  }
  ops.scratch = std::make_unique<AlignedBuffer>(kernel.scratch_bytes);
  ops.params = std::make_unique<AlignedBuffer>(static_cast<int64_t>(kernel.params.size()));
  if (!kernel.params.empty()) ops.params->CopyFrom(kernel.params.data());
  ops.Bind();
  return ops;
}

// The call a runtime would make over `ops` (operand sizes unset: no kernel reads them yet).
kiln_kernel_call MakeCall(Operands& ops, const KernelEnv& env) {
  kiln_kernel_call call{};
  call.buffers = ops.pointers.data();
  call.num_buffers = static_cast<uint32_t>(ops.pointers.size());
  call.params = ops.params->data();
  call.env = env.env();
  return call;
}

// Runs workgroups 0..count-1 in a shuffled order; returns the first non-zero code.
int32_t RunShuffled(const PreparedKernel& kernel, Operands& ops, int64_t count, uint64_t seed) {
  for (auto& b : ops.outputs) b->Fill(0xFF);
  ops.scratch->Fill(0xFF);
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  KernelEnv env;
  kiln_kernel_call call = MakeCall(ops, env);
  int32_t first = 0;
  for (int64_t w : order) {
    const int32_t code = kernel.fn(&call, w, count);
    if (code != 0 && first == 0) first = code;
  }
  return first;
}

}  // namespace

bool CheckKernel(const KernelCase& c, const Tolerance& tol) {
  const std::string name = Describe(c);
  absl::StatusOr<Graph> graph = SingleOpGraph(c);
  if (!graph.ok()) {
    ADD_FAILURE() << name << ": " << graph.status();
    return false;
  }
  const int id = graph->num_nodes() - 1;
  const Node& node = graph->node(id);
  std::shared_ptr<const KernelProvider> provider = ProviderFor(c);
  absl::StatusOr<PreparedKernel> kernel = provider->Prepare(*graph, node);
  if (!kernel.ok()) {
    ADD_FAILURE() << name << ": prepare failed: " << kernel.status();
    return false;
  }
  if (kernel->fn == nullptr || kernel->workgroup_count < 1 || kernel->scratch_bytes < 0 ||
      kernel->name.empty()) {
    ADD_FAILURE() << name << ": malformed prepared kernel";
    return false;
  }

  absl::flat_hash_map<int, Tensor> feeds;
  absl::flat_hash_map<int, Tensor> abs_feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    feeds[static_cast<int>(i)] = c.inputs[i];
    if (tol.bound_scale > 0) {
      Tensor a = c.inputs[i].Clone();
      if (IsFloating(a.dtype())) {
        for (int64_t e = 0; e < a.NumElements(); ++e) a.SetFromDouble(e, std::fabs(a.GetAsDouble(e)));
      }
      abs_feeds[static_cast<int>(i)] = a;
    }
  }
  std::vector<TensorRef> fetches;
  for (int k = 0; k < static_cast<int>(node.outputs.size()); ++k) fetches.push_back({id, k});
  absl::StatusOr<std::vector<Tensor>> want = EvaluateReference(*graph, feeds, fetches);
  if (!want.ok()) {
    ADD_FAILURE() << name << ": reference failed: " << want.status();
    return false;
  }
  std::vector<Tensor> magnitude;
  if (tol.bound_scale > 0) {
    // The magnitude reference runs in double (no rounding to speak of), then is stored in
    // the output dtype; good enough for a bound.
    absl::StatusOr<std::vector<Tensor>> m = EvaluateReference(*graph, abs_feeds, fetches);
    if (!m.ok()) {
      ADD_FAILURE() << name << ": magnitude reference failed: " << m.status();
      return false;
    }
    magnitude = *std::move(m);
  }

  Operands ops = MakeOperands(c, node, *kernel);
  std::set<int64_t> splits = {1, 2, 3, kernel->workgroup_count};
  bool ok = true;
  uint64_t seed = 1;
  for (int64_t count : splits) {
    const int32_t code = RunShuffled(*kernel, ops, count, seed++);
    const std::string context =
        absl::StrCat(name, " [", count, " of ", kernel->workgroup_count, " workgroups]");
    if (code != 0) {
      ADD_FAILURE() << context << ": kernel returned " << code;
      ok = false;
      continue;
    }
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      ok &= Compare(absl::StrCat(context, " output ", k), node.outputs[k],
                    ops.outputs[k]->data(), (*want)[k],
                    magnitude.empty() ? nullptr : &magnitude[k], tol);
    }
  }

  if (kernel->inplace_input >= 0) {
    const int in = kernel->inplace_input;
    if (in >= static_cast<int>(c.inputs.size()) ||
        c.inputs[in].ByteSize() != Bytes(node.outputs[0])) {
      ADD_FAILURE() << name << ": inplace_input " << in << " does not match output 0's size";
      return false;
    }
    // Input `in` and output 0 share one buffer holding the input.
    for (auto& b : ops.outputs) b->Fill(0xFF);
    ops.outputs[0]->CopyFrom(c.inputs[in].raw_data());
    ops.pointers[in] = ops.outputs[0]->data();
    KernelEnv env;
    kiln_kernel_call call = MakeCall(ops, env);
    std::vector<int64_t> order(kernel->workgroup_count);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(99));
    for (int64_t w : order) {
      const int32_t code = kernel->fn(&call, w, kernel->workgroup_count);
      if (code != 0) {
        ADD_FAILURE() << name << " [in place]: kernel returned " << code;
        return false;
      }
    }
    ok &= Compare(absl::StrCat(name, " [in place on input ", in, "]"), node.outputs[0],
                  ops.outputs[0]->data(), (*want)[0],
                  magnitude.empty() ? nullptr : &magnitude[0], tol);
  }
  return ok;
}

absl::StatusOr<int32_t> RunForCode(const KernelCase& c) {
  ASSIGN_OR_RETURN(Graph graph, SingleOpGraph(c));
  const Node& node = graph.node(graph.num_nodes() - 1);
  std::shared_ptr<const KernelProvider> provider = ProviderFor(c);
  ASSIGN_OR_RETURN(PreparedKernel kernel, provider->Prepare(graph, node));
  Operands ops = MakeOperands(c, node, kernel);
  return RunShuffled(kernel, ops, kernel.workgroup_count, 7);
}

Tensor Random(DataType dtype, const Shape& shape, uint64_t seed, double lo, double hi) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  std::mt19937_64 rng(seed);
  if (IsFloating(dtype)) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (int64_t i = 0; i < t.NumElements(); ++i) t.SetFromDouble(i, dist(rng));
  } else if (dtype == DataType::kBool) {
    std::bernoulli_distribution dist(0.5);
    for (int64_t i = 0; i < t.NumElements(); ++i) t.SetFromInt64(i, dist(rng) ? 1 : 0);
  } else {
    double min = -128;
    double max = 127;
    if (dtype == DataType::kU8) {
      min = 0;
      max = 255;
    } else if (dtype == DataType::kI32) {
      min = -2147483648.0;
      max = 2147483647.0;
    } else if (dtype == DataType::kI64) {
      min = -9.2e18;
      max = 9.2e18;
    }
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(std::max(lo, min)),
                                                static_cast<int64_t>(std::min(hi, max)));
    for (int64_t i = 0; i < t.NumElements(); ++i) t.SetFromInt64(i, dist(rng));
  }
  return t;
}

Tensor FromSet(DataType dtype, const Shape& shape, uint64_t seed,
               const std::vector<double>& values) {
  Tensor t = Tensor::Allocate(dtype, shape).value();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> dist(0, values.size() - 1);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.SetFromDouble(i, values[dist(rng)]);
  return t;
}

std::optional<Tensor> PackedWeightOf(const KernelCase& unpacked,
                                     const CpuKernelOptions& options) {
  Node node;
  node.op = unpacked.op;
  node.attrs = unpacked.attrs;
  return CreateCpuKernelProvider(options)->PackGemmWeight(node, unpacked.inputs[1]);
}

bool AddOutputShapedInput(KernelCase& c, uint64_t seed) {
  absl::StatusOr<Graph> graph = SingleOpGraph(c);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return false;
  c.inputs.push_back(
      Random(DataType::kF32, graph->node(graph->num_nodes() - 1).outputs[0].shape, seed));
  return true;
}

void AddClampVariant(KernelCase& c, int variant) {
  if (variant % 3 == 1) c.attrs["clamp_min"] = 0.0;
  if (variant % 3 == 2) {
    c.attrs["clamp_min"] = -0.25;
    c.attrs["clamp_max"] = 0.5;
  }
}

}  // namespace kiln::testing
