// One-line error reporting shared by the `kiln` subcommands.
#include "tools/cli/command.h"

#include <algorithm>

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

}  // namespace kiln::cli
