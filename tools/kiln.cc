// The `kiln` command line: dispatches to the subcommands of tools/cli/ and prints help.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/artifact_commands.h"
#include "tools/cli/command.h"

namespace kiln::cli {
namespace {

// The explicit list of subcommands, in the order `kiln --help` shows them.
const std::vector<const Command*>& Commands() {
  static const std::vector<const Command*> commands = {
      &InspectCommand(), &OptCommand(),    &CompileCommand(),     &RunCommand(),
      &BenchCommand(),   &ServeCommand(),  &ImportCommand(),      &ConformanceCommand()};
  return commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command* command : Commands()) {
    if (command->name == name) return command;
  }
  return nullptr;
}

std::string Usage() {
  std::string text =
      "Usage: kiln COMMAND [ARGS...]\n"
      "\n"
      "Kiln's command line for graph files (.pbtxt/.txt: text GraphDef, else binary).\n"
      "\n"
      "Commands:\n";
  for (const Command* command : Commands()) {
    size_t pad = command->name.size() < 13 ? 13 - command->name.size() : 1;
    absl::StrAppend(&text, "  ", command->name, std::string(pad, ' '), command->summary, "\n");
  }
  absl::StrAppend(&text,
                  "  help         print this text, or a command's with 'kiln help COMMAND'\n"
                  "\n"
                  "Run 'kiln COMMAND --help' for the flags of a command.\n"
                  "\n"
                  "Exit status: 0 on success; 1 when the command fails (unreadable or invalid\n"
                  "file, run-time error); 2 for a usage error (unknown command or flag, missing\n"
                  "or malformed flag value). Errors are one line on stderr: 'kiln: error: ...'.\n");
  return text;
}

int Main(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError(std::cerr, "no command given; run 'kiln --help'");
  const std::string& name = args[0];
  if (name == "--help" || name == "-h") {
    std::cout << Usage();
    return kExitOk;
  }
  if (name == "help") {
    if (args.size() == 1) {
      std::cout << Usage();
      return kExitOk;
    }
    const Command* command = FindCommand(args[1]);
    if (command == nullptr || args.size() > 2) {
      return UsageError(std::cerr, absl::StrCat("'kiln help' takes one of the commands, got '",
                                                args[1], args.size() > 2 ? " ...'" : "'"));
    }
    std::cout << command->help;
    return kExitOk;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    return UsageError(std::cerr,
                      absl::StrCat("unknown command '", name, "'; run 'kiln --help'"));
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  // A compiled artifact runs on the runtime core: no graph to load, optimize or compile.
  if (NamesArtifact(rest)) {
    if (name == "run") return RunArtifactMain("kiln run", rest, std::cout, std::cerr);
    if (name == "bench") return BenchArtifactMain(rest, std::cout, std::cerr);
    if (name == "inspect") return InspectArtifactMain(rest, std::cout, std::cerr);
  }
  return command->main(rest, std::cout, std::cerr);
}

}  // namespace
}  // namespace kiln::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return kiln::cli::Main(args);
}
