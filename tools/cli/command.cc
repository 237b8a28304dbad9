// One-line error reporting shared by the `kiln` subcommands.
#include "tools/cli/command.h"

#include <algorithm>

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

int Failure(std::ostream& err, const absl::Status& status) {
  PrintError(err, status.message());
  return kExitFailure;
}

}  // namespace kiln::cli
