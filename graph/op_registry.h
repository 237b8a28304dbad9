// The op registry: each op's schema, traits, shape/dtype inference, FLOP count and
// reference kernel, registered once (graph/ops/*.cc) and looked up by every layer.
#ifndef KILN_GRAPH_OP_REGISTRY_H_
#define KILN_GRAPH_OP_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "graph/attr.h"
#include "graph/graph.h"
#include "base/tensor.h"

namespace kiln {

// Properties passes ask about instead of switching over op names.
enum OpTrait : uint32_t {
  kTraitNone = 0,
  kElementwise = 1u << 0,     // output element i depends only on input elements i
  kBroadcasting = 1u << 1,    // inputs broadcast NumPy-style to the output shape
  kCommutative = 1u << 2,     // binary op with f(a, b) == f(b, a)
  kLayoutAgnostic = 1u << 3,  // computes the same in any data layout
  kReduction = 1u << 4,       // reduces over axes
  kDataMovement = 1u << 5,    // moves or copies elements without arithmetic
  kSource = 1u << 6,          // has no inputs (Input, Constant)
  // Elementwise over input 0 with 1-D parameters laid along dimension `axis` (an int
  // attribute): permuting x's dimensions commutes with the op once `axis` is remapped.
  kChannelAxis = 1u << 7,
  // Rank-4 activations (input 0, output 0) in the layout named by the `data_format`
  // attribute ("NCHW" or "NHWC"); layout assignment may switch it.
  kLayoutSelectable = 1u << 8,
  // A contraction (matrix product, convolution): the anchor epilogues fuse into.
  kContraction = 1u << 9,
  // Reduces along attribute `axis` and broadcasts the result back, so the output has input
  // 0's shape (softmax, layer normalization).
  kAxisReduction = 1u << 10,
  // Output 0 is input 0's row-major elements unchanged under another shape (no data moves).
  kBitcast = 1u << 11,
  // Output 0 is clamped to the float attributes [clamp_min, clamp_max] (absent: unbounded)
  // as max then min, NaN staying NaN: where the compiler folds a following ReLU or ReLU6
  // (passes/fold_epilogues.h).
  kClampedOutput = 1u << 12,
  // Optional input 2 is a bias over output 0's last dimension and optional input 3 (given
  // only with a bias) a residual of output 0's type, both added before the clamp: where
  // the compiler folds a following bias or residual Add.
  kEpilogueInputs = 1u << 13,
};

struct AttrSpec {
  std::string name;
  AttrType type;
  // nullopt: the attribute is required.
  std::optional<AttrValue> default_value;
};

// What a shape function sees: the node (attributes with defaults filled) and its input
// types. It fills `outputs` (one per output) or returns an error whose message names the
// offending input or attribute; callers prefix the node name and op.
struct InferContext {
  const Node& node;
  absl::Span<const TensorType> inputs;
  std::vector<TensorType>& outputs;
};

// What a reference kernel sees: inputs and preallocated outputs whose shapes are the
// inferred (fully known) ones. Returns an error for data-dependent failures only (for
// example an out-of-range Gather index); never crashes on valid-typed input.
struct KernelContext {
  const Node& node;
  absl::Span<const Tensor> inputs;
  absl::Span<Tensor> outputs;
};

using ShapeFn = std::function<absl::Status(InferContext&)>;
using ReferenceKernel = std::function<absl::Status(KernelContext&)>;
// Floating-point operations of one execution, from the node and its known types.
using FlopsFn = std::function<int64_t(const Node&, absl::Span<const TensorType> inputs,
                                      absl::Span<const TensorType> outputs)>;

struct OpDef {
  std::string name;
  std::string summary;
  // Input names (documentation and error messages); the last may repeat when
  // max_inputs exceeds the list (variadic, as Concat).
  std::vector<std::string> input_names;
  int min_inputs = 0;
  int max_inputs = 0;  // -1: unbounded
  int num_outputs = 1;
  std::vector<AttrSpec> attrs;
  // dtypes allowed for input 0 (empty: any). Ops check their other inputs themselves.
  std::vector<DataType> dtypes;
  uint32_t traits = kTraitNone;
  // Structural ops (Fusion) hold a subgraph: the verifier infers them, the evaluator runs
  // them and the FLOP count recurses (graph/fusion.h), so they have no infer, reference
  // or flops function here and the registry depends on neither.
  bool structural = false;
  ShapeFn infer;
  ReferenceKernel reference;
  FlopsFn flops;  // may be empty: counts as 0

  bool Has(OpTrait trait) const { return (traits & trait) != 0; }
  const AttrSpec* FindAttr(absl::string_view attr) const;
};

// Immutable once built; Global() is thread-safe.
class OpRegistry {
 public:
  // Every built-in op (graph/ops/register_all_ops.cc), built on first use.
  static const OpRegistry& Global();

  // Error when the name is taken or the definition is incomplete.
  absl::Status Register(OpDef def);
  const OpDef* Find(absl::string_view name) const;
  // All ops, sorted by name.
  std::vector<const OpDef*> ops() const;

 private:
  std::map<std::string, std::unique_ptr<OpDef>, std::less<>> ops_;
};

// Common dtype lists for OpDef::dtypes.
const std::vector<DataType>& FloatTypes();    // f16 bf16 f32 f64
const std::vector<DataType>& NumericTypes();  // floats and integers
const std::vector<DataType>& AllTypes();      // numeric and bool

}  // namespace kiln

#endif  // KILN_GRAPH_OP_REGISTRY_H_
