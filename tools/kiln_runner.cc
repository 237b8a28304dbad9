// kiln-runner: loads an artifact (`kiln compile -o model.kiln`) and runs it on the runtime
// core alone: no graph, no passes, no compiler. It is the smallest program that runs a
// compiled model, and what //tests/runtime:core_deps_test measures.
//
//   kiln-runner MODEL.kiln --input NAME=FILE.npy|NAME=random ... [--batch N] [--seed N]
//               [--threads N] [--output DIR]
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/artifact_commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return kiln::cli::RunArtifactMain("kiln-runner", args, std::cout, std::cerr);
}
