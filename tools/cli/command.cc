// One-line error reporting shared by the `kiln` subcommands.
#include "tools/cli/command.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::cli {
namespace {

void PrintError(std::ostream& err, absl::string_view message) {
  std::string line(message);
  std::replace(line.begin(), line.end(), '\n', ' ');
  err << "kiln: error: " << line << "\n";
}

}  // namespace

int UsageError(std::ostream& err, absl::string_view message) {
  PrintError(err, message);
  return kExitUsage;
}

const std::string* ComposeHelp(std::initializer_list<absl::string_view> parts) {
  return new std::string(absl::StrJoin(parts, "\n"));
}

int Failure(std::ostream& err, const absl::Status& status) {
  PrintError(err, status.message());
  return kExitFailure;
}

std::optional<int> ParseOneArgument(FlagSet& flags, absl::Span<const std::string> args,
                                    absl::string_view help, absl::string_view what,
                                    std::string* argument, std::ostream& out,
                                    std::ostream& err) {
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional.ok()) return UsageError(err, positional.status().message());
  if (flags.help_requested()) {
    out << help;
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError(err, absl::StrCat("'", flags.command(), "' takes ", what, ", got ",
                                        positional->size(), " arguments"));
  }
  *argument = (*positional)[0];
  return std::nullopt;
}

}  // namespace kiln::cli
