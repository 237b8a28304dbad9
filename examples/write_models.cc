// Writes the suite's models as binary GraphDefs: mlp.pb, resnet50.pb, bert.pb, eltwise.pb.
//   bazel run //examples:write_models -- DIR [--models mlp,bert,...]
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "examples/models.h"
#include "graph/graph_io.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "write_models: error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: write_models DIR [--models mlp,resnet50,bert,eltwise]\n"
                 "Writes the benchmark suite's models (random weights, fixed seed) into DIR.\n");
    return argc < 2 ? 2 : 0;
  }
  std::string dir = argv[1];
  std::vector<std::string> models = {"mlp", "resnet50", "bert", "eltwise"};
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--models" && i + 1 < argc) {
      models = absl::StrSplit(argv[++i], ',');
    } else {
      std::fprintf(stderr, "write_models: error: unknown argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) return Fail("cannot create " + dir);
  for (const std::string& name : models) {
    absl::StatusOr<kiln::Graph> graph;
    if (name == "mlp") graph = kiln::examples::BuildMlp();
    else if (name == "resnet50") graph = kiln::examples::BuildResNet50();
    else if (name == "bert") graph = kiln::examples::BuildBert();
    else if (name == "eltwise") graph = kiln::examples::BuildEltwise();
    else return Fail("unknown model '" + name + "'");
    if (!graph.ok()) return Fail(name + ": " + std::string(graph.status().message()));
    std::string path = dir + "/" + name + ".pb";
    absl::Status saved = kiln::SaveGraph(*graph, path);
    if (!saved.ok()) return Fail(std::string(saved.message()));
    std::printf("wrote %s (%d nodes)\n", path.c_str(), graph->num_nodes());
  }
  return 0;
}
