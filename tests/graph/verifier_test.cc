// The verifier on bad graphs: each case is a text GraphDef, and the error must name the
// node (or signature entry) and the reason.
#include "graph/verifier.h"

#include <string>

#include "gtest/gtest.h"
#include "graph/graph_io.h"
#include "graph/proto_convert.h"

namespace kiln {
namespace {

struct BadGraph {
  const char* name;
  const char* text;
  const char* expected;  // substring of the error
};

// Shared pieces of the text graphs below.
#define INPUT_X \
  "node { name: 'x' op: 'Input' attr { key: 'dtype' value { dtype: DT_F32 } } " \
  "attr { key: 'shape' value { ints { values: [2, 3] } } } } "
#define SIG_X "signature { inputs: 'x' outputs { name: 'y' tensor: 'x' } } "

const BadGraph kBadGraphs[] = {
    {"unknown_op", INPUT_X "node { name: 'n' op: 'Frobnicate' input: 'x' } " SIG_X,
     "node 'n' (Frobnicate): unknown op 'Frobnicate'"},
    {"duplicate_name", INPUT_X "node { name: 'x' op: 'Identity' input: 'x' } " SIG_X,
     "duplicate node name 'x'"},
    {"empty_name", INPUT_X "node { op: 'Identity' input: 'x' } " SIG_X, "node name is empty"},
    {"bad_character_in_name", INPUT_X "node { name: 'a b' op: 'Identity' input: 'x' } " SIG_X,
     "'a b' has a character outside"},
    {"dangling_input", INPUT_X "node { name: 'n' op: 'Identity' input: 'ghost' } " SIG_X,
     "node 'n' (Identity): input 0: 'ghost' names no node"},
    {"output_index_out_of_range", INPUT_X "node { name: 'n' op: 'Identity' input: 'x:3' } " SIG_X,
     "node 'n' (Identity): input 0 refers to output 3 of 'x', which has 1 outputs"},
    {"malformed_reference", INPUT_X "node { name: 'n' op: 'Identity' input: 'x:one' } " SIG_X,
     "bad tensor reference 'x:one'"},
    {"cycle",
     INPUT_X "node { name: 'a' op: 'Identity' input: 'b' } node { name: 'b' op: 'Identity' input: 'a' } " SIG_X,
     "is on a cycle"},
    {"self_loop", INPUT_X "node { name: 'a' op: 'Identity' input: 'a' } " SIG_X,
     "node 'a' is on a cycle"},
    {"missing_required_attribute",
     "node { name: 'x' op: 'Input' attr { key: 'shape' value { ints { values: [2] } } } } " SIG_X,
     "node 'x' (Input): missing required attribute 'dtype'"},
    {"unknown_attribute",
     INPUT_X "node { name: 'n' op: 'Identity' input: 'x' attr { key: 'colour' value { s: 'red' } } } " SIG_X,
     "node 'n' (Identity): unknown attribute 'colour'"},
    {"wrong_attribute_type",
     "node { name: 'x' op: 'Input' attr { key: 'dtype' value { s: 'f32' } } "
     "attr { key: 'shape' value { ints { values: [2] } } } } " SIG_X,
     "attribute 'dtype' must be dtype, got string"},
    {"attribute_without_value",
     "node { name: 'x' op: 'Input' attr { key: 'dtype' value { } } "
     "attr { key: 'shape' value { ints { values: [2] } } } } " SIG_X,
     "node 'x' (Input): attribute 'dtype': attribute has no value"},
    {"wrong_input_count", INPUT_X "node { name: 'n' op: 'Identity' } " SIG_X,
     "node 'n' (Identity): expected 1 inputs, got 0"},
    {"too_many_inputs", INPUT_X "node { name: 'n' op: 'Identity' input: 'x' input: 'x' } " SIG_X,
     "node 'n' (Identity): expected 1 inputs, got 2"},
    {"dtype_mismatch",
     INPUT_X "node { name: 'i' op: 'Input' attr { key: 'dtype' value { dtype: DT_I32 } } "
     "attr { key: 'shape' value { ints { values: [2, 3] } } } } "
     "node { name: 'sum' op: 'Add' input: 'x' input: 'i' } "
     "signature { inputs: 'x' inputs: 'i' outputs { name: 'y' tensor: 'sum' } }",
     "node 'sum' (Add): input 'y' has dtype i32, expected f32"},
    {"shape_mismatch",
     INPUT_X "node { name: 'v' op: 'Input' attr { key: 'dtype' value { dtype: DT_F32 } } "
     "attr { key: 'shape' value { ints { values: [4] } } } } "
     "node { name: 'sum' op: 'Add' input: 'x' input: 'v' } "
     "signature { inputs: 'x' inputs: 'v' outputs { name: 'y' tensor: 'sum' } }",
     "node 'sum' (Add): "},
    {"matmul_inner_dimension_mismatch",
     INPUT_X "node { name: 'w' op: 'Constant' attr { key: 'value' value { tensor { dtype: DT_F32 "
     "shape: [4, 2] raw_data: '\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
     "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000' } } } } "
     "node { name: 'mm' op: 'MatMul' input: 'x' input: 'w' } "
     "signature { inputs: 'x' outputs { name: 'y' tensor: 'mm' } }",
     "node 'mm' (MatMul): "},
    {"element_count_overflow",
     "node { name: 'x' op: 'Input' attr { key: 'dtype' value { dtype: DT_F32 } } "
     "attr { key: 'shape' value { ints { values: [1073741824, 1073741824, 1073741824] } } } } " SIG_X,
     "node 'x' (Input): output 0: shape [1073741824,1073741824,1073741824]: element count exceeds 2^40"},
    {"negative_dimension",
     "node { name: 'x' op: 'Input' attr { key: 'dtype' value { dtype: DT_F32 } } "
     "attr { key: 'shape' value { ints { values: [2, -7] } } } } " SIG_X,
     "node 'x' (Input): attribute 'shape' [2,-7] has a dimension below -1"},
    {"constant_size_mismatch",
     INPUT_X "node { name: 'c' op: 'Constant' attr { key: 'value' value { tensor { dtype: DT_F32 "
     "shape: [3] raw_data: 'abcd' } } } } " SIG_X,
     "node 'c' (Constant): attribute 'value': tensor f32[3] needs 12 bytes of raw_data, got 4"},
    {"constant_bad_dtype",
     INPUT_X "node { name: 'c' op: 'Constant' attr { key: 'value' value { tensor { dtype: 42 "
     "shape: [1] raw_data: 'a' } } } } " SIG_X,
     "node 'c' (Constant): attribute 'value': tensor invalid dtype value 42"},
    {"constant_negative_shape",
     INPUT_X "node { name: 'c' op: 'Constant' attr { key: 'value' value { tensor { dtype: DT_F32 "
     "shape: [-1] } } } } " SIG_X,
     "node 'c' (Constant): attribute 'value': tensor shape [-1] has a negative dimension"},
    {"constant_missing_value", INPUT_X "node { name: 'c' op: 'Constant' } " SIG_X,
     "node 'c' (Constant): missing required attribute 'value'"},
    {"signature_input_not_input_op",
     INPUT_X "node { name: 'n' op: 'Identity' input: 'x' } "
     "signature { inputs: 'x' inputs: 'n' outputs { name: 'y' tensor: 'x' } }",
     "signature: input 'n' is a Identity node, expected Input"},
    {"signature_input_missing",
     INPUT_X "signature { inputs: 'x' inputs: 'q' outputs { name: 'y' tensor: 'x' } }",
     "signature: input 'q' names no node in the graph"},
    {"input_not_in_signature", INPUT_X "signature { outputs { name: 'y' tensor: 'x' } }",
     "node 'x' (Input): not listed in the signature's inputs"},
    {"signature_input_twice",
     INPUT_X "signature { inputs: 'x' inputs: 'x' outputs { name: 'y' tensor: 'x' } }",
     "signature: input 'x' is listed twice"},
    {"output_missing_tensor", INPUT_X "signature { inputs: 'x' outputs { name: 'y' tensor: 'x:1' } }",
     "signature: output 'y' refers to a missing tensor"},
    {"output_names_missing_node",
     INPUT_X "signature { inputs: 'x' outputs { name: 'y' tensor: 'nothing' } }",
     "signature: output 'y': 'nothing' names no node in the graph"},
    {"duplicate_output_name",
     INPUT_X "signature { inputs: 'x' outputs { name: 'y' tensor: 'x' } outputs { name: 'y' tensor: 'x' } }",
     "signature: output name 'y' is used twice"},
    {"empty_output_name", INPUT_X "signature { inputs: 'x' outputs { tensor: 'x' } }",
     "signature: an output has no name"},
    {"unsupported_opset", "opset_version: 99 " INPUT_X SIG_X,
     "graph opset_version 99 is not supported"},
    {"external_data_without_directory",
     INPUT_X "node { name: 'c' op: 'Constant' attr { key: 'value' value { tensor { dtype: DT_F32 "
     "shape: [1] external { location: 'w.bin' length: 4 } } } } } " SIG_X,
     "external data needs the graph's directory"},
};

void PrintTo(const BadGraph& c, std::ostream* os) { *os << c.name; }

class VerifierBadGraphTest : public ::testing::TestWithParam<BadGraph> {};

TEST_P(VerifierBadGraphTest, RejectsWithNamedReason) {
  const BadGraph& c = GetParam();
  absl::StatusOr<proto::GraphDef> def = ParseGraphDef(c.text, /*text=*/true);
  ASSERT_TRUE(def.ok()) << def.status();
  absl::StatusOr<Graph> graph = GraphFromProto(*def);
  ASSERT_FALSE(graph.ok()) << "accepted a bad graph";
  EXPECT_NE(std::string(graph.status().message()).find(c.expected), std::string::npos)
      << "error was: " << graph.status().message();
}

INSTANTIATE_TEST_SUITE_P(BadGraphs, VerifierBadGraphTest, ::testing::ValuesIn(kBadGraphs),
                         [](const ::testing::TestParamInfo<BadGraph>& info) {
                           return std::string(info.param.name);
                         });

TEST(VerifierTest, AcceptsInputsDeclaredAfterUse) {
  // Producers may follow consumers in the file; the verifier orders them.
  absl::StatusOr<proto::GraphDef> def = ParseGraphDef(
      "node { name: 'n' op: 'Identity' input: 'x' } " INPUT_X
      "signature { inputs: 'x' outputs { name: 'y' tensor: 'n' } }",
      true);
  ASSERT_TRUE(def.ok());
  absl::StatusOr<Graph> graph = GraphFromProto(*def);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->node(0).outputs[0].ToString(), "f32[2,3]");
}

TEST(VerifierTest, MalformedTextNamesLine) {
  absl::StatusOr<proto::GraphDef> def = ParseGraphDef("node { name: 'x' \n op: }", true);
  ASSERT_FALSE(def.ok());
  EXPECT_NE(std::string(def.status().message()).find("line 2"), std::string::npos)
      << def.status();
}

TEST(VerifierTest, MalformedBinaryIsAnError) {
  absl::StatusOr<proto::GraphDef> def = ParseGraphDef("\x0a\xff\xff\xff\xff\x0f", false);
  EXPECT_FALSE(def.ok());
}

}  // namespace
}  // namespace kiln
