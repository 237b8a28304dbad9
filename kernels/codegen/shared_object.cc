#include "kernels/codegen/shared_object.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "kernels/codegen/kernel_compiler.h"

extern char** environ;

namespace kiln::codegen {
namespace {

// Tried in order on PATH: the linker tools/install_deps.sh installs (Debian's lld-14),
// then an unversioned one.
constexpr const char* kLinkers[] = {"ld.lld-14", "ld.lld"};

// A directory of its own under the system's temporary directory, removed when this goes.
class TemporaryDirectory {
 public:
  static absl::StatusOr<TemporaryDirectory> Create() {
    std::error_code error;
    const std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("linking generated kernels: no temporary directory: ", error.message()));
    }
    std::string pattern = (base / "kiln-link-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "linking generated kernels: cannot create a directory in '", base.string(),
          "': ", std::strerror(errno)));
    }
    return TemporaryDirectory(pattern);
  }
  TemporaryDirectory(TemporaryDirectory&& other) : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TemporaryDirectory& operator=(TemporaryDirectory&&) = delete;
  ~TemporaryDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  explicit TemporaryDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

absl::Status WriteFile(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    return absl::FailedPreconditionError(
        absl::StrCat("linking generated kernels: cannot write '", path, "'"));
  }
  return absl::OkStatus();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The file the dynamic loader maps for `soname` in this process ("libm.so.6" ->
// "/lib/x86_64-linux-gnu/libm.so.6"): the library a shared object linked now binds to when
// it is loaded on a machine like this one.
absl::StatusOr<std::string> SystemLibraryPath(const char* soname) {
  void* handle = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) handle = dlopen(soname, RTLD_LAZY);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("linking generated kernels: no system library ", soname, ": ", dlerror()));
  }
  struct link_map* map = nullptr;
  std::string path;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr) {
    path = map->l_name;
  }
  dlclose(handle);
  if (path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("linking generated kernels: cannot locate ", soname));
  }
  return path;
}

// Runs the first linker of kLinkers found with `args`, its output into `log`. Returns its
// exit status.
absl::StatusOr<int> RunLinker(const std::vector<std::string>& args, const std::string& log,
                              std::string* linker) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int spawned = ENOENT;
  for (const char* candidate : kLinkers) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(candidate));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    spawned = posix_spawnp(&pid, candidate, &actions, nullptr, argv.data(), environ);
    if (spawned == 0) {
      *linker = candidate;
      break;
    }
    if (spawned != ENOENT) break;
  }
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "linking generated kernels: cannot run ", absl::StrJoin(kLinkers, " or "), ": ",
        std::strerror(spawned), " (install Debian's lld-14; tools/install_deps.sh)"));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("linking generated kernels: waitpid: ", std::strerror(errno)));
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

absl::StatusOr<std::string> LinkSharedObject(absl::Span<const std::string> objects,
                                             absl::Span<const std::string> exported_symbols) {
  ASSIGN_OR_RETURN(TemporaryDirectory dir, TemporaryDirectory::Create());
  // Only the entry symbols are dynamic symbols; everything else binds inside the object.
  std::string version_script = "{\n  global:\n";
  for (const std::string& symbol : exported_symbols) {
    absl::StrAppend(&version_script, "    ", symbol, ";\n");
  }
  absl::StrAppend(&version_script, "  local: *;\n};\n");
  RETURN_IF_ERROR(WriteFile(dir.File("exports.map"), version_script));
  const std::string output = dir.File("kernels.so");
  std::vector<std::string> args = {
      "-shared", "-o", output,
      absl::StrCat("--version-script=", dir.File("exports.map")),
      // Unwinding through a kernel (a profiler's, a crash handler's) finds its frames.
      "--eh-frame-hdr",
      "--build-id", "--hash-style=gnu",
      // Every symbol is bound at load, in read-only relocations, and the stack is not
      // executable; an undefined symbol is an error now rather than at dlopen.
      "-z", "now", "-z", "relro", "-z", "noexecstack", "-z", "defs",
      // The system's libm (powf) and libc (memset), recorded only when used.
      "--as-needed"};
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string path = dir.File(absl::StrCat("kernel", i, ".o"));
    RETURN_IF_ERROR(WriteFile(path, objects[i]));
    args.push_back(path);
  }
  for (const char* soname : {"libm.so.6", "libc.so.6"}) {
    ASSIGN_OR_RETURN(std::string library, SystemLibraryPath(soname));
    args.push_back(std::move(library));
  }
  const std::string log = dir.File("link.log");
  std::string linker;
  ASSIGN_OR_RETURN(int exit_status, RunLinker(args, log, &linker));
  if (exit_status != 0) {
    std::string message = ReadFile(log);
    if (message.size() > 4000) message = absl::StrCat(message.substr(0, 4000), "...");
    return absl::InternalError(absl::StrCat("linking generated kernels: ", linker,
                                            " exited with status ", exit_status, ": ",
                                            message));
  }
  std::string shared_object = ReadFile(output);
  if (shared_object.empty()) {
    return absl::InternalError(
        absl::StrCat("linking generated kernels: ", linker, " wrote no shared object"));
  }
  return shared_object;
}

absl::StatusOr<std::string> LinkKernels(absl::Span<const std::string> names) {
  std::vector<std::string> objects;
  std::vector<std::string> symbols;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::string object, GetKernelObject(name));
    objects.push_back(std::move(object));
    symbols.push_back(EntrySymbol(name));
  }
  return LinkSharedObject(objects, symbols);
}

}  // namespace kiln::codegen
