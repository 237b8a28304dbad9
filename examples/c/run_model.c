/* The C API's example (docs/c_api.md) as a program: runs MODEL (inputs "x": f32[-1,3] and
   "bias": f32[2], outputs "y" and "logits": f32[-1,2]: tests/kiln/testdata/mlp.pbtxt or an
   artifact compiled from it for batch 2) on two rows and prints y. Linked with libkiln_runtime it
   opens artifacts only; with libkiln any model file. tools/install_test.sh builds it both ways
   against an installed Kiln. */
#include <stdio.h>

#include "kiln/c_api.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL\n", argv[0]);
    return 2;
  }
  KilnSession* session = NULL;
  if (kiln_session_create(argv[1], NULL, &session) != KILN_OK) {
    fprintf(stderr, "%s\n", kiln_last_error());
    return 1;
  }
  float x[2][3] = {{1, 2, 3}, {4, 5, 6}};
  float bias[2] = {0.5f, -1};
  float y[2][2], logits[2][2];
  const int64_t x_dims[2] = {2, 3}, bias_dims[1] = {2}, y_dims[2] = {2, 2};
  KilnTensor inputs[2] = {{"x", KILN_DTYPE_F32, 2, x_dims, x, sizeof(x)},
                          {"bias", KILN_DTYPE_F32, 1, bias_dims, bias, sizeof(bias)}};
  KilnTensor outputs[2] = {{"y", KILN_DTYPE_F32, 2, y_dims, y, sizeof(y)},
                           {"logits", KILN_DTYPE_F32, 2, y_dims, logits, sizeof(logits)}};
  KilnStatus status = kiln_session_run(session, inputs, 2, outputs, 2);
  if (status != KILN_OK) {
    fprintf(stderr, "%s: %s\n", kiln_status_name(status), kiln_last_error());
  } else {
    printf("y = [[%g, %g], [%g, %g]]\n", y[0][0], y[0][1], y[1][0], y[1][1]);
  }
  kiln_session_destroy(session);
  return status == KILN_OK ? 0 : 1;
}
