/* The one calling convention of every Kiln kernel, generated or hand-written, CPU or
 * CUDA. A plain C header with no dependencies, versioned like a schema: a compiled
 * artifact records KILN_KERNEL_ABI_VERSION and a runtime refuses another version.
 *
 * A kernel is a function over buffer pointers plus a workgroup id and count. The
 * runtime splits a kernel's work into `workgroup_count` independent workgroups and may
 * run them concurrently on different threads (on CUDA a workgroup is a thread block).
 * Everything a kernel needs besides its buffers (shapes, strides, attributes) is fixed
 * at plan time in a read-only parameter block, so a call neither checks nor allocates.
 *
 * Version 2 added the environment (error reports and the import table), the operand
 * sizes, and the status codes shared by every kernel.
 */
#ifndef KILN_KERNELS_ABI_KERNEL_ABI_H_
#define KILN_KERNELS_ABI_KERNEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_KERNEL_ABI_VERSION 2

/* Buffer alignment the memory plan guarantees for every operand, in bytes. */
#define KILN_KERNEL_BUFFER_ALIGNMENT 64

/* What a kernel returns. The data errors (index, division, exponent, invalid argument)
 * are the caller's: the runtime reports them as InvalidArgument naming the node, and the
 * Session stays usable. The others are Kiln's own failures (Internal, Unimplemented). */
typedef enum kiln_kernel_status {
  KILN_KERNEL_OK = 0,
  KILN_KERNEL_INDEX_OUT_OF_RANGE = 1,   /* an index outside its axis (Gather, ...) */
  KILN_KERNEL_DIVISION_BY_ZERO = 2,     /* integer division or modulo by zero */
  KILN_KERNEL_NEGATIVE_EXPONENT = 3,    /* integer Pow with a negative exponent */
  KILN_KERNEL_INVALID_ARGUMENT = 4,     /* other values a kernel cannot compute on */
  KILN_KERNEL_INTERNAL = 5,             /* a broken invariant inside Kiln */
  KILN_KERNEL_UNIMPLEMENTED = 6,        /* a case the kernel does not handle */
  KILN_KERNEL_STATUS_COUNT = 7
} kiln_kernel_status;

/* The generic text of a status, for when the kernel reported no detail. */
static inline const char* kiln_kernel_status_message(int32_t status) {
  switch (status) {
    case KILN_KERNEL_OK: return "ok";
    case KILN_KERNEL_INDEX_OUT_OF_RANGE: return "an index is out of range";
    case KILN_KERNEL_DIVISION_BY_ZERO: return "integer division by zero";
    case KILN_KERNEL_NEGATIVE_EXPONENT: return "negative exponent in integer Pow";
    case KILN_KERNEL_INVALID_ARGUMENT: return "invalid input values";
    case KILN_KERNEL_INTERNAL: return "internal error";
    case KILN_KERNEL_UNIMPLEMENTED: return "unimplemented case";
    default: return "unknown kernel status";
  }
}

/* 1 when `status` is an error in the caller's data, 0 otherwise. */
static inline int kiln_kernel_status_is_data_error(int32_t status) {
  return status >= KILN_KERNEL_INDEX_OUT_OF_RANGE && status <= KILN_KERNEL_INVALID_ARGUMENT;
}

typedef struct kiln_kernel_env kiln_kernel_env;

/* What the runtime lends every kernel call: one per run context, read-only to kernels. */
struct kiln_kernel_env {
  uint32_t abi_version; /* KILN_KERNEL_ABI_VERSION of the runtime */
  /* Records why the current call fails, before the kernel returns `status`: the message
   * (NUL-terminated, say what and which values: "index 70000 out of range [0, 30522)")
   * is copied; the first report of a run wins. Thread-safe, allocates nothing. */
  void (*report)(const kiln_kernel_env* env, int32_t status, const char* message);
  /* Functions the runtime lends generated code (microkernels, helpers), by ordinal;
   * an executable names the ones it needs and the runtime binds them at load. */
  const void* const* imports;
  uint32_t num_imports;
  /* The runtime's per-run state behind `report`; opaque to kernels. */
  void* runtime;
};

typedef struct kiln_kernel_call {
  /* Operand pointers in the kernel's order: inputs, then outputs, then (if the kernel
   * asked for one) its scratch buffer. Never null for operands of non-zero size. */
  void* const* buffers;
  /* The byte size of each operand, in the same order. */
  const int64_t* buffer_sizes;
  uint32_t num_buffers;
  /* The parameter block made when the kernel was prepared; read-only. */
  const void* params;
  /* Never null. */
  const kiln_kernel_env* env;
} kiln_kernel_call;

/* Runs workgroup `workgroup_id` of `workgroup_count`. Returns KILN_KERNEL_OK, or a status
 * on a failure (after env->report, where the kernel can say more than the status). */
typedef int32_t (*kiln_kernel_fn)(const kiln_kernel_call* call, int64_t workgroup_id,
                                  int64_t workgroup_count);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* KILN_KERNELS_ABI_KERNEL_ABI_H_ */
