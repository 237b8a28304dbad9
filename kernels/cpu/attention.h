// The attention kernel's prepare half (attention_prepare.cc): which "attention" Fusion
// bodies the CPU library runs as one kernel (kernels/cpu/attention.cc), and their
// parameter block.
#ifndef KILN_KERNELS_CPU_ATTENTION_H_
#define KILN_KERNELS_CPU_ATTENTION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "kernels/cpu/params.h"

namespace kiln::cpu {

// The parameter block (shapes, strides, steps and operand indices; no tiling, isa or
// scratch yet) of a bound attention body: f32 MatMul(q, k), at most one scale by a
// one-element constant and one mask Add in either order, Softmax over the last axis,
// MatMul(., v), with q, k, v, the mask and the output reached through Transpose and
// bitcast ops that a strided view can express, and the output's last dimension
// contiguous. kUnimplemented saying what does not fit otherwise.
absl::StatusOr<AttentionParams> AnalyzeAttentionBody(const Graph& body);

// Whether Fusion node `fusion` is an attention fusion whose body AnalyzeAttentionBody
// accepts, from what is known before shapes are bound (unknown dimensions bound to 1, 2,
// 3 and 7 in turn: each size the body binds at must pass), with inputs of rank <= 8.
absl::Status CheckAttentionFusion(const Node& fusion);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_ATTENTION_H_
