// What every `kiln` subcommand provides (name, help, entry point), the exit codes they
// share, and the one-line error reporting of the command line.
#ifndef KILN_TOOLS_CLI_COMMAND_H_
#define KILN_TOOLS_CLI_COMMAND_H_

#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/cli/flags.h"

namespace kiln::cli {

// Exit codes of the `kiln` binary.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (files, graph, session)
inline constexpr int kExitUsage = 2;    // the command line itself is wrong

// Runs a subcommand on its arguments (after the subcommand name); writes results to
// `out`, errors to `err`, and returns an exit code.
using CommandMain = int (*)(absl::Span<const std::string> args, std::ostream& out,
                            std::ostream& err);

struct Command {
  absl::string_view name;
  absl::string_view summary;  // one line for `kiln --help`
  absl::string_view help;     // the full text for `kiln NAME --help`
  CommandMain main;
};

// A command's full help: its own text followed by the shared flag sections, separated by
// blank lines. Built once per command (callers keep it in a function-local static).
const std::string* ComposeHelp(std::initializer_list<absl::string_view> parts);

// Prints "kiln: error: MESSAGE" as one line (newlines in `message` become spaces) to
// `err` and returns kExitUsage.
int UsageError(std::ostream& err, absl::string_view message);
// Same for a failure of the command; returns kExitFailure.
int Failure(std::ostream& err, const absl::Status& status);

// The usual start of a command that takes one file: parses `args` with `flags`, prints
// `help` to `out` on --help, and expects exactly one positional argument, `what` in the
// usage error ("'kiln run' takes one graph file, got 2 arguments"). Stores it in
// `argument` and returns nullopt to go on, or returns the exit code to stop with:
// kExitOk after the help, kExitUsage after a usage error printed to `err`.
std::optional<int> ParseOneArgument(FlagSet& flags, absl::Span<const std::string> args,
                                    absl::string_view help, absl::string_view what,
                                    std::string* argument, std::ostream& out,
                                    std::ostream& err);

// The subcommands (tools/cli/inspect.cc, opt.cc, run.cc, bench.cc).
const Command& InspectCommand();
const Command& OptCommand();
const Command& RunCommand();
const Command& BenchCommand();
// tools/cli/compile.cc
const Command& CompileCommand();
// tools/cli/serve.cc: runs the kiln-serve binary
const Command& ServeCommand();
// tools/cli/import.cc, tools/cli/conformance.cc
const Command& ImportCommand();
const Command& ConformanceCommand();

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_COMMAND_H_
