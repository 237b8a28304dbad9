/* Kiln's C API from C: sessions from a GraphDef, an ONNX model and a compiled artifact of
 * one MLP layer (testdata/mlp.pbtxt: logits = x @ w + bias, y = relu(logits)), their
 * metadata, runs against values computed here, -1 batch dimensions and output shapes,
 * every error path with the message naming the offender, and concurrent runs on one
 * session. Built twice: against //kiln:c_api, and with KILN_TEST_RUNTIME_ONLY against
 * //kiln:c_api_runtime, which must open the artifact and refuse the other files.
 *   c_api_test WRITE_TEST_MODELS MLP_PBTXT   (models are written to $TEST_TMPDIR) */
#define _POSIX_C_SOURCE 200809L

#include "kiln/c_api.h"

#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char** environ;

/* ------------------------------------------------------------------ checks */

static int checks = 0;
static int failures = 0;

/* Counts a failure and goes on, so one run reports every broken check. */
#define CHECK(cond)                                                                               \
  do {                                                                                            \
    ++checks;                                                                                     \
    if (!(cond)) {                                                                                \
      ++failures;                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  kiln_last_error: \"%s\"\n", __FILE__, __LINE__, \
              #cond, kiln_last_error());                                                          \
    }                                                                                             \
  } while (0)

/* Stops the program: later checks would only dereference what this one found missing. */
#define REQUIRE(cond)                                                                     \
  do {                                                                                    \
    ++checks;                                                                             \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n  kiln_last_error: \"%s\"\n", __FILE__, \
              __LINE__, #cond, kiln_last_error());                                        \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, KILN_OK, "")

/* `expr` returns `code` and kiln_last_error() then contains `text` ("" on success). */
#define CHECK_STATUS(expr, code, text)                                                      \
  do {                                                                                      \
    KilnStatus status_ = (expr);                                                            \
    const char* error_ = kiln_last_error();                                                 \
    ++checks;                                                                               \
    if (status_ != (code) || strstr(error_, (text)) == NULL ||                              \
        ((code) == KILN_OK && error_[0] != '\0')) {                                         \
      ++failures;                                                                           \
      fprintf(stderr,                                                                       \
              "%s:%d: %s\n  returned %s, expected %s\n  kiln_last_error: \"%s\", expected " \
              "\"%s\" in it\n",                                                             \
              __FILE__, __LINE__, #expr, kiln_status_name(status_), kiln_status_name(code), \
              error_, (text));                                                              \
    }                                                                                       \
  } while (0)

/* ------------------------------------------------------------------ the model */

enum { kIn = 3, kOut = 2, kMaxBatch = 4 };

/* testdata/mlp.pbtxt's constant w. */
static const float kW[kIn][kOut] = {{1.0f, -1.0f}, {2.0f, 0.5f}, {-1.0f, 1.0f}};
static const float kBias[kOut] = {0.5f, -1.0f};

static const int64_t kBiasDims[1] = {kOut};

/* One run's buffers: inputs x[batch,3] (filled from `seed`) and bias, outputs y and
 * logits, each with an extra float in front so that they can be passed unaligned. */
typedef struct Buffers {
  int64_t batch;
  int64_t x_dims[2];
  int64_t out_dims[2];
  float x[kMaxBatch * kIn];
  float bias[kOut];
  float y_storage[kMaxBatch * kOut + 1];
  float logits_storage[kMaxBatch * kOut + 1];
  float* y;
  float* logits;
  float expected_y[kMaxBatch * kOut];
  float expected_logits[kMaxBatch * kOut];
} Buffers;

/* Fills `b` for `batch` rows with values exact in f32 (multiples of 1/4), and computes
 * the expected outputs by hand. `unaligned` offsets the outputs by one float. */
static void FillBuffers(Buffers* b, int64_t batch, int seed, int unaligned) {
  memset(b, 0, sizeof(*b));
  b->batch = batch;
  b->x_dims[0] = batch;
  b->x_dims[1] = kIn;
  b->out_dims[0] = batch;
  b->out_dims[1] = kOut;
  for (int64_t i = 0; i < batch * kIn; ++i) {
    b->x[i] = (float)((i * 7 + seed * 3) % 11 - 5) * 0.25f;
  }
  memcpy(b->bias, kBias, sizeof(kBias));
  b->y = b->y_storage + (unaligned ? 1 : 0);
  b->logits = b->logits_storage + (unaligned ? 1 : 0);
  for (int64_t r = 0; r < batch; ++r) {
    for (int c = 0; c < kOut; ++c) {
      float sum = 0.0f;
      for (int k = 0; k < kIn; ++k) sum += b->x[r * kIn + k] * kW[k][c];
      const float logit = sum + b->bias[c];
      b->expected_logits[r * kOut + c] = logit;
      b->expected_y[r * kOut + c] = logit > 0.0f ? logit : 0.0f;
    }
  }
  for (int64_t i = 0; i < batch * kOut; ++i) b->y[i] = b->logits[i] = NAN;
}

static KilnTensor Tensor(const char* name, KilnDataType dtype, size_t rank, const int64_t* dims,
                         void* data, size_t byte_size) {
  KilnTensor t;
  t.name = name;
  t.dtype = dtype;
  t.rank = rank;
  t.dims = dims;
  t.data = data;
  t.byte_size = byte_size;
  return t;
}

static size_t OutputBytes(const Buffers* b) { return (size_t)b->batch * kOut * sizeof(float); }

/* Inputs by name, in the reverse of the model's order. */
static void NamedInputs(Buffers* b, KilnTensor inputs[2]) {
  inputs[0] = Tensor("bias", KILN_DTYPE_F32, 1, kBiasDims, b->bias, sizeof(b->bias));
  inputs[1] =
      Tensor("x", KILN_DTYPE_F32, 2, b->x_dims, b->x, (size_t)b->batch * kIn * sizeof(float));
}

/* Outputs by name, in the reverse of the model's order. */
static void NamedOutputs(Buffers* b, KilnTensor outputs[2]) {
  outputs[0] = Tensor("logits", KILN_DTYPE_F32, 2, b->out_dims, b->logits, OutputBytes(b));
  outputs[1] = Tensor("y", KILN_DTYPE_F32, 2, b->out_dims, b->y, OutputBytes(b));
}

static int Near(const float* got, const float* expected, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!(fabsf(got[i] - expected[i]) <= 1e-5f)) {
      fprintf(stderr, "  element %lld: got %g, expected %g\n", (long long)i, got[i], expected[i]);
      return 0;
    }
  }
  return 1;
}

static int OutputsMatch(const Buffers* b) {
  return Near(b->y, b->expected_y, b->batch * kOut) &&
         Near(b->logits, b->expected_logits, b->batch * kOut);
}

/* ------------------------------------------------------------------ files */

static char temp_dir[4096];

static void TempPath(char* path, size_t size, const char* name) {
  snprintf(path, size, "%s/%s", temp_dir, name);
}

/* The bytes of `path` (malloc'ed; the caller frees), or NULL. */
static unsigned char* ReadFile(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL) return NULL;
  fseek(file, 0, SEEK_END);
  const long length = ftell(file);
  fseek(file, 0, SEEK_SET);
  unsigned char* bytes = malloc(length > 0 ? (size_t)length : 1);
  *size = fread(bytes, 1, (size_t)length, file);
  fclose(file);
  return bytes;
}

static void WriteFile(const char* path, const void* bytes, size_t size) {
  FILE* file = fopen(path, "wb");
  REQUIRE(file != NULL);
  REQUIRE(fwrite(bytes, 1, size, file) == size);
  fclose(file);
}

/* Runs write_test_models (a C++ program linking the compiler, kept out of this binary) to
 * write mlp.kiln and mlp.onnx into temp_dir. */
static void WriteModels(const char* writer, const char* pbtxt) {
  char* argv[] = {(char*)writer, (char*)pbtxt, temp_dir, NULL};
  pid_t pid;
  REQUIRE(posix_spawn(&pid, writer, NULL, NULL, argv, environ) == 0);
  int wait_status = 0;
  REQUIRE(waitpid(pid, &wait_status, 0) == pid);
  REQUIRE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
}

/* ------------------------------------------------------------------ the tests */

static void TestLibrary(void) {
  CHECK(strcmp(kiln_last_error(), "") == 0);
  CHECK(strcmp(kiln_version(), "0.1.0") == 0);
  CHECK(KILN_VERSION_MAJOR == 0 && KILN_VERSION_MINOR == 1 && KILN_VERSION_PATCH == 0);
  CHECK(KILN_C_API_VERSION == 1);
  CHECK(strcmp(kiln_status_name(KILN_OK), "OK") == 0);
  CHECK(strcmp(kiln_status_name(KILN_INVALID_ARGUMENT), "INVALID_ARGUMENT") == 0);
  CHECK(strcmp(kiln_status_name(KILN_NOT_FOUND), "NOT_FOUND") == 0);
  CHECK(strcmp(kiln_status_name(KILN_FAILED_PRECONDITION), "FAILED_PRECONDITION") == 0);
  CHECK(strcmp(kiln_status_name(KILN_DATA_LOSS), "DATA_LOSS") == 0);
  CHECK(strcmp(kiln_status_name(KILN_UNAUTHENTICATED), "UNAUTHENTICATED") == 0);
  CHECK(strcmp(kiln_status_name((KilnStatus)17), "UNKNOWN_STATUS") == 0);
  CHECK(strcmp(kiln_status_name((KilnStatus)-1), "UNKNOWN_STATUS") == 0);

  static const struct {
    KilnDataType dtype;
    const char* name;
    size_t size;
  } kTypes[] = {
      {KILN_DTYPE_F32, "f32", 4}, {KILN_DTYPE_F16, "f16", 2},   {KILN_DTYPE_BF16, "bf16", 2},
      {KILN_DTYPE_F64, "f64", 8}, {KILN_DTYPE_I8, "i8", 1},     {KILN_DTYPE_I32, "i32", 4},
      {KILN_DTYPE_I64, "i64", 8}, {KILN_DTYPE_BOOL, "bool", 1}, {KILN_DTYPE_U8, "u8", 1}};
  for (size_t i = 0; i < sizeof(kTypes) / sizeof(kTypes[0]); ++i) {
    CHECK(strcmp(kiln_dtype_name(kTypes[i].dtype), kTypes[i].name) == 0);
    CHECK(kiln_dtype_size(kTypes[i].dtype) == kTypes[i].size);
  }
  CHECK(strcmp(kiln_dtype_name(KILN_DTYPE_INVALID), "invalid") == 0);
  CHECK(strcmp(kiln_dtype_name((KilnDataType)42), "invalid") == 0);
  CHECK(kiln_dtype_size(KILN_DTYPE_INVALID) == 0);
  CHECK(kiln_dtype_size((KilnDataType)-3) == 0);
}

static void TestOptions(void) {
  CHECK_STATUS(kiln_session_options_create(NULL), KILN_INVALID_ARGUMENT, "out is NULL");
  KilnSessionOptions* options = NULL;
  CHECK_OK(kiln_session_options_create(&options));
  REQUIRE(options != NULL);
  CHECK_STATUS(kiln_session_options_set_num_threads(options, -1), KILN_INVALID_ARGUMENT,
               "num_threads is -1");
  CHECK_STATUS(kiln_session_options_set_num_threads(NULL, 2), KILN_INVALID_ARGUMENT,
               "options is NULL");
  CHECK_STATUS(kiln_session_options_set_optimization_level(options, 3), KILN_INVALID_ARGUMENT,
               "optimization level is 3");
  CHECK_STATUS(kiln_session_options_set_optimization_level(NULL, 1), KILN_INVALID_ARGUMENT,
               "options is NULL");
  /* A success clears the last error. */
  CHECK_OK(kiln_session_options_set_num_threads(options, 2));
  CHECK_OK(kiln_session_options_set_optimization_level(options, 0));
  kiln_session_options_destroy(options);
  kiln_session_options_destroy(NULL);
}

/* A session on `file` in temp_dir with `options`, which must open. */
static KilnSession* Open(const char* file, const KilnSessionOptions* options) {
  char path[4200];
  TempPath(path, sizeof(path), file);
  KilnSession* session = NULL;
  CHECK_OK(kiln_session_create(path, options, &session));
  REQUIRE(session != NULL);
  return session;
}

/* `file` in temp_dir does not open: `code`, a message naming the path and holding `text`,
 * and *out set to NULL. */
static void CheckCreateFails(const char* file, KilnStatus code, const char* text) {
  char path[4200];
  TempPath(path, sizeof(path), file);
  KilnSession* session = (KilnSession*)&checks; /* not NULL: create must clear it */
  CHECK_STATUS(kiln_session_create(path, NULL, &session), code, path);
  CHECK(strstr(kiln_last_error(), text) != NULL);
  CHECK(session == NULL);
}

static void TestCreateErrors(void) {
  KilnSession* session = NULL;
  CHECK_STATUS(kiln_session_create(NULL, NULL, &session), KILN_INVALID_ARGUMENT,
               "kiln_session_create: path is NULL");
  CHECK_STATUS(kiln_session_create("mlp.kiln", NULL, NULL), KILN_INVALID_ARGUMENT, "out is NULL");
  CheckCreateFails("absent.kiln", KILN_NOT_FOUND, "absent.kiln");

  /* The artifact cut short, and with a byte of its weights or code flipped: the header
   * says it is an artifact, its sizes and checksums say it is damaged. */
  char path[4200];
  TempPath(path, sizeof(path), "mlp.kiln");
  size_t size = 0;
  unsigned char* bytes = ReadFile(path, &size);
  REQUIRE(bytes != NULL && size > 1024);
  TempPath(path, sizeof(path), "truncated.kiln");
  WriteFile(path, bytes, size / 2);
  CheckCreateFails("truncated.kiln", KILN_DATA_LOSS, "truncated.kiln");
  bytes[size - 100] ^= 0x5a;
  TempPath(path, sizeof(path), "corrupted.kiln");
  WriteFile(path, bytes, size);
  CheckCreateFails("corrupted.kiln", KILN_DATA_LOSS, "corrupted.kiln");
  /* Without its magic number it is no artifact, though named like one. */
  bytes[size - 100] ^= 0x5a;
  bytes[0] ^= 0xff;
  TempPath(path, sizeof(path), "no_magic.kiln");
  WriteFile(path, bytes, size);
  CheckCreateFails("no_magic.kiln", KILN_DATA_LOSS, "lacks the artifact header");
  TempPath(path, sizeof(path), "empty.kiln");
  WriteFile(path, "", 0);
  CheckCreateFails("empty.kiln", KILN_DATA_LOSS, "lacks the artifact header");
  free(bytes);

  /* Files that are no model at all. */
  static const char kGarbage[] = "\x13\x37 this is not a model \xff\xfe\x00\x01";
  TempPath(path, sizeof(path), "garbage.bin");
  WriteFile(path, kGarbage, sizeof(kGarbage));
#ifdef KILN_TEST_RUNTIME_ONLY
  CheckCreateFails("garbage.bin", KILN_FAILED_PRECONDITION, "is not a compiled artifact");
#else
  KilnSession* garbage = (KilnSession*)&checks;
  TempPath(path, sizeof(path), "garbage.bin");
  const KilnStatus status = kiln_session_create(path, NULL, &garbage);
  CHECK(status != KILN_OK);
  CHECK(strstr(kiln_last_error(), "garbage.bin") != NULL);
  CHECK(garbage == NULL);
#endif
}

static void CheckInfo(const KilnTensorInfo* info, const char* name, int64_t dim0, int64_t dim1,
                      size_t rank) {
  CHECK(strcmp(info->name, name) == 0);
  CHECK(info->dtype == KILN_DTYPE_F32);
  CHECK(info->rank == rank);
  REQUIRE(info->dims != NULL);
  CHECK(info->dims[0] == dim0);
  if (rank > 1) CHECK(info->dims[1] == dim1);
}

static void TestMetadata(const KilnSession* session, const char* kind) {
  const char* got_kind = NULL;
  CHECK_OK(kiln_session_kind(session, &got_kind));
  CHECK(got_kind != NULL && strcmp(got_kind, kind) == 0);
  size_t count = 0;
  CHECK_OK(kiln_session_input_count(session, &count));
  CHECK(count == 2);
  CHECK_OK(kiln_session_output_count(session, &count));
  CHECK(count == 2);

  KilnTensorInfo info;
  CHECK_OK(kiln_session_input_info(session, 0, &info));
  CheckInfo(&info, "x", -1, kIn, 2);
  CHECK_OK(kiln_session_input_info(session, 1, &info));
  CheckInfo(&info, "bias", kOut, 0, 1);
  CHECK_OK(kiln_session_output_info(session, 0, &info));
  CheckInfo(&info, "y", -1, kOut, 2);
  CHECK_OK(kiln_session_output_info(session, 1, &info));
  CheckInfo(&info, "logits", -1, kOut, 2);

  CHECK_STATUS(kiln_session_input_info(session, 2, &info), KILN_OUT_OF_RANGE, "input index 2");
  CHECK_STATUS(kiln_session_output_info(session, 7, &info), KILN_OUT_OF_RANGE, "output index 7");
  CHECK_STATUS(kiln_session_input_info(session, 0, NULL), KILN_INVALID_ARGUMENT, "info is NULL");
  CHECK_STATUS(kiln_session_input_info(NULL, 0, &info), KILN_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(kiln_session_output_info(NULL, 0, &info), KILN_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(kiln_session_input_count(NULL, &count), KILN_INVALID_ARGUMENT, "session is NULL");
  CHECK_STATUS(kiln_session_output_count(session, NULL), KILN_INVALID_ARGUMENT, "count is NULL");
  CHECK_STATUS(kiln_session_kind(session, NULL), KILN_INVALID_ARGUMENT, "kind is NULL");
  CHECK_STATUS(kiln_session_kind(NULL, &got_kind), KILN_INVALID_ARGUMENT, "session is NULL");
}

/* Runs `b` by name (inputs and outputs in reverse order) and by position, checking the
 * values both times. */
static void CheckRuns(const KilnSession* session, int64_t batch, int unaligned) {
  Buffers b;
  FillBuffers(&b, batch, (int)batch, unaligned);
  KilnTensor inputs[2], outputs[2];
  NamedInputs(&b, inputs);
  NamedOutputs(&b, outputs);
  CHECK_OK(kiln_session_run(session, inputs, 2, outputs, 2));
  CHECK(OutputsMatch(&b));

  FillBuffers(&b, batch, (int)batch + 1, unaligned);
  KilnTensor by_position_in[2] = {
      Tensor(NULL, KILN_DTYPE_F32, 2, b.x_dims, b.x, (size_t)batch * kIn * sizeof(float)),
      Tensor(NULL, KILN_DTYPE_F32, 1, kBiasDims, b.bias, sizeof(b.bias))};
  KilnTensor by_position_out[2] = {
      Tensor(NULL, KILN_DTYPE_F32, 2, b.out_dims, b.y, OutputBytes(&b)),
      Tensor(NULL, KILN_DTYPE_F32, 2, b.out_dims, b.logits, OutputBytes(&b))};
  CHECK_OK(kiln_session_run(session, by_position_in, 2, by_position_out, 2));
  CHECK(OutputsMatch(&b));
}

static void TestRun(const KilnSession* session, int is_artifact) {
  /* Batches the artifact was compiled for; the others bind -1 to any of them. */
  CheckRuns(session, 1, 0);
  CheckRuns(session, 2, 1);
  CheckRuns(session, 4, 0);
  /* Known values, beside the ones computed above: x = [1, 2, 3], bias = [0.5, -1]:
   * x @ w = [1 + 4 - 3, -1 + 1 + 3] = [2, 3]; logits = [2.5, 2]; y = [2.5, 2]. */
  float x[3] = {1.0f, 2.0f, 3.0f}, bias[2] = {0.5f, -1.0f}, y[2], logits[2];
  const int64_t x_dims[2] = {1, 3}, out_dims[2] = {1, 2};
  KilnTensor inputs[2] = {Tensor("x", KILN_DTYPE_F32, 2, x_dims, x, sizeof(x)),
                          Tensor("bias", KILN_DTYPE_F32, 1, kBiasDims, bias, sizeof(bias))};
  KilnTensor outputs[2] = {Tensor("y", KILN_DTYPE_F32, 2, out_dims, y, sizeof(y)),
                           Tensor("logits", KILN_DTYPE_F32, 2, out_dims, logits, sizeof(logits))};
  CHECK_OK(kiln_session_run(session, inputs, 2, outputs, 2));
  CHECK(y[0] == 2.5f && y[1] == 2.0f && logits[0] == 2.5f && logits[1] == 2.0f);
  /* A negative pre-activation: x = [-1, 0, 0]: logits = [-0.5, 0]; y = [0, 0]. */
  x[0] = -1.0f;
  x[2] = x[1] = 0.0f;
  CHECK_OK(kiln_session_run(session, inputs, 2, outputs, 2));
  CHECK(y[0] == 0.0f && y[1] == 0.0f && logits[0] == -0.5f && logits[1] == 0.0f);

  if (is_artifact) {
    Buffers b;
    FillBuffers(&b, 3, 0, 0);
    KilnTensor in[2], out[2];
    NamedInputs(&b, in);
    NamedOutputs(&b, out);
    CHECK_STATUS(kiln_session_run(session, in, 2, out, 2), KILN_INVALID_ARGUMENT,
                 "input 'x': f32[3,3], the artifact was compiled for f32[1,3] or f32[2,3] or "
                 "f32[4,3]");
  } else {
    CheckRuns(session, 3, 1);
  }
}

static void TestOutputShape(const KilnSession* session) {
  const int64_t x_dims[2] = {4, kIn};
  KilnTensor inputs[2] = {Tensor("x", KILN_DTYPE_F32, 2, x_dims, NULL, 0),
                          Tensor("bias", KILN_DTYPE_F32, 1, kBiasDims, NULL, 0)};
  int64_t dims[4] = {0, 0, 0, 0};
  size_t rank = 0;
  CHECK_OK(kiln_session_output_shape(session, inputs, 2, 0, dims, 4, &rank));
  CHECK(rank == 2 && dims[0] == 4 && dims[1] == kOut);
  dims[0] = dims[1] = 0;
  CHECK_OK(kiln_session_output_shape(session, inputs, 2, 1, dims, 2, &rank));
  CHECK(rank == 2 && dims[0] == 4 && dims[1] == kOut);
  /* Too small an array: the rank is told, nothing is written. */
  dims[0] = -7;
  rank = 0;
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 2, 0, dims, 1, &rank), KILN_OUT_OF_RANGE,
               "output 'y' has rank 2, more than the capacity 1");
  CHECK(rank == 2 && dims[0] == -7);
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 2, 0, NULL, 0, &rank), KILN_OUT_OF_RANGE,
               "capacity 0");
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 2, 2, dims, 4, &rank), KILN_OUT_OF_RANGE,
               "output index 2");
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 2, 0, dims, 4, NULL),
               KILN_INVALID_ARGUMENT, "rank is NULL");
  CHECK_STATUS(kiln_session_output_shape(NULL, inputs, 2, 0, dims, 4, &rank), KILN_INVALID_ARGUMENT,
               "session is NULL");
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 1, 0, dims, 4, &rank),
               KILN_INVALID_ARGUMENT, "input 'bias' is missing");
  const int64_t bad_dims[2] = {4, 5};
  inputs[0].dims = bad_dims;
  CHECK_STATUS(kiln_session_output_shape(session, inputs, 2, 0, dims, 4, &rank),
               KILN_INVALID_ARGUMENT, "input 'x': f32[4,5], the model takes f32[-1,3]");
}

/* kiln_session_run fails with `code` and a message holding `text`. */
#define CHECK_RUN_FAILS(session, inputs, n, outputs, m, code, text) \
  CHECK_STATUS(kiln_session_run(session, inputs, n, outputs, m), code, text)

static void TestRunErrors(const KilnSession* session) {
  Buffers b;
  FillBuffers(&b, 2, 5, 0);
  KilnTensor in[3], out[3];

  NamedInputs(&b, in);
  NamedOutputs(&b, out);
  CHECK_RUN_FAILS(NULL, in, 2, out, 2, KILN_INVALID_ARGUMENT, "kiln_session_run: session is NULL");
  CHECK_RUN_FAILS(session, NULL, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "inputs is NULL and its count is 2");
  CHECK_RUN_FAILS(session, in, 2, NULL, 2, KILN_INVALID_ARGUMENT,
                  "outputs is NULL and its count is 2");

  /* Matching inputs: unknown, duplicated, missing, surplus. */
  in[0].name = "z";
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_NOT_FOUND,
                  "inputs[0]: the model has no input named 'z' (its inputs: 'x', 'bias')");
  in[0].name = "x";
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x' is given twice: inputs[0] and inputs[1]");
  NamedInputs(&b, in);
  CHECK_RUN_FAILS(session, &in[1], 1, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'bias' is missing (1 of 2 given)");
  CHECK_RUN_FAILS(session, in, 0, out, 2, KILN_INVALID_ARGUMENT, "input 'x' is missing");
  in[2] = in[0];
  in[2].name = NULL;
  CHECK_RUN_FAILS(session, in, 3, out, 2, KILN_INVALID_ARGUMENT,
                  "inputs[2] has no name and the model has only 2 inputs");
  in[0].name = NULL; /* position 0 is x, given by name too */
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x' is given twice: inputs[0] and inputs[1]");

  /* An input's dtype, shape and buffer. */
  NamedInputs(&b, in);
  in[1].dtype = KILN_DTYPE_I32;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': i32[2,3], the model takes f32[-1,3]");
  in[1].dtype = (KilnDataType)42;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT, "input 'x': unknown dtype 42");
  NamedInputs(&b, in);
  const int64_t flat[1] = {6};
  in[1].dims = flat;
  in[1].rank = 1;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': f32[6], the model takes f32[-1,3]");
  const int64_t wide[2] = {2, 4};
  in[1].dims = wide;
  in[1].rank = 2;
  in[1].byte_size = sizeof(b.x);
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': f32[2,4], the model takes f32[-1,3]");
  const int64_t negative[2] = {-1, 3};
  in[1].dims = negative;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': dimension 0 is -1; it must be >= 0");
  in[1].dims = NULL;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': dims is NULL and rank is 2");
  NamedInputs(&b, in);
  const int64_t long_bias[1] = {3};
  in[0].dims = long_bias;
  in[0].byte_size = 3 * sizeof(float);
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'bias': f32[3], the model takes f32[2]");
  NamedInputs(&b, in);
  in[1].byte_size = 23;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "input 'x': byte_size 23 is too small for f32[2,3] (24 bytes)");
  NamedInputs(&b, in);
  in[0].data = NULL;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT, "input 'bias': data is NULL");

  /* Matching outputs and their buffers. */
  NamedInputs(&b, in);
  out[0].name = "probabilities";
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_NOT_FOUND,
                  "outputs[0]: the model has no output named 'probabilities' (its outputs: "
                  "'y', 'logits')");
  out[0].name = "y";
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "output 'y' is given twice: outputs[0] and outputs[1]");
  NamedOutputs(&b, out);
  CHECK_RUN_FAILS(session, in, 2, out, 1, KILN_INVALID_ARGUMENT, "output 'y' is missing");
  const int64_t wrong_out[2] = {2, 3};
  out[1].dims = wrong_out;
  out[1].byte_size = sizeof(b.y_storage);
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "output 'y': buffer f32[2,3], the output is f32[2,2] for these inputs");
  NamedOutputs(&b, out);
  const int64_t batch_four[2] = {4, 2};
  out[0].dims = batch_four;
  out[0].byte_size = sizeof(b.logits_storage);
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "output 'logits': buffer f32[4,2], the output is f32[2,2] for these inputs");
  NamedOutputs(&b, out);
  out[1].dtype = KILN_DTYPE_F64;
  out[1].byte_size = 2 * OutputBytes(&b);
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "output 'y': buffer f64[2,2], the output is f32[2,2]");
  NamedOutputs(&b, out);
  out[1].byte_size = OutputBytes(&b) - 1;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT,
                  "output 'y': byte_size 15 is too small for f32[2,2] (16 bytes)");
  NamedOutputs(&b, out);
  out[0].data = NULL;
  CHECK_RUN_FAILS(session, in, 2, out, 2, KILN_INVALID_ARGUMENT, "output 'logits': data is NULL");

  /* After all that, the session still runs, a larger buffer than needed is accepted, and
   * the success clears the last error. */
  NamedOutputs(&b, out);
  out[0].byte_size = sizeof(b.logits_storage);
  CHECK_OK(kiln_session_run(session, in, 2, out, 2));
  CHECK(OutputsMatch(&b));
}

/* ------------------------------------------------------------------ threads */

enum { kThreads = 6, kRunsPerThread = 40 };

typedef struct ThreadArgs {
  const KilnSession* session;
  int64_t batch;
  int seed;
  /* The single-threaded result the thread's runs must reproduce bit for bit. */
  float y[kMaxBatch * kOut];
  float logits[kMaxBatch * kOut];
  int failures;
} ThreadArgs;

static void* RunMany(void* arg) {
  ThreadArgs* args = (ThreadArgs*)arg;
  Buffers b;
  for (int run = 0; run < kRunsPerThread; ++run) {
    FillBuffers(&b, args->batch, args->seed, run % 2);
    KilnTensor in[2], out[2];
    NamedInputs(&b, in);
    NamedOutputs(&b, out);
    const size_t bytes = OutputBytes(&b);
    if (kiln_session_run(args->session, in, 2, out, 2) != KILN_OK ||
        memcmp(b.y, args->y, bytes) != 0 || memcmp(b.logits, args->logits, bytes) != 0) {
      ++args->failures;
    }
  }
  return NULL;
}

static void TestConcurrentRuns(const KilnSession* session) {
  static const int64_t kBatches[] = {1, 2, 4};
  ThreadArgs args[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    args[t].session = session;
    args[t].batch = kBatches[t % 3];
    args[t].seed = t;
    args[t].failures = 0;
    Buffers b;
    FillBuffers(&b, args[t].batch, t, 0);
    KilnTensor in[2], out[2];
    NamedInputs(&b, in);
    NamedOutputs(&b, out);
    CHECK_OK(kiln_session_run(session, in, 2, out, 2));
    CHECK(OutputsMatch(&b));
    memcpy(args[t].y, b.y, OutputBytes(&b));
    memcpy(args[t].logits, b.logits, OutputBytes(&b));
  }
  pthread_t threads[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(pthread_create(&threads[t], NULL, RunMany, &args[t]) == 0);
  }
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(pthread_join(threads[t], NULL) == 0);
    CHECK(args[t].failures == 0);
  }
}

/* ------------------------------------------------------------------ main */

/* Every test on one model file, which `kind` names. */
static void TestModel(const char* file, const char* kind, const KilnSessionOptions* options) {
  fprintf(stderr, "-- %s (%s)\n", file, kind);
  KilnSession* session = Open(file, options);
  const int is_artifact = strcmp(kind, "artifact") == 0;
  TestMetadata(session, kind);
  TestRun(session, is_artifact);
  TestOutputShape(session);
  TestRunErrors(session);
  TestConcurrentRuns(session);
  kiln_session_destroy(session);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_api_test WRITE_TEST_MODELS MLP_PBTXT\n");
    return 2;
  }
  const char* dir = getenv("TEST_TMPDIR");
  REQUIRE(dir != NULL && dir[0] != '\0');
  snprintf(temp_dir, sizeof(temp_dir), "%s", dir);
  WriteModels(argv[1], argv[2]);
  char path[4200];
  size_t size = 0;
  unsigned char* pbtxt = ReadFile(argv[2], &size);
  REQUIRE(pbtxt != NULL);
  TempPath(path, sizeof(path), "mlp.pbtxt");
  WriteFile(path, pbtxt, size);
  free(pbtxt);

  TestLibrary();
  TestOptions();
  TestCreateErrors();

  KilnSessionOptions* options = NULL;
  CHECK_OK(kiln_session_options_create(&options));
  CHECK_OK(kiln_session_options_set_num_threads(options, 2));
  TestModel("mlp.kiln", "artifact", NULL);
  TestModel("mlp.kiln", "artifact", options);
  /* An artifact is recognised by its magic number, whatever the file is called. */
  TempPath(path, sizeof(path), "mlp.kiln");
  unsigned char* artifact = ReadFile(path, &size);
  REQUIRE(artifact != NULL);
  TempPath(path, sizeof(path), "compiled.onnx");
  WriteFile(path, artifact, size);
  free(artifact);
  TestModel("compiled.onnx", "artifact", NULL);
#ifdef KILN_TEST_RUNTIME_ONLY
  /* The runtime-only library refuses what needs the compiler, saying what to do. */
  CheckCreateFails("mlp.pbtxt", KILN_FAILED_PRECONDITION,
                   "mlp.pbtxt' is not a compiled artifact; this library (libkiln_runtime) runs "
                   ".kiln files only: compile it with `kiln compile` or link libkiln");
  CheckCreateFails("mlp.onnx", KILN_FAILED_PRECONDITION,
                   "mlp.onnx' is not a compiled artifact; this library (libkiln_runtime)");
#else
  TestModel("mlp.pbtxt", "graph", NULL);
  TestModel("mlp.onnx", "onnx", NULL);
  CHECK_OK(kiln_session_options_set_optimization_level(options, 0));
  TestModel("mlp.onnx", "onnx", options);
  /* A graph the importer rejects: the message names the file. */
  static const char kBadGraph[] = "node { name: \"x\" op: \"NoSuchOp\" }\n";
  TempPath(path, sizeof(path), "bad.pbtxt");
  WriteFile(path, kBadGraph, sizeof(kBadGraph) - 1);
  KilnSession* bad = NULL;
  CHECK(kiln_session_create(path, NULL, &bad) != KILN_OK);
  CHECK(strstr(kiln_last_error(), "NoSuchOp") != NULL);
  CHECK(bad == NULL);
#endif
  kiln_session_options_destroy(options);
  kiln_session_destroy(NULL);

  fprintf(stderr, "%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
