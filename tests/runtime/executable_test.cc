// Compile -> Executable -> proto -> Executable -> runtime core: exact round trips on the
// example models, the same outputs as the in-process Executable, and VerifyExecutable's
// errors on damaged Executables, each naming the step, kernel, value or tensor.
#include "runtime/executable.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "examples/models.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/compile.h"
#include "runtime/default_provider.h"
#include "runtime/executable_proto.h"
#include "runtime/loaded_executable.h"
#include "runtime/reference_kernel_provider.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::kiln::testing::RandomTensor;

struct Model {
  std::string name;
  absl::StatusOr<Graph> graph;
};

std::vector<Model> SmallModels() {
  examples::MlpConfig mlp;
  mlp.in = 24;
  mlp.hidden = 40;
  examples::ResNetConfig resnet;
  resnet.image = 32;
  resnet.base_width = 8;
  resnet.blocks[0] = resnet.blocks[1] = resnet.blocks[2] = resnet.blocks[3] = 1;
  resnet.classes = 10;
  examples::BertConfig bert;
  bert.layers = 1;
  bert.hidden = 32;
  bert.heads = 2;
  bert.ffn = 64;
  bert.seq = 8;
  std::vector<Model> models;
  models.push_back({"mlp", examples::BuildMlp(mlp)});
  models.push_back({"resnet", examples::BuildResNet50(resnet)});
  models.push_back({"bert", examples::BuildBert(bert)});
  models.push_back({"eltwise", examples::BuildEltwise()});
  return models;
}

// Batch 3 for every input whose first dimension is unknown, with library kernels (the
// ones an Executable file can name; generated kernels live in the compiling process).
CompileOptions BatchOf3(const Graph& graph) {
  CompileOptions options;
  options.kernel_provider = LibraryKernelProvider();
  for (int id : graph.inputs()) {
    Shape shape = graph.node(id).outputs[0].shape;
    for (int d = 0; d < shape.rank(); ++d) {
      if (shape.dim(d) < 0) shape.dim(d) = 3;
    }
    options.input_shapes[graph.node(id).name] = shape;
  }
  return options;
}

std::vector<Tensor> RandomInputs(const Executable& executable, uint64_t seed) {
  std::vector<Tensor> inputs;
  for (const TensorSignature& input : executable.inputs) {
    // Integer inputs (token ids) stay within any table.
    const bool ints = !IsFloating(input.type.dtype);
    inputs.push_back(RandomTensor(input.type.dtype, input.type.shape, seed++, ints ? 0 : -1,
                                  ints ? 2 : 1));
  }
  return inputs;
}

Executable RoundTrip(const Executable& executable) {
  absl::StatusOr<proto::Executable> proto = ExecutableToProto(executable);
  EXPECT_TRUE(proto.ok()) << proto.status();
  proto::Executable parsed;
  EXPECT_TRUE(parsed.ParseFromString(proto->SerializeAsString()));
  absl::StatusOr<Executable> back = ExecutableFromProto(parsed);
  EXPECT_TRUE(back.ok()) << back.status();
  return *std::move(back);
}

TEST(ExecutableTest, ExampleModelsRoundTripExactlyAndRunTheSame) {
  for (Model& model : SmallModels()) {
    SCOPED_TRACE(model.name);
    ASSERT_TRUE(model.graph.ok()) << model.graph.status();
    absl::StatusOr<Executable> compiled = Compile(*model.graph, BatchOf3(*model.graph));
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    // The library path prepares every step from the CPU library, by name.
    for (const PlanStep& step : compiled->plan.steps) {
      EXPECT_EQ(step.kernel.rfind("cpu.", 0), 0u) << step.node_name << ": " << step.kernel;
    }
    EXPECT_EQ(compiled->keep_alive, nullptr);

    Executable back = RoundTrip(*compiled);
    EXPECT_EQ(back.inputs, compiled->inputs);
    EXPECT_EQ(back.outputs, compiled->outputs);
    EXPECT_EQ(back.plan.ToString(), compiled->plan.ToString());
    EXPECT_EQ(back.plan.schedule, compiled->plan.schedule);
    ASSERT_EQ(back.plan.params.size(), compiled->plan.params.size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(back.plan.params.data()),
                          back.plan.params.size()),
              std::string(reinterpret_cast<const char*>(compiled->plan.params.data()),
                          compiled->plan.params.size()));
    const int64_t weights = compiled->plan.memory.weights_bytes;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(back.weights.get()), weights),
              std::string(reinterpret_cast<const char*>(compiled->weights.get()), weights));
    for (const PlanStep& step : back.plan.steps) EXPECT_EQ(step.dispatch.fn, nullptr);
    // The proto of the Executable read back is the same proto.
    EXPECT_EQ(ExecutableToProto(back)->SerializeAsString(),
              ExecutableToProto(*compiled)->SerializeAsString());

    // Loaded from its proto, it runs to the same bits as the in-process Executable.
    const std::vector<Tensor> inputs = RandomInputs(*compiled, 7);
    absl::StatusOr<std::unique_ptr<LoadedExecutable>> direct =
        LoadedExecutable::Load(*std::move(compiled), nullptr);
    ASSERT_TRUE(direct.ok()) << direct.status();
    absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
        LoadedExecutable::Load(std::move(back), nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    absl::StatusOr<std::vector<Tensor>> want = (*direct)->Run(inputs);
    absl::StatusOr<std::vector<Tensor>> got = (*loaded)->Run(inputs);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < got->size(); ++i) {
      ASSERT_EQ((*got)[i].ByteSize(), (*want)[i].ByteSize());
      EXPECT_EQ(std::memcmp((*got)[i].raw_data(), (*want)[i].raw_data(), (*got)[i].ByteSize()), 0)
          << "output " << i;
    }
  }
}

Executable SmallMlp() {
  examples::MlpConfig mlp;
  mlp.in = 8;
  mlp.hidden = 16;
  absl::StatusOr<Graph> graph = examples::BuildMlp(mlp);
  EXPECT_TRUE(graph.ok());
  absl::StatusOr<Executable> executable = Compile(*graph, BatchOf3(*graph));
  EXPECT_TRUE(executable.ok()) << executable.status();
  return RoundTrip(*executable);
}

void ExpectRejected(const Executable& executable, absl::string_view substring) {
  absl::Status status = VerifyExecutable(executable, LinkedKernelLibraries());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr(substring));
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
      LoadedExecutable::Load(executable, nullptr);
  EXPECT_FALSE(loaded.ok());
}

TEST(ExecutableTest, VerifyNamesTheStepAndKernel) {
  const Executable good = SmallMlp();
  ASSERT_TRUE(VerifyExecutable(good, LinkedKernelLibraries()).ok());
  ASSERT_GE(good.plan.steps.size(), 2u);
  const std::string node = good.plan.steps[1].node_name;
  {
    Executable e = good;
    e.plan.steps[1].kernel = "cpu.no_such_kernel.f32";
    ExpectRejected(e, "step 1 (node '" + node + "'");
    ExpectRejected(e, "kernel 'cpu.no_such_kernel.f32' is in no linked kernel library (cpu)");
  }
  {
    Executable e = good;
    e.plan.steps[1].params_version = 99;
    ExpectRejected(e, "parameter block version 99");
  }
  {
    Executable e = good;
    e.plan.steps[1].params_size -= 8;
    ExpectRejected(e, "bytes, but kernel '" + good.plan.steps[1].kernel + "' reads");
  }
  {
    Executable e = good;
    e.abi_version = 1;
    ExpectRejected(e, "kernel ABI version 1");
  }
}

TEST(ExecutableTest, VerifyChecksSignatureWeightsAndSlices) {
  const Executable good = SmallMlp();
  {
    Executable e = good;
    e.inputs[0].type.shape.dim(0) = 4;
    ExpectRejected(e, "input 'x' is f32[4,8] in the signature, f32[3,8] in the plan");
  }
  {
    Executable e = good;
    e.outputs.push_back(e.outputs[0]);
    ExpectRejected(e, "2 outputs in the signature, 1 in the plan");
  }
  {
    Executable e = good;
    e.outputs[0].name = "";
    ExpectRejected(e, "output 0 has no name");
  }
  {
    Executable e = good;
    e.weights = nullptr;
    ExpectRejected(e, "bytes of weights, and the executable has none");
  }
  {
    // Two arena values live at once made to share bytes.
    Executable e = good;
    int a = -1;
    int b = -1;
    const std::vector<PlannedValue>& values = e.plan.memory.values;
    auto in_arena = [](const PlannedValue& value) {
      return value.slice.region == Region::kArena && value.bytes > 0;
    };
    for (int u = 0; u < static_cast<int>(values.size()) && b < 0; ++u) {
      for (int v = u + 1; v < static_cast<int>(values.size()) && b < 0; ++v) {
        if (in_arena(values[u]) && in_arena(values[v]) &&
            values[v].first_step <= values[u].last_step &&
            values[u].first_step <= values[v].last_step &&
            values[u].slice.offset != values[v].slice.offset) {
          a = u;
          b = v;
        }
      }
    }
    ASSERT_GE(b, 0);
    e.plan.memory.values[b].slice.offset = e.plan.memory.values[a].slice.offset;
    ExpectRejected(e, absl::StrCat("value ", b, " ('", e.plan.memory.values[b].name, "')"));
    // Outside the arena.
    e = good;
    e.plan.memory.values[a].slice.offset = e.plan.memory.arena_bytes + 64;
    ExpectRejected(e, absl::StrCat("value ", a, " ('", e.plan.memory.values[a].name,
                                   "'): arena slice"));
  }
}

TEST(ExecutableTest, ProtoErrorsNameTheField) {
  absl::StatusOr<proto::Executable> good = ExecutableToProto(SmallMlp());
  ASSERT_TRUE(good.ok());
  {
    proto::Executable p = *good;
    p.set_format_version(7);
    EXPECT_THAT(ExecutableFromProto(p).status().message(), HasSubstr("format_version: 7"));
  }
  {
    proto::Executable p = *good;
    p.mutable_steps(0)->add_operands(100000);
    EXPECT_THAT(ExecutableFromProto(p).status().message(), HasSubstr("step 0"));
  }
  {
    proto::Executable p = *good;
    p.mutable_weights()->resize(p.weights().size() - 1);
    EXPECT_THAT(ExecutableFromProto(p).status().message(), HasSubstr("weights:"));
  }
  {
    proto::Executable p = *good;
    p.mutable_inputs(0)->set_dtype(static_cast<proto::DataType>(77));
    EXPECT_THAT(ExecutableFromProto(p).status().message(), HasSubstr("input 0 ('x')"));
  }
  {
    proto::Executable p = *good;
    p.add_fetch_values(-3);
    EXPECT_THAT(ExecutableFromProto(p).status().message(), HasSubstr("fetch_values"));
  }
}

TEST(ExecutableTest, CompileErrors) {
  examples::MlpConfig mlp;
  mlp.in = 8;
  mlp.hidden = 16;
  absl::StatusOr<Graph> graph = examples::BuildMlp(mlp);
  ASSERT_TRUE(graph.ok());
  absl::StatusOr<Executable> unbound = Compile(*graph, CompileOptions{});
  EXPECT_EQ(unbound.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unbound.status().message(), HasSubstr("input 'x' has unknown dimensions"));
  CompileOptions options = BatchOf3(*graph);
  options.input_shapes["nope"] = Shape{1};
  EXPECT_THAT(Compile(*graph, options).status().message(),
              HasSubstr("input shape given for 'nope'"));
}

TEST(ExecutableTest, ReferenceKernelsCannotBeWrittenOut) {
  examples::MlpConfig mlp;
  mlp.in = 8;
  mlp.hidden = 16;
  absl::StatusOr<Graph> graph = examples::BuildMlp(mlp);
  ASSERT_TRUE(graph.ok());
  CompileOptions options = BatchOf3(*graph);
  options.kernel_provider = std::make_shared<ReferenceKernelProvider>();
  absl::StatusOr<Executable> executable = Compile(*graph, options);
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_NE(executable->keep_alive, nullptr);
  absl::StatusOr<proto::Executable> proto = ExecutableToProto(*executable);
  EXPECT_EQ(proto.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(proto.status().message(), HasSubstr("which is in no kernel library"));
  // It still runs in this process.
  const std::vector<Tensor> inputs = RandomInputs(*executable, 3);
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
      LoadedExecutable::Load(*std::move(executable), nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE((*loaded)->Run(inputs).ok());
}

TEST(ExecutableTest, GeneratedKernelsCannotBeWrittenOutButUnboundNamesCan) {
  // The eltwise chain is one loop cluster, which the default provider generates code for.
  absl::StatusOr<Graph> graph = examples::BuildEltwise();
  ASSERT_TRUE(graph.ok());
  CompileOptions options = BatchOf3(*graph);
  options.kernel_provider = nullptr;  // the default: generated loops
  absl::StatusOr<Executable> executable = Compile(*graph, options);
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<proto::Executable> proto = ExecutableToProto(*executable);
  EXPECT_EQ(proto.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(proto.status().message(), HasSubstr("runs kernel 'gen.loop."));

  // A file may name kernels this binary lacks (another machine's library): read, it is
  // not bound to code, and writes back unchanged.
  absl::StatusOr<proto::Executable> library = ExecutableToProto(SmallMlp());
  ASSERT_TRUE(library.ok()) << library.status();
  library->mutable_steps(0)->set_kernel("elsewhere.some_kernel");
  absl::StatusOr<Executable> read = ExecutableFromProto(*library);
  ASSERT_TRUE(read.ok()) << read.status();
  absl::StatusOr<proto::Executable> again = ExecutableToProto(*read);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->steps(0).kernel(), "elsewhere.some_kernel");
}

TEST(ExecutableTest, RunChecksInputsAgainstTheSignature) {
  absl::StatusOr<std::unique_ptr<LoadedExecutable>> loaded =
      LoadedExecutable::Load(SmallMlp(), nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT((*loaded)->Run({}).status().message(), HasSubstr("0 inputs given"));
  std::vector<Tensor> wrong = {RandomTensor(DataType::kF32, Shape{2, 8}, 1)};
  EXPECT_THAT((*loaded)->Run(wrong).status().message(),
              HasSubstr("input 'x' is f32[2,8], expected f32[3,8]"));
}

}  // namespace
}  // namespace kiln
