// The parameter blocks of the CPU kernels: the contract between a kernel's prepare half
// (kernels/cpu/*_prepare.cc, compiler side) and its run half (the library the runtime core
// links). Each block is trivially copyable and carries a layout version; change a struct
// and bump its kVersion, so an Executable made with the old layout is refused at load.
#ifndef KILN_KERNELS_CPU_PARAMS_H_
#define KILN_KERNELS_CPU_PARAMS_H_

#include <cstdint>

#include "kernels/cpu/kernel_util.h"

namespace kiln::cpu {

// How a GEMM-shaped kernel (MatMul, Conv2D) splits its output into workgroup tiles, each
// computed by one SgemmImpl::run call with a private packing-scratch slot.
struct MatMulTiling {
  int64_t tile_m;
  int64_t tile_n;
  int64_t tiles_m;  // per batch element
  int64_t tiles_n;
  // Scratch slots (the prepared workgroup count) and bytes per slot. Workgroup w uses
  // slot w % slots, so concurrent workgroups never share one as long as a call uses at
  // most the prepared count (a runtime always does).
  int64_t slots;
  int64_t slot_bytes;
};

// elementwise.cc

struct BinaryParams {
  static constexpr uint32_t kVersion = 1;
  int64_t total;
  int32_t rank;
  int32_t unused;
  int64_t dims[kMaxRank];
  int64_t x_strides[kMaxRank];
  int64_t y_strides[kMaxRank];
};

struct WhereParams {
  static constexpr uint32_t kVersion = 1;
  int64_t total;
  int32_t rank;
  int32_t unused;
  int64_t dims[kMaxRank];
  int64_t strides[3][kMaxRank];  // condition, x, y
};

struct UnaryParams {
  static constexpr uint32_t kVersion = 1;
  int64_t total;
};

// cast.cc

struct CastParams {
  static constexpr uint32_t kVersion = 1;
  int64_t total;
};

// matmul.cc

constexpr int kMaxBatchRank = kMaxRank - 2;

struct MatMulParams {
  static constexpr uint32_t kVersion = 2;
  int64_t m;
  int64_t n;
  int64_t k;
  // Strides of element (i, p) of A and (p, j) of B within one matrix.
  int64_t a_row;
  int64_t a_col;
  int64_t b_row;
  int64_t b_col;
  // Output batch dimensions and each input's stride per batch dimension (0: broadcast).
  int64_t batch;
  int32_t batch_rank;
  int32_t isa;  // GemmIsa of the f32 path
  // Packed B and rows of A contiguous: the indirect GEMM (IgemmArgs), one tap, reading A
  // in place instead of packing it.
  int32_t indirect;
  // PackedMatMul's clamp of the result (clamp set when either bound is finite).
  int32_t clamp;
  float clamp_min;
  float clamp_max;
  // PackedMatMul's bias [n] (operand 2) and residual (after it), added before the clamp.
  int32_t has_bias;
  int32_t has_residual;
  int64_t batch_dims[kMaxBatchRank];
  int64_t a_batch_strides[kMaxBatchRank];
  int64_t b_batch_strides[kMaxBatchRank];
  MatMulTiling tiling;
};

// conv.cc

struct ConvParams {
  static constexpr uint32_t kVersion = 3;
  int64_t batch;
  int64_t c;
  int64_t h;
  int64_t w;
  int64_t o;
  int64_t oh;
  int64_t ow;
  int64_t kh;
  int64_t kw;
  int64_t stride_h;
  int64_t stride_w;
  int64_t dilation_h;
  int64_t dilation_w;
  int64_t pad_top;
  int64_t pad_left;
  int64_t groups;
  int64_t cg;  // input channels per group
  int64_t og;  // output channels per group
  int32_t nhwc;
  int32_t hwio;
  int32_t has_bias;
  int32_t isa;
  // Element strides of x, y (n, c, h, w) and the filter (o, i, h, w).
  int64_t xs[4];
  int64_t ys[4];
  int64_t fs[4];
  // GEMM path.
  int32_t pointwise;  // 1x1, stride 1, no padding: no im2col
  // Packed filter only: the indirect GEMM (IgemmArgs) over row pointers into x, built
  // per tile in the scratch slot, instead of im2col and the packed GEMM.
  int32_t indirect;
  int64_t kdim;       // cg * kh * kw
  int64_t col_bytes;  // im2col part of a scratch slot
  // The clamp of the result (-inf, inf: none; clamp set when either is finite).
  float clamp_min;
  float clamp_max;
  int32_t clamp;
  // PackedConv2D with a residual input (operand 3, after the bias): added before the
  // clamp.
  int32_t has_residual;
  // Indirect packed path with few input channels (a first layer's 3): a filter row's kw
  // taps read as one tap of kw * c floats, from a copy of the tile's input rows padded
  // left and right (window_w pixels each) in the slot, so a pixel's row segment is
  // contiguous even at the image's edges.
  int32_t merged_rows;
  int64_t window_w;
  MatMulTiling tiling;
};

// winograd_conv.cc

// A 3x3 stride-1 NHWC convolution through Winograd's F(m x m, 3x3), m = `tile` (4 or 2;
// kernels/cpu/winograd.h). Output tiles of m x m pixels are numbered image by image, row by
// row; a workgroup takes a block of `block_tiles` of them and one group of output-channel
// chunks. Its scratch slot holds the block's transformed input V ((m + 2)^2 x block_tiles
// rows of v_stride floats) and one chunk's products M ((m + 2)^2 x block_tiles rows of
// o_chunk floats).
struct WinogradParams {
  static constexpr uint32_t kVersion = 2;
  int64_t tile;
  int64_t batch;
  int64_t h;
  int64_t w;
  int64_t c;
  int64_t o;
  int64_t oh;
  int64_t ow;
  int64_t pad_top;
  int64_t pad_left;
  int64_t tiles_h;  // ceil(oh / tile)
  int64_t tiles_w;
  int64_t block_tiles;
  int64_t blocks;
  int64_t o_chunk;   // output channels per GEMM chunk: a multiple of the panel width
  int64_t o_groups;     // units per tile block, each taking o_per_group channels
  int64_t o_per_group;  // a multiple of the panel width
  int64_t v_stride;  // floats per row of V (>= c, padded off multiples of 4 KiB)
  int32_t has_bias;
  int32_t has_residual;
  int32_t clamp;
  int32_t isa;  // GemmIsa of the products
  float clamp_min;
  float clamp_max;
  int64_t slots;
  int64_t slot_bytes;
};

// pool.cc

constexpr int64_t kChannelBlock = 128;

struct PoolParams {
  static constexpr uint32_t kVersion = 1;
  int64_t n, c, h, w, oh, ow;
  int64_t kh, kw, stride_h, stride_w, pad_top, pad_left;
  int32_t nhwc;
  int32_t include_pad;
  int64_t xs[4];  // strides of n, c, h, w
  int64_t ys[4];
  int64_t units;
  int64_t blocks;  // NHWC channel blocks
};

struct GlobalPoolParams {
  static constexpr uint32_t kVersion = 1;
  int64_t n, c, pixels;
  int32_t nhwc;
  int32_t unused;
  int64_t units;
  int64_t blocks;
};

// normalization.cc

// Dimensions before, at and after an axis.
struct AxisSplit {
  int64_t outer;
  int64_t size;
  int64_t inner;
};

// Columns of a strided Softmax handled together (their running max and sum on the stack).
constexpr int64_t kColumns = 64;

struct SoftmaxParams {
  static constexpr uint32_t kVersion = 1;
  AxisSplit s;
  int64_t units;  // inner == 1: rows; else outer * column blocks
  int64_t blocks;
};

// attention.cc

// One matrix operand of the attention kernel read in place: element (batch index b,
// row i, column j) at operand + sum_d b_d * batch[d] + i * row + j * col (strides in
// elements; 0 where the operand broadcasts).
struct AttentionOperand {
  int64_t batch[kMaxBatchRank];
  int64_t row;
  int64_t col;
};

// Scaled dot-product attention per batch element (batch dims, then heads):
// out = softmax(steps(Q K)) V with Q [sq, d], K (as MatMul's b) [d, skv], V [skv, dv],
// where steps are the body's scale and mask add in their order.
struct AttentionParams {
  static constexpr uint32_t kVersion = 1;
  enum Step : int32_t { kNone = 0, kMultiply = 1, kDivide = 2, kAddMask = 3 };
  int64_t batch;  // product of batch_dims
  int32_t batch_rank;
  int32_t isa;  // GemmIsa of both products
  int64_t batch_dims[kMaxBatchRank];
  int64_t sq;
  int64_t skv;
  int64_t d;
  int64_t dv;
  AttentionOperand q;
  AttentionOperand k;
  AttentionOperand v;
  AttentionOperand mask;  // row: query, col: key
  AttentionOperand out;   // col == 1
  int32_t steps[2];
  float scale;
  int32_t has_mask;
  // Operand indices: q, k, v, mask (-1 when absent); the output follows the inputs.
  int32_t q_operand;
  int32_t k_operand;
  int32_t v_operand;
  int32_t mask_operand;
  int32_t out_operand;
  int32_t unused;
  // Query rows per work item (its scores, rows x skv, stay in cache); items are
  // batch x row_blocks, split over the workgroups.
  int64_t row_block;
  int64_t row_blocks;
  // Scratch per workgroup slot: the scores, then the GEMMs' packing space.
  int64_t slots;
  int64_t slot_bytes;
  int64_t scores_bytes;
};

struct LayerNormParams {
  static constexpr uint32_t kVersion = 1;
  int64_t rows;
  int64_t n;
  double epsilon;
};

// BatchNorm and BiasAdd: per-channel affine maps along an axis. With a long inner run
// (NCHW) a unit is one (outer, channel) run; with a short one (NHWC) a unit is one outer
// row, and channel parameters are derived in chunks.
constexpr int64_t kLongRun = 64;

constexpr int64_t kChannelChunk = 256;

struct ChannelParams {
  static constexpr uint32_t kVersion = 1;
  AxisSplit s;
  int64_t units;
  double epsilon;
};

// reduction.cc

// Which reduction (also the kernel table's variant of the Reduce ops).
enum ReduceVariant { kReduceSum, kReduceMean, kReduceMax };

constexpr int64_t kBlock = 256;  // adjacent outputs accumulated together (kept inner run)

struct ReduceParams {
  static constexpr uint32_t kVersion = 1;
  int64_t outputs;
  int64_t count;  // input elements per output
  int64_t inner;  // length of the innermost merged run
  int32_t inner_reduced;
  int32_t kept_rank;  // kept dims other than the inner run, outermost first
  int32_t reduced_rank;  // reduced dims other than the inner run
  int32_t unused;
  int64_t kept_dims[kMaxRank];
  int64_t kept_strides[kMaxRank];
  int64_t reduced_dims[kMaxRank];
  int64_t reduced_strides[kMaxRank];
  int64_t units;
  int64_t blocks;  // kept inner run: blocks of kBlock outputs per run
};

// shape_ops.cc

struct CopyParams {
  static constexpr uint32_t kVersion = 1;
  int64_t bytes;
};

struct StridedParams {
  static constexpr uint32_t kVersion = 1;
  int64_t total;
  int64_t base;  // element offset of output element 0 in the input
  int32_t rank;
  int32_t unused;
  int64_t dims[kMaxRank];
  int64_t strides[kMaxRank];  // input element stride per output dim
};

// Followed in the params block by `inputs` int64 block sizes (elements per outer index).
struct ConcatParams {
  static constexpr uint32_t kVersion = 1;
  int64_t outer;
  int64_t out_block;
  int64_t inputs;
  int64_t elem_size;
};

struct GatherParams {
  static constexpr uint32_t kVersion = 1;
  int64_t outer;
  int64_t size;   // the gathered axis of data
  int64_t count;  // number of indices
  int64_t inner_bytes;
  int64_t axis;   // for error messages
};

enum PadMode : int32_t { kConstant, kReflect, kEdge };

struct PadParams {
  static constexpr uint32_t kVersion = 1;
  int64_t rows;  // output rows (all dims but the last)
  int32_t rank;  // >= 1
  int32_t mode;
  int64_t out_dims[kMaxRank];
  int64_t in_dims[kMaxRank];
  int64_t begin[kMaxRank];
  int64_t in_strides[kMaxRank];
  uint64_t fill;  // the constant's bytes in the output dtype
};

// source.cc

// Followed in the params block by `bytes` bytes of the value.
struct ConstantParams {
  static constexpr uint32_t kVersion = 1;
  int64_t bytes;
  int64_t unused[7];  // keeps the value 64-byte aligned in the block
};

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_PARAMS_H_
