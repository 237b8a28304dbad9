// A small flag parser for one `kiln` subcommand. Hand-written because absl flags are
// process-global, while each subcommand has its own flags.
#ifndef KILN_TOOLS_CLI_FLAGS_H_
#define KILN_TOOLS_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiln::cli {

// Declares flags bound to caller-owned variables (which hold the defaults), then parses.
// Accepted forms: --name VALUE, --name=VALUE, --name for booleans; flags and positional
// arguments may be mixed, and "--" ends the flags. -h or --help anywhere before "--"
// makes Parse stop and report help_requested(). Not thread-safe.
class FlagSet {
 public:
  // `command` names the subcommand in errors ("kiln run").
  explicit FlagSet(std::string command) : command_(std::move(command)) {}
  const std::string& command() const { return command_; }

  void AddString(absl::string_view name, std::string* value);
  // Integers are checked against [min, max].
  void AddInt64(absl::string_view name, int64_t* value, int64_t min, int64_t max);
  // May be given any number of times; each value is appended.
  void AddStringList(absl::string_view name, std::vector<std::string>* values);
  // Takes no value: --name sets true.
  void AddBool(absl::string_view name, bool* value);
  // Makes "-LETTER" stand for "--name" (a flag added before or after).
  void AddShortAlias(char letter, absl::string_view name);

  // Parses `args` (without the program and subcommand names) and returns the positional
  // arguments. Errors (usage errors, one line each): unknown flag, missing value, a value
  // given to a boolean, a bad or out-of-range integer, a non-list flag given twice.
  absl::StatusOr<std::vector<std::string>> Parse(absl::Span<const std::string> args);

  bool help_requested() const { return help_requested_; }
  // True when the flag appeared on the command line (valid after Parse).
  bool WasSet(absl::string_view name) const;

 private:
  enum class Kind { kString, kInt64, kStringList, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* target;
    int64_t min = 0;
    int64_t max = 0;
    bool seen = false;
  };

  Flag* Find(absl::string_view name);
  absl::Status Set(Flag& flag, absl::string_view value);

  std::string command_;
  std::vector<Flag> flags_;
  std::vector<std::pair<char, std::string>> aliases_;
  bool help_requested_ = false;
};

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_FLAGS_H_
