// `kiln serve ...`: runs the kiln-serve binary (tools/serve/kiln_serve.cc) with the same
// arguments. The server is its own program so that it links the runtime core and no
// compiler; this command only finds it: beside `kiln`, in its serve/ folder (a Bazel
// tree), or on PATH.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/command.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln serve --model_dir DIR [--port P] [--grpc_port G] [--config FILE] ...

Serves the compiled artifacts in DIR (DIR/NAME/VERSION/model.kiln) over TF
Serving's REST and gRPC APIs with dynamic batching and version polling: runs
the kiln-serve program with these arguments (its flags follow; docs/serving.md
shows requests with curl and TF Serving's Python client).
)help";

int ServeMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  // `kiln serve --help` shows this text, then kiln-serve's own list of flags.
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kHelp << "\n" << std::flush;
      break;
    }
  }
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  std::vector<std::string> candidates;
  if (!error) {
    candidates.push_back((self.parent_path() / "kiln-serve").string());
    candidates.push_back((self.parent_path() / "serve" / "kiln-serve").string());
  }
  std::vector<char*> argv;
  std::string program = "kiln-serve";
  argv.push_back(program.data());
  std::vector<std::string> copies(args.begin(), args.end());
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (const std::string& candidate : candidates) {
    if (access(candidate.c_str(), X_OK) == 0) {
      execv(candidate.c_str(), argv.data());
      return Failure(err, absl::InternalError(
                              absl::StrCat("cannot run ", candidate, ": ", std::strerror(errno))));
    }
  }
  execvp("kiln-serve", argv.data());
  return Failure(err, absl::NotFoundError(
                          "kiln-serve was found neither beside kiln nor on PATH; build it with "
                          "`bazel build //tools/serve:kiln-serve`"));
}

}  // namespace

const Command& ServeCommand() {
  static const Command command{"serve", "serve compiled artifacts over HTTP (runs kiln-serve)",
                               kHelp, ServeMain};
  return command;
}

}  // namespace kiln::cli
