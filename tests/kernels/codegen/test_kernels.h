// Small loop kernels for the code generator's tests: the shape the loop emitter writes
// (out[i] = f(in[i]) over 8 f32 elements, workgroups owning ranges), as MLIR source.
#ifndef KILN_TESTS_KERNELS_CODEGEN_TEST_KERNELS_H_
#define KILN_TESTS_KERNELS_CODEGEN_TEST_KERNELS_H_

#include <string>

#include "kernels/codegen/kernel_compiler.h"

namespace kiln::codegen::testing {

// out[i] = BODY(in[i]): BODY is the linalg.generic region's body over %v (the input
// element), ending in linalg.yield; `declarations` go before the kernel function.
KernelSource ElementwiseKernel(const std::string& body, const std::string& declarations = "");

// out[i] = in[i] * scale.
KernelSource ScaleKernel(float scale);

}  // namespace kiln::codegen::testing

#endif  // KILN_TESTS_KERNELS_CODEGEN_TEST_KERNELS_H_
