/* Kiln's C API: open a model file (a compiled .kiln artifact, a GraphDef, a kgraph or an
 * ONNX model), ask for its inputs and outputs, and run it on buffers the caller owns.
 * Plain C99/C11 with opaque handles; nothing here aborts on bad input (docs/c_api.md). */
#ifndef KILN_C_API_H_
#define KILN_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every function is exported from the shared libraries built on this API. */
#if defined(__GNUC__) || defined(__clang__)
#define KILN_EXPORT __attribute__((visibility("default")))
#else
#define KILN_EXPORT
#endif

/* The library's version (kiln_version() gives the one linked), and the version of this
 * interface: raised whenever a declaration here changes incompatibly. */
#define KILN_VERSION_MAJOR 0
#define KILN_VERSION_MINOR 1
#define KILN_VERSION_PATCH 0
#define KILN_C_API_VERSION 1

/* ------------------------------------------------------------------ status and errors */

/* What a function returned: Abseil's canonical codes, with the same numbers. */
typedef enum KilnStatus {
  KILN_OK = 0,
  KILN_CANCELLED = 1,
  KILN_UNKNOWN = 2,
  KILN_INVALID_ARGUMENT = 3, /* a NULL pointer, a wrong count, dtype, shape or size */
  KILN_DEADLINE_EXCEEDED = 4,
  KILN_NOT_FOUND = 5, /* a missing file, an input or output name the model lacks */
  KILN_ALREADY_EXISTS = 6,
  KILN_PERMISSION_DENIED = 7,
  KILN_RESOURCE_EXHAUSTED = 8,  /* out of memory */
  KILN_FAILED_PRECONDITION = 9, /* a file this library cannot open (libkiln_runtime) */
  KILN_ABORTED = 10,
  KILN_OUT_OF_RANGE = 11, /* a capacity or index too small or too large */
  KILN_UNIMPLEMENTED = 12,
  KILN_INTERNAL = 13,
  KILN_UNAVAILABLE = 14,
  KILN_DATA_LOSS = 15, /* a truncated or corrupted artifact */
  KILN_UNAUTHENTICATED = 16
} KilnStatus;

/* The error of the calling thread's last call to a function returning a KilnStatus: a
 * message naming the function and the offending input, output, field or path
 * ("kiln_session_run: input 'x': i32[2,3], the model takes f32[-1,3]"), or "" when that
 * call succeeded. Owned by the library, valid until the next call into the library on
 * this thread; never NULL. Thread-safe (one message per thread). */
KILN_EXPORT const char* kiln_last_error(void);

/* "OK", "INVALID_ARGUMENT", ...; "UNKNOWN_STATUS" for a value not in KilnStatus. A static
 * string; never NULL. */
KILN_EXPORT const char* kiln_status_name(KilnStatus status);

/* The linked library's version, "0.1.0". A static string. */
KILN_EXPORT const char* kiln_version(void);

/* ------------------------------------------------------------------ element types */

typedef enum KilnDataType {
  KILN_DTYPE_INVALID = 0,
  KILN_DTYPE_F32 = 1,
  KILN_DTYPE_F16 = 2,  /* IEEE half, as uint16_t bits */
  KILN_DTYPE_BF16 = 3, /* bfloat16, as uint16_t bits */
  KILN_DTYPE_F64 = 4,
  KILN_DTYPE_I8 = 5,
  KILN_DTYPE_I32 = 6,
  KILN_DTYPE_I64 = 7,
  KILN_DTYPE_BOOL = 8, /* one byte, 0 or 1 */
  KILN_DTYPE_U8 = 9
} KilnDataType;

/* "f32", "bf16", "i64", "bool", ...; "invalid" for KILN_DTYPE_INVALID or a value not in
 * KilnDataType. A static string; never NULL. */
KILN_EXPORT const char* kiln_dtype_name(KilnDataType dtype);

/* Bytes per element; 0 for KILN_DTYPE_INVALID or a value not in KilnDataType. */
KILN_EXPORT size_t kiln_dtype_size(KilnDataType dtype);

/* ------------------------------------------------------------------ session options */

/* How a session is opened. Opaque so that options can be added without breaking
 * programs built against an earlier version. Not thread-safe; the session copies what
 * it needs, so options may be destroyed or reused once kiln_session_create returns. */
typedef struct KilnSessionOptions KilnSessionOptions;

/* A new options object with the defaults (threads: one per core; optimization level 2),
 * owned by the caller (kiln_session_options_destroy). INVALID_ARGUMENT when `out` is
 * NULL. */
KILN_EXPORT KilnStatus kiln_session_options_create(KilnSessionOptions** out);

/* Frees `options`; NULL is allowed and does nothing. */
KILN_EXPORT void kiln_session_options_destroy(KilnSessionOptions* options);

/* Threads for intra-op parallelism, the calling thread included; 0: one per core.
 * INVALID_ARGUMENT when `options` is NULL or `num_threads` < 0. */
KILN_EXPORT KilnStatus kiln_session_options_set_num_threads(KilnSessionOptions* options,
                                                            int32_t num_threads);

/* Graph optimization for graphs and ONNX models, compiled when opened: 0 none, 1
 * canonicalization, 2 the full pipeline (the default). A compiled artifact was optimized
 * when it was compiled and ignores it. INVALID_ARGUMENT when `options` is NULL or `level`
 * is not 0, 1 or 2. */
KILN_EXPORT KilnStatus kiln_session_options_set_optimization_level(KilnSessionOptions* options,
                                                                   int32_t level);

/* ------------------------------------------------------------------ sessions */

/* An opened model. Created by kiln_session_create, freed by kiln_session_destroy. All
 * functions taking a `const KilnSession*` are thread-safe: any number of threads may
 * query and run one session at once. Destroying it while another thread uses it is not
 * allowed. */
typedef struct KilnSession KilnSession;

/* Opens the model at `path` and stores a new session, owned by the caller, in `*out`
 * (set to NULL on failure). `options` may be NULL for the defaults.
 *
 * libkiln (//kiln:c_api) opens compiled artifacts (recognised by their magic number,
 * whatever the file is called), GraphDefs (.pb, .pbtxt), the kgraph text form (.kgraph)
 * and ONNX models (.onnx). libkiln_runtime (//kiln:c_api_runtime), the runtime core
 * without the compiler, opens compiled artifacts only and answers FAILED_PRECONDITION
 * for any other file.
 *
 * Errors (the message names the path): INVALID_ARGUMENT for a NULL `path` or `out`;
 * NOT_FOUND for a missing file; DATA_LOSS for a truncated or corrupted artifact (and for
 * a file named .kiln that lacks the artifact header, empty files included); the
 * importer's and verifier's errors (naming the node) for a graph or ONNX model that
 * cannot be read; FAILED_PRECONDITION for a file the library cannot open. */
KILN_EXPORT KilnStatus kiln_session_create(const char* path, const KilnSessionOptions* options,
                                           KilnSession** out);

/* Frees `session` and everything it owns (the strings and dims of KilnTensorInfo); NULL
 * is allowed and does nothing. No call on it may be in progress. */
KILN_EXPORT void kiln_session_destroy(KilnSession* session);

/* The kind of file the session was opened from: "artifact", "graph" or "onnx". A static
 * string. INVALID_ARGUMENT when `session` or `kind` is NULL. */
KILN_EXPORT KilnStatus kiln_session_kind(const KilnSession* session, const char** kind);

/* The number of inputs and outputs. INVALID_ARGUMENT when an argument is NULL. */
KILN_EXPORT KilnStatus kiln_session_input_count(const KilnSession* session, size_t* count);
KILN_EXPORT KilnStatus kiln_session_output_count(const KilnSession* session, size_t* count);

/* An input's or output's declared signature. `name` and `dims` are owned by the session
 * and valid until kiln_session_destroy; `dims` holds `rank` dimensions, -1 for one bound
 * when the model runs (a batch size), and is NULL when `rank` is 0. */
typedef struct KilnTensorInfo {
  const char* name;
  KilnDataType dtype;
  size_t rank;
  const int64_t* dims;
} KilnTensorInfo;

/* Fills `*info` for input or output `index` (in the model's order). INVALID_ARGUMENT when
 * an argument is NULL; OUT_OF_RANGE when `index` >= the count. */
KILN_EXPORT KilnStatus kiln_session_input_info(const KilnSession* session, size_t index,
                                               KilnTensorInfo* info);
KILN_EXPORT KilnStatus kiln_session_output_info(const KilnSession* session, size_t index,
                                                KilnTensorInfo* info);

/* A tensor passed to kiln_session_run: row-major elements of `dtype` with `rank`
 * dimensions `dims` (all >= 0; `dims` may be NULL when `rank` is 0) at `data`, a buffer of
 * `byte_size` bytes, at least kiln_dtype_size(dtype) times the product of `dims`. The
 * caller owns `name`, `dims` and `data`; the library reads them (and writes an output's
 * `data`) only during the call. An input's `data` is only read. `data` may be NULL only
 * for a tensor with no elements (and for the inputs of kiln_session_output_shape).
 *
 * `name` is the input's or output's name; when NULL, the tensor is matched by its
 * position in the array instead (element i is input or output i). */
typedef struct KilnTensor {
  const char* name;
  KilnDataType dtype;
  size_t rank;
  const int64_t* dims;
  void* data;
  size_t byte_size;
} KilnTensor;

/* Stores in `dims[0..*rank)` the concrete shape of output `output_index` when the model
 * runs on `inputs` (matched as kiln_session_run matches them; only their dtype and dims
 * are read, `data` may be NULL). Outputs may have -1 dimensions in their KilnTensorInfo;
 * this says how large a buffer a run needs. `*rank` is set whenever the inputs are
 * accepted; when it exceeds `capacity` nothing is written to `dims` and the result is
 * OUT_OF_RANGE, so the caller can retry with a larger array (`dims` may be NULL when
 * `capacity` is 0). Errors: kiln_session_run's for the inputs; INVALID_ARGUMENT for a
 * NULL `session` or `rank`; OUT_OF_RANGE for `output_index` >= the output count. */
KILN_EXPORT KilnStatus kiln_session_output_shape(const KilnSession* session,
                                                 const KilnTensor* inputs, size_t num_inputs,
                                                 size_t output_index, int64_t* dims,
                                                 size_t capacity, size_t* rank);

/* Runs the model on `inputs` and writes every output into the caller's `outputs`.
 *
 * Inputs: one tensor per model input, each exactly once, matched by name (or by position
 * when the name is NULL), in any order. Its dtype must be the input's, its rank the
 * input's, and each dimension the declared one where that is not -1; a compiled artifact
 * further accepts only the batch sizes it was compiled for.
 * Outputs: one buffer per model output, each exactly once, matched the same way, whose
 * dtype and dims are the output's concrete type for these inputs
 * (kiln_session_output_shape) and whose byte_size is large enough. Buffers aligned to 64
 * bytes are written by the kernels directly; others through a copy.
 *
 * Errors, naming the input or output: INVALID_ARGUMENT for a NULL session, a NULL array
 * with a non-zero count, a duplicated, missing or surplus tensor, an unknown dtype, a
 * negative dimension, a wrong dtype or shape, a byte_size too small or a NULL `data`;
 * NOT_FOUND for a name the model lacks. On failure the outputs' contents are unspecified
 * and the session stays usable. Thread-safe: concurrent runs on one session are allowed,
 * each with its own output buffers. */
KILN_EXPORT KilnStatus kiln_session_run(const KilnSession* session, const KilnTensor* inputs,
                                        size_t num_inputs, KilnTensor* outputs, size_t num_outputs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_C_API_H_ */
