// Running the project's binaries as subprocesses in end-to-end tests.
#ifndef KILN_TESTS_TOOLS_CLI_TEST_UTIL_H_
#define KILN_TESTS_TOOLS_CLI_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kiln::testing {

// The test's temporary directory (TEST_TMPDIR), and a path inside it.
std::string TempDir();
std::string TempPath(absl::string_view name);
// The whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);
// `s` quoted for /bin/sh.
std::string ShellQuote(absl::string_view s);

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `binary` (a runfiles path such as "tools/kiln") with `args` and captures its exit
// code, standard output and standard error.
Result RunBinary(absl::string_view binary, const std::vector<std::string>& args);

}  // namespace kiln::testing

#endif  // KILN_TESTS_TOOLS_CLI_TEST_UTIL_H_
