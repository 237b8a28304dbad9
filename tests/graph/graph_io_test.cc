// GraphDef round trips (memory, text and binary files, external weights) and the
// errors of external data.
#include "graph/graph_io.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/proto_convert.h"
#include "gtest/gtest.h"
#include "tests/util/op_test_util.h"

namespace kiln {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// A graph touching every attribute kind and every dtype of constants.
Graph RichGraph() {
  GraphBuilder b;
  Value x = b.Input("x", DataType::kF32, Shape{-1, 3});
  const DataType kTypes[] = {DataType::kF32, DataType::kF16, DataType::kBF16, DataType::kF64,
                             DataType::kI8,  DataType::kU8,  DataType::kI32,  DataType::kI64,
                             DataType::kBool};
  int seed = 1;
  for (DataType t : kTypes) {
    b.Constant(testing::RandomTensor(t, Shape{2, 3}, seed++, -5, 5),
               absl::StrCat("c_", DataTypeName(t)));
  }
  b.Constant(Tensor::Allocate(DataType::kF32, Shape{0, 4}).value(), "empty");
  b.Constant(Tensor::ScalarF32(2.5f), "scalar");
  Value y = ops::Identity(b, x);
  b.Output("y", y);
  b.Output("x_again", x);
  absl::StatusOr<Graph> graph = b.BuildGraph();
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *graph;
}

void ExpectSameGraph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.num_nodes(), b.num_nodes());
  for (int i = 0; i < a.num_nodes(); ++i) {
    const Node& na = a.node(i);
    const Node& nb = b.node(i);
    EXPECT_EQ(na.name, nb.name);
    EXPECT_EQ(na.op, nb.op);
    EXPECT_EQ(na.inputs, nb.inputs);
    ASSERT_EQ(na.attrs.size(), nb.attrs.size()) << na.name;
    for (const auto& [key, value] : na.attrs) {
      ASSERT_TRUE(nb.HasAttr(key)) << na.name << "." << key;
      EXPECT_TRUE(AttrValuesEqual(value, nb.attrs.find(key)->second)) << na.name << "." << key;
    }
    EXPECT_EQ(na.outputs.size(), nb.outputs.size());
    for (size_t k = 0; k < na.outputs.size(); ++k) EXPECT_EQ(na.outputs[k], nb.outputs[k]);
  }
  EXPECT_EQ(a.inputs(), b.inputs());
  ASSERT_EQ(a.outputs().size(), b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i) {
    EXPECT_EQ(a.outputs()[i].name, b.outputs()[i].name);
    EXPECT_EQ(a.outputs()[i].tensor, b.outputs()[i].tensor);
  }
}

TEST(GraphIoTest, ProtoRoundTripIsLossless) {
  Graph graph = RichGraph();
  absl::StatusOr<proto::GraphDef> def = GraphToProto(graph);
  ASSERT_TRUE(def.ok());
  absl::StatusOr<Graph> back = GraphFromProto(*def);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameGraph(graph, *back);
  absl::StatusOr<proto::GraphDef> again = GraphToProto(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*def, *again));
}

TEST(GraphIoTest, AttributesOfEveryKindSurvive) {
  Graph graph;
  Node node;
  node.name = "x";
  node.op = "Input";
  node.attrs = {{"dtype", DataType::kI64}, {"shape", std::vector<int64_t>{4, -1}}};
  ASSERT_TRUE(graph.AddNode(node).ok());
  graph.inputs().push_back(0);
  graph.outputs().push_back({"y", TensorRef{0, 0}});
  // Export does not require verification; exercise every AttrValue kind directly.
  AttrMap all = {{"i", int64_t{-7}},
                 {"f", 0.25},
                 {"s", std::string("NHWC")},
                 {"b", true},
                 {"ints", std::vector<int64_t>{1, -2, 3}},
                 {"floats", std::vector<double>{0.5, -1e30}},
                 {"strings", std::vector<std::string>{"a", ""}},
                 {"t", DataType::kBF16},
                 {"tensor", Tensor::I64(Shape{2}, {5, -6})}};
  graph.node(0).attrs.insert(all.begin(), all.end());
  absl::StatusOr<proto::GraphDef> def = GraphToProto(graph);
  ASSERT_TRUE(def.ok());
  ImportOptions raw;
  raw.verify = false;  // 'Input' has no such attributes; this checks conversion only
  absl::StatusOr<Graph> back = GraphFromProto(*def, raw);
  ASSERT_TRUE(back.ok()) << back.status();
  for (const auto& [key, value] : all) {
    ASSERT_TRUE(back->node(0).HasAttr(key)) << key;
    EXPECT_TRUE(AttrValuesEqual(value, back->node(0).attrs.find(key)->second)) << key;
  }
}

TEST(GraphIoTest, TextAndBinaryFilesRoundTrip) {
  Graph graph = RichGraph();
  for (const char* name : {"rich.pbtxt", "rich.pb"}) {
    std::string path = TempPath(name);
    ASSERT_TRUE(SaveGraph(graph, path).ok());
    absl::StatusOr<Graph> back = LoadGraph(path);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectSameGraph(graph, *back);
  }
}

TEST(GraphIoTest, ExternalDataRoundTrip) {
  Graph graph = RichGraph();
  std::string path = TempPath("external.pb");
  // Threshold 10 bytes: the f32/i32/i64/f64 constants move out, small ones stay inline.
  ASSERT_TRUE(SaveGraph(graph, path, /*external_data_threshold=*/10).ok());
  absl::StatusOr<proto::GraphDef> def = LoadGraphDef(path);
  ASSERT_TRUE(def.ok());
  int external = 0;
  for (const auto& node : def->node()) {
    for (const auto& [key, value] : node.attr()) {
      if (value.has_tensor() && value.tensor().has_external()) {
        ++external;
        EXPECT_EQ(value.tensor().external().location(), "external.pb.data");
      }
    }
  }
  EXPECT_GE(external, 4);
  absl::StatusOr<Graph> back = LoadGraph(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameGraph(graph, *back);
}

TEST(GraphIoTest, TruncatedExternalDataIsAnError) {
  Graph graph = RichGraph();
  std::string path = TempPath("truncated.pb");
  ASSERT_TRUE(SaveGraph(graph, path, 10).ok());
  std::ofstream(path + ".data", std::ios::trunc) << "short";
  absl::StatusOr<Graph> back = LoadGraph(path);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(std::string(back.status().message()).find("too short"), std::string::npos)
      << back.status();
}

TEST(GraphIoTest, ExternalDataOutsideTheDirectoryIsRejected) {
  for (const char* location : {"../secret", "/etc/passwd", ""}) {
    proto::TensorProto t;
    t.set_dtype(proto::DT_F32);
    t.add_shape(1);
    t.mutable_external()->set_location(location);
    t.mutable_external()->set_length(4);
    absl::StatusOr<Tensor> tensor = TensorFromProto(t, "/tmp", "w");
    ASSERT_FALSE(tensor.ok()) << location;
    EXPECT_NE(std::string(tensor.status().message()).find("relative path"), std::string::npos);
  }
}

TEST(GraphIoTest, MissingFileNamesThePath) {
  absl::StatusOr<Graph> graph = LoadGraph(TempPath("does_not_exist.pb"));
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(graph.status().message()).find("does_not_exist.pb"), std::string::npos);
}

TEST(GraphIoTest, DirectoryIsNotAGraph) {
  std::string dir = TempPath("a_directory.pb");
  std::filesystem::create_directories(dir);
  absl::StatusOr<Graph> graph = LoadGraph(dir);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(graph.status().message()).find("a_directory.pb"), std::string::npos);
}

}  // namespace
}  // namespace kiln
