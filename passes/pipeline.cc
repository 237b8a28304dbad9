// The pass pipeline: ordering, fixed points, verification, timing and dumps.
#include "passes/pipeline.h"

#include <chrono>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "graph/text_format.h"
#include "graph/verifier.h"

namespace kiln::passes {

void Pipeline::AddPass(std::unique_ptr<Pass> pass) {
  Stage stage;
  stage.passes.push_back(std::move(pass));
  stages_.push_back(std::move(stage));
}

void Pipeline::AddFixedPoint(std::string name, std::vector<std::unique_ptr<Pass>> passes,
                             int max_iterations) {
  Stage stage;
  stage.name = std::move(name);
  stage.passes = std::move(passes);
  stage.max_iterations = max_iterations < 1 ? 1 : max_iterations;
  stages_.push_back(std::move(stage));
}

std::vector<std::string> Pipeline::PassNames() const {
  std::vector<std::string> names;
  for (const Stage& stage : stages_) {
    for (const auto& pass : stage.passes) names.emplace_back(pass->name());
  }
  return names;
}

absl::Status Pipeline::Dump(const Graph& graph, absl::string_view label) {
  if (options_.dump_dir.empty()) return absl::OkStatus();
  std::string base =
      absl::StrFormat("%s/%03d-%s", options_.dump_dir, dump_count_++, std::string(label));
  TextPrintOptions print;
  print.max_inline_elements = 16;
  for (const auto& [ext, text] :
       {std::pair<std::string, std::string>{".kgraph", PrintGraph(graph, print)},
        {".dot", GraphToDot(graph)}}) {
    std::ofstream out(base + ext, std::ios::trunc);
    out << text;
    if (!out) {
      return absl::PermissionDeniedError(absl::StrCat("pipeline: cannot write dump '", base, ext, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Pipeline::RunPass(Pass& pass, int iteration, Graph& graph) {
  const std::string name(pass.name());
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<bool> changed = pass.Run(graph);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!changed.ok()) {
    return absl::Status(changed.status().code(),
                        absl::StrCat("pass '", name, "': ", changed.status().message()));
  }
  if (options_.verify_each) {
    absl::Status verified = VerifyGraph(graph);
    if (!verified.ok()) {
      return absl::Status(verified.code(), absl::StrCat("pipeline: after pass '", name,
                                                        "': ", verified.message()));
    }
  }
  records_.push_back({name, iteration, seconds, *changed, graph.num_nodes()});
  if (options_.verbose) {
    std::ostream& log = options_.log != nullptr ? *options_.log : std::cerr;
    log << absl::StrFormat("%9.3f ms  %-9s %-34s nodes %d\n", seconds * 1e3,
                           *changed ? "changed" : "unchanged", name, graph.num_nodes());
  }
  RETURN_IF_ERROR(Dump(graph, name));
  return *changed;
}

absl::StatusOr<bool> Pipeline::Run(Graph& graph) {
  records_.clear();
  dump_count_ = 0;
  RETURN_IF_ERROR(Dump(graph, "input"));
  bool any = false;
  for (Stage& stage : stages_) {
    for (int iteration = 0; iteration < stage.max_iterations; ++iteration) {
      bool changed = false;
      for (auto& pass : stage.passes) {
        if (options_.disabled.count(std::string(pass->name()))) continue;
        ASSIGN_OR_RETURN(bool pass_changed, RunPass(*pass, iteration, graph));
        changed = changed || pass_changed;
      }
      any = any || changed;
      if (!changed) break;
    }
  }
  return any;
}

}  // namespace kiln::passes
