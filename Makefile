# Kiln's front door. `make demo` and `make test` install missing Debian packages first.
BAZEL ?= bazel
DEMO_DIR ?= out/demo
PREFIX ?= /usr/local

.PHONY: all deps build demo test test-asan fuzz docs conformance install clean

all: build

deps:
	@tools/install_deps.sh

build: deps
	$(BAZEL) build //...

# Builds the MLP example with the C++ API, inspects it, runs it on random input, then
# compiles it into an artifact and runs that on the runtime core alone.
demo: deps
	$(BAZEL) build //tools:kiln //tools:kiln-runner //examples:write_models
	bazel-bin/examples/write_models $(DEMO_DIR) --models mlp
	bazel-bin/tools/kiln inspect $(DEMO_DIR)/mlp.pb
	bazel-bin/tools/kiln run $(DEMO_DIR)/mlp.pb --input x=random --seed 1 --batch 4 --output $(DEMO_DIR)/outputs
	bazel-bin/tools/kiln compile $(DEMO_DIR)/mlp.pb -o $(DEMO_DIR)/mlp.kiln --batch 1,4
	bazel-bin/tools/kiln-runner $(DEMO_DIR)/mlp.kiln --input x=random --seed 1 --batch 4
	@tools/demo_next_steps.sh $(DEMO_DIR)

test: deps
	@tools/run_tests.sh

# Headers, libkiln.so, libkiln_runtime.so, pkg-config and CMake files, and the binaries
# into PREFIX (docs/install.md); DESTDIR stages them elsewhere.
install: deps
	$(BAZEL) build //kiln/lib:all //tools:kiln //tools:kiln-runner //tools/serve:kiln-serve
	tools/install.sh $(PREFIX)

test-asan: deps
	$(BAZEL) test --config=asan //...

# Runs each fuzzer for FUZZ_SECONDS (default 60) on its corpus.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} KILN_ASAN=0 tools/run_fuzzers.sh

# Generates ONNX's backend node tests and runs them through the importer (docs/onnx.md).
conformance: deps
	$(BAZEL) build //tools:kiln
	/usr/bin/python3 tools/onnx/generate_backend_tests.py out/onnx-backend > /dev/null 2>&1
	bazel-bin/tools/kiln conformance out/onnx-backend/node --quiet

docs: deps
	$(BAZEL) run //docs:gen_op_docs -- $(CURDIR)/docs/ops.md
	$(BAZEL) run //docs:gen_pass_docs -- $(CURDIR)/docs/passes.md

clean:
	$(BAZEL) clean
	rm -rf out
