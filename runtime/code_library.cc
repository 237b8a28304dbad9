#include "runtime/code_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

// The loader's last message, or `otherwise`.
std::string LoaderError(absl::string_view otherwise) {
  const char* message = dlerror();
  return message != nullptr ? std::string(message) : std::string(otherwise);
}

absl::Status WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot write the code to a memory file: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// The path the loader opens the memory file `*fd` by. The loader knows a loaded object by
// the path it was opened under: an earlier library loaded through a descriptor of the same
// number (closed since, the number reused) would be handed back instead of this one. So
// the descriptor moves to a number no loaded library was opened under.
absl::StatusOr<std::string> UnusedDescriptorPath(int* fd) {
  for (int attempt = 0; attempt < 256; ++attempt) {
    std::string path = absl::StrCat("/proc/self/fd/", *fd);
    void* earlier = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (earlier == nullptr) {
      dlerror();  // NOLOAD's "not loaded" is no error for the next call
      return path;
    }
    dlclose(earlier);
    const int moved = fcntl(*fd, F_DUPFD_CLOEXEC, *fd + 1);
    if (moved < 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot duplicate the code's memory file: ", std::strerror(errno)));
    }
    ::close(*fd);
    *fd = moved;
  }
  return absl::ResourceExhaustedError("no descriptor number is free of an earlier library");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CodeLibrary>> CodeLibrary::Load(
    absl::string_view shared_object, const std::vector<CodeKernel>& kernels) {
  // Anonymous memory with a file's interface: the loader maps it as it maps a file, and
  // nothing is written to disk. Sealed, so the mapped code cannot change under it.
  int fd = memfd_create("kiln-artifact-code", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create a memory file for the code: ", std::strerror(errno)));
  }
  absl::Status written = WriteAll(fd, shared_object);
  absl::StatusOr<std::string> path = written.ok() ? UnusedDescriptorPath(&fd)
                                                  : absl::StatusOr<std::string>(written);
  if (!path.ok()) {
    ::close(fd);
    return path.status();
  }
  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  void* handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  // The loader's mappings hold the memory; the descriptor is no longer needed.
  ::close(fd);
  if (handle == nullptr) {
    return absl::DataLossError(absl::StrCat("the code does not load: ",
                                            LoaderError("the loader gave no reason")));
  }
  std::vector<KernelSymbol> symbols;
  for (const CodeKernel& kernel : kernels) {
    dlerror();
    void* entry = dlsym(handle, kernel.entry_symbol.c_str());
    if (entry == nullptr) {
      const std::string reason = LoaderError("no such symbol");
      dlclose(handle);
      return absl::InvalidArgumentError(absl::StrCat("generated kernel '", kernel.name,
                                                     "': the code has no symbol '",
                                                     kernel.entry_symbol, "' (", reason, ")"));
    }
    KernelSymbol symbol;
    symbol.name = kernel.name;
    symbol.fn = reinterpret_cast<kiln_kernel_fn>(entry);
    symbol.params_version = 1;
    symbol.params_size = 0;
    symbol.cpu_features = kernel.cpu_features;
    symbols.push_back(std::move(symbol));
  }
  return std::shared_ptr<const CodeLibrary>(
      new CodeLibrary(handle, KernelLibrary(std::string(kLibraryName), std::move(symbols))));
}

CodeLibrary::~CodeLibrary() { dlclose(handle_); }

}  // namespace kiln
