#!/usr/bin/env bash
# The closing lines of `make demo`: what just happened and what to try next.
dir=${1:-out/demo}
cat <<TEXT

== What just happened ==
The MLP example (784 -> 2048 -> 2048 -> 10) was built with the C++ API
(examples/), saved as $dir/mlp.pb, inspected, and run on a random batch of 4 (its
weights packed for the GEMM, its bias + ReLU loops compiled through MLIR for this
CPU); its output is in $dir/outputs/y.npy. Then it was compiled for batches 1 and 4
into an artifact ($dir/mlp.kiln: a plan per batch size, library kernels by name, the
generated kernels as one shared object, one copy of the weights) and run again by
kiln-runner, which links the runtime core and no compiler: the same output line.

== Try next ==
  bazel-bin/tools/kiln bench $dir/mlp.pb --batch 64              # latency of Session::Run
  bazel-bin/tools/kiln inspect $dir/mlp.kiln                     # the artifact's sections
  bazel-bin/tools/kiln bench $dir/mlp.kiln --batch 4             # load time, first run, latency
  mkdir -p $dir/models/mlp/1 && cp $dir/mlp.kiln $dir/models/mlp/1/model.kiln
  bazel-bin/tools/kiln serve --model_dir $dir/models              # TF Serving's REST API (docs/serving.md)
  bazel-bin/tools/kiln opt $dir/mlp.pb -O2 --verbose -o /tmp/mlp.opt.pb   # graph passes
  bazel-bin/tools/kiln opt $dir/mlp.pb --emit asm --cluster 0 --batch 64  # a generated kernel
  bazel-bin/tools/kiln inspect $dir/mlp.pb --memory --batch 64   # the static memory plan
  bazel run //examples:write_models -- /tmp/models               # ResNet-50, BERT, eltwise too
  bazel-bin/tools/kiln run model.onnx --input x=random           # any ONNX model (docs/onnx.md)
  bazel-bin/tools/kiln --help
Then 'make test' runs every test (docs/building.md).
TEXT
