/* The one calling convention of every Kiln kernel, generated or hand-written, CPU or
 * CUDA. A plain C header with no dependencies, versioned like a schema: a compiled
 * artifact records KILN_KERNEL_ABI_VERSION and a runtime refuses another version.
 *
 * A kernel is a function over buffer pointers plus a workgroup id and count. The
 * runtime splits a kernel's work into `workgroup_count` independent workgroups and may
 * run them concurrently on different threads (on CUDA a workgroup is a thread block).
 * Everything a kernel needs besides its buffers (shapes, strides, attributes) is fixed
 * at plan time in a read-only parameter block, so a call neither checks nor allocates.
 */
#ifndef KILN_KERNELS_ABI_KERNEL_ABI_H_
#define KILN_KERNELS_ABI_KERNEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_KERNEL_ABI_VERSION 1

/* Buffer alignment the memory plan guarantees for every operand, in bytes. */
#define KILN_KERNEL_BUFFER_ALIGNMENT 64

typedef struct kiln_kernel_call {
  /* Operand pointers in the kernel's order: inputs, then outputs, then (if the kernel
   * asked for one) its scratch buffer. Never null for operands of non-zero size. */
  void* const* buffers;
  /* The parameter block made when the kernel was prepared; read-only. */
  const void* params;
} kiln_kernel_call;

/* Runs workgroup `workgroup_id` of `workgroup_count`. Returns 0 on success and a
 * non-zero kernel-specific code on a data-dependent failure (for example an index out
 * of range), which the runtime reports with the node's name. */
typedef int32_t (*kiln_kernel_fn)(const kiln_kernel_call* call, int64_t workgroup_id,
                                  int64_t workgroup_count);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* KILN_KERNELS_ABI_KERNEL_ABI_H_ */
