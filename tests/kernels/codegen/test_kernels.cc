#include "tests/kernels/codegen/test_kernels.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kiln::codegen::testing {

KernelSource ElementwiseKernel(const std::string& body, const std::string& declarations) {
  KernelSource source;
  source.kind = "loop";
  source.function = "kiln_loop";
  source.num_buffers = 2;
  source.mlir = absl::StrCat("module {\n", declarations, R"(
  func.func @kiln_loop(%in0: tensor<8xf32> {llvm.noalias},
                       %out0: tensor<8xf32> {bufferization.writable = true, llvm.noalias},
                       %wg: index, %nwg: index) -> tensor<8xf32> {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %t0 = arith.muli %wg, %c8 : index
    %lo = arith.divui %t0, %nwg : index
    %t1 = arith.addi %wg, %c1 : index
    %t2 = arith.muli %t1, %c8 : index
    %hi = arith.divui %t2, %nwg : index
    %n = arith.subi %hi, %lo : index
    %x = tensor.extract_slice %in0[%lo] [%n] [1] : tensor<8xf32> to tensor<?xf32>
    %init = tensor.empty(%n) : tensor<?xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
        ins(%x : tensor<?xf32>) outs(%init : tensor<?xf32>) {
    ^bb0(%v: f32, %o: f32):
)", body, R"(
    } -> tensor<?xf32>
    %w = tensor.insert_slice %r into %out0[%lo] [%n] [1] : tensor<?xf32> into tensor<8xf32>
    return %w : tensor<8xf32>
  }
})");
  return source;
}


KernelSource ScaleKernel(float scale) {
  return ElementwiseKernel(absl::StrFormat(
      "      %%c = arith.constant %.1f : f32\n"
      "      %%y = arith.mulf %%v, %%c : f32\n"
      "      linalg.yield %%y : f32",
      scale));
}

}  // namespace kiln::codegen::testing
