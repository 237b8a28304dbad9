#include "runtime/artifact.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "proto/artifact.pb.h"
#include "runtime/executable_proto.h"
#include "runtime/plan.h"

namespace kiln {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the artifact header is read in place as little-endian");

constexpr uint8_t kMagic[8] = {0x89, 'K', 'I', 'L', 'N', '\r', '\n', 0x1a};
constexpr int64_t kSectionAlignment = 4096;

struct Section {
  uint64_t offset;
  uint64_t size;
  uint32_t crc;
  uint32_t reserved;
};

struct Header {
  uint8_t magic[8];
  uint32_t format_version;
  uint32_t header_bytes;
  uint64_t file_bytes;
  char target[24];  // NUL-padded
  Section manifest;
  Section weights;
  Section code;
  uint32_t reserved;
  uint32_t header_crc;  // CRC-32 of every byte before it
};
static_assert(sizeof(Header) == kArtifactHeaderBytes, "the header's size is part of the format");

uint32_t Crc32(const uint8_t* data, uint64_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes 32-bit lengths.
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<uint64_t>(size, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

uint32_t HeaderCrc(const Header& header) {
  return Crc32(reinterpret_cast<const uint8_t*>(&header), offsetof(Header, header_crc));
}

int64_t RoundUp(int64_t bytes, int64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

// A read-only private mapping of a whole file.
class FileMapping {
 public:
  FileMapping(void* data, size_t size) : data_(data), size_(size) {}
  ~FileMapping() {
    if (size_ > 0) munmap(data_, size_);
  }
  const uint8_t* data() const { return static_cast<const uint8_t*>(data_); }

 private:
  void* data_;
  size_t size_;
};

// Every signature of the executables against the declared one, its -1 dimensions bound to
// the batch size.
absl::Status CheckSignature(absl::string_view what, const std::vector<TensorSignature>& declared,
                            const std::vector<TensorSignature>& compiled, int64_t batch) {
  if (declared.size() != compiled.size()) {
    return absl::InvalidArgumentError(absl::StrCat("declares ", declared.size(), " ", what,
                                                   "s, the executable for batch ", batch,
                                                   " has ", compiled.size()));
  }
  for (size_t i = 0; i < declared.size(); ++i) {
    TensorType bound = declared[i].type;
    for (int64_t& d : bound.shape.dims()) {
      if (d == kUnknownDim) d = batch;
    }
    if (declared[i].name != compiled[i].name || !(bound == compiled[i].type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", i, ": declared '", declared[i].name, "' ", declared[i].type.ToString(),
          ", the executable for batch ", batch, " has '", compiled[i].name, "' ",
          compiled[i].type.ToString()));
    }
  }
  return absl::OkStatus();
}

bool HasUnknownDim(const std::vector<TensorSignature>& side) {
  for (const TensorSignature& t : side) {
    for (int64_t d : t.type.shape.dims()) {
      if (d == kUnknownDim) return true;
    }
  }
  return false;
}

// "TRIPLE/CPU" of a code target "TRIPLE/CPU/FEATURES", for messages.
absl::string_view TargetCpu(absl::string_view target) {
  const size_t triple_end = target.find('/');
  if (triple_end == absl::string_view::npos) return target;
  return target.substr(0, target.find('/', triple_end + 1));
}

}  // namespace

absl::string_view HostArtifactTarget() {
#if defined(__x86_64__)
  return "cpu-x86_64";
#elif defined(__aarch64__)
  return "cpu-aarch64";
#else
  return "cpu-unknown";
#endif
}

absl::Status WriteArtifact(const ArtifactContents& contents, const std::string& path) {
  if (contents.executables.empty()) {
    return absl::FailedPreconditionError("artifact: no executables to write");
  }
  const Executable& first = contents.executables.front().executable;
  const int64_t weights_bytes = first.plan.memory.weights_bytes;
  proto::ArtifactManifest manifest;
  manifest.set_format_version(kArtifactFormatVersion);
  manifest.set_target(std::string(HostArtifactTarget()));
  manifest.set_producer(absl::StrCat("kiln (artifact format ", kArtifactFormatVersion, ")"));
  manifest.set_source(contents.source);
  SignatureToProto(contents.inputs, manifest.mutable_inputs());
  SignatureToProto(contents.outputs, manifest.mutable_outputs());
  manifest.set_weights_bytes(weights_bytes);

  // The generated kernels travel as a library of their own: a step's kernel must be in a
  // linked library or among them, and each of them must be run by some step.
  const ArtifactCode& code = contents.code;
  if (code.shared_object.empty() != code.kernels.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "artifact: ", code.kernels.size(), " generated kernels and ", code.shared_object.size(),
        " bytes of code; an artifact has both or neither"));
  }
  absl::flat_hash_set<std::string> carried;
  std::vector<KernelSymbol> carried_symbols;
  for (const CodeKernel& kernel : code.kernels) {
    if (kernel.name.empty() || kernel.entry_symbol.empty()) {
      return absl::FailedPreconditionError(
          "artifact: a generated kernel without a name or an entry symbol");
    }
    if (!carried.insert(kernel.name).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("artifact: generated kernel '", kernel.name, "' is listed twice"));
    }
    KernelSymbol symbol;
    symbol.name = kernel.name;
    carried_symbols.push_back(std::move(symbol));
    proto::GeneratedKernel* out = manifest.add_generated_kernels();
    out->set_name(kernel.name);
    out->set_entry_symbol(kernel.entry_symbol);
    out->set_cpu_features(kernel.cpu_features);
  }
  if (!code.kernels.empty()) manifest.set_code_target(code.target);
  const KernelLibrary code_library(std::string(CodeLibrary::kLibraryName),
                                   std::move(carried_symbols));
  std::vector<const KernelLibrary*> libraries(LinkedKernelLibraries().begin(),
                                              LinkedKernelLibraries().end());
  libraries.push_back(&code_library);
  absl::flat_hash_set<std::string> run;

  int64_t previous = -1;
  for (const ArtifactExecutable& e : contents.executables) {
    if (e.batch_size <= previous) {
      return absl::FailedPreconditionError(
          absl::StrCat("artifact: batch sizes must increase (", previous, ", then ",
                       e.batch_size, ")"));
    }
    previous = e.batch_size;
    // One weights section serves every Executable: they must read the same region.
    if (e.executable.plan.memory.weights_bytes != weights_bytes ||
        (weights_bytes > 0 && e.executable.weights != first.weights)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "artifact: the executable for batch ", e.batch_size,
          " reads another weights region than the first; compile them from one graph"));
    }
    proto::ArtifactExecutable* out = manifest.add_executables();
    out->set_batch_size(e.batch_size);
    ASSIGN_OR_RETURN(*out->mutable_executable(),
                     ExecutableToProto(e.executable, WeightsForm::kOmitted, libraries));
    for (const PlanStep& step : e.executable.plan.steps) run.insert(step.kernel);
  }
  for (const CodeKernel& kernel : code.kernels) {
    if (!run.contains(kernel.name)) {
      return absl::FailedPreconditionError(
          absl::StrCat("artifact: generated kernel '", kernel.name, "' is run by no step"));
    }
  }
  std::string manifest_bytes;
  if (!manifest.SerializeToString(&manifest_bytes)) {
    return absl::FailedPreconditionError("artifact: the manifest exceeds protobuf's 2 GiB");
  }

  Header header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.format_version = kArtifactFormatVersion;
  header.header_bytes = kArtifactHeaderBytes;
  std::snprintf(header.target, sizeof(header.target), "%s", HostArtifactTarget().data());
  header.manifest = {static_cast<uint64_t>(kArtifactHeaderBytes), manifest_bytes.size(),
                     Crc32(reinterpret_cast<const uint8_t*>(manifest_bytes.data()),
                           manifest_bytes.size()),
                     0};
  const int64_t weights_offset =
      RoundUp(kArtifactHeaderBytes + static_cast<int64_t>(manifest_bytes.size()),
              kSectionAlignment);
  header.weights = {static_cast<uint64_t>(weights_offset), static_cast<uint64_t>(weights_bytes),
                    Crc32(first.weights.get(), weights_bytes), 0};
  const int64_t code_offset = RoundUp(weights_offset + weights_bytes, kSectionAlignment);
  header.code = {static_cast<uint64_t>(code_offset), code.shared_object.size(),
                 Crc32(reinterpret_cast<const uint8_t*>(code.shared_object.data()),
                       code.shared_object.size()),
                 0};
  header.file_bytes = code_offset + code.shared_object.size();
  header.header_crc = HeaderCrc(header);

  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    const std::string pad(kSectionAlignment, '\0');
    file.write(reinterpret_cast<const char*>(&header), sizeof(header));
    file.write(manifest_bytes.data(), manifest_bytes.size());
    file.write(pad.data(), weights_offset - kArtifactHeaderBytes - manifest_bytes.size());
    if (weights_bytes > 0) {
      file.write(reinterpret_cast<const char*>(first.weights.get()), weights_bytes);
    }
    file.write(pad.data(), code_offset - weights_offset - weights_bytes);
    file.write(code.shared_object.data(), code.shared_object.size());
    if (!file.flush()) {
      std::remove(temporary.c_str());
      return absl::PermissionDeniedError(absl::StrCat("cannot write artifact '", path, "'"));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write artifact '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Artifact>> Artifact::Open(const std::string& path,
                                                               const Options& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open artifact '", path, "': ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("artifact '", path, "' is not a file"));
  }
  const int64_t size = st.st_size;
  if (size < kArtifactHeaderBytes) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat("artifact '", path, "' is truncated: ", size,
                                            " bytes, less than its ", kArtifactHeaderBytes,
                                            "-byte header"));
  }
  // Populated at once: the pages are read here, at load, not during the first run.
  void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map artifact '", path, "': ", std::strerror(errno)));
  }
  auto mapping = std::make_shared<FileMapping>(data, size);
  return Parse(std::shared_ptr<const uint8_t>(mapping, mapping->data()), size, path, options);
}

absl::StatusOr<std::shared_ptr<const Artifact>> Artifact::FromBytes(absl::string_view bytes,
                                                                    absl::string_view name,
                                                                    const Options& options) {
  auto block = std::make_shared<AlignedBlock>(static_cast<int64_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(block->data(), bytes.data(), bytes.size());
  return Parse(std::shared_ptr<const uint8_t>(block, block->data()),
               static_cast<int64_t>(bytes.size()), std::string(name), options);
}

absl::StatusOr<std::shared_ptr<const Artifact>> Artifact::Parse(
    std::shared_ptr<const uint8_t> data, int64_t size, std::string name,
    const Options& options) {
  auto error = [&](absl::StatusCode code, absl::string_view what) {
    return absl::Status(code, absl::StrCat("artifact '", name, "': ", what));
  };
  if (size < kArtifactHeaderBytes) {
    return error(absl::StatusCode::kDataLoss,
                 absl::StrCat("truncated: ", size, " bytes, less than its ",
                              kArtifactHeaderBytes, "-byte header"));
  }
  Header header;
  std::memcpy(&header, data.get(), sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) {
    return error(absl::StatusCode::kInvalidArgument,
                 "not a Kiln artifact (no magic number; `kiln compile -o FILE.kiln` writes one)");
  }
  if (header.format_version != kArtifactFormatVersion) {
    return error(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("format version ", header.format_version,
                              "; this runtime reads version ", kArtifactFormatVersion));
  }
  if (HeaderCrc(header) != header.header_crc || header.header_bytes != kArtifactHeaderBytes) {
    return error(absl::StatusCode::kDataLoss, "the header is corrupted (checksum mismatch)");
  }
  if (header.file_bytes != static_cast<uint64_t>(size)) {
    return error(absl::StatusCode::kDataLoss,
                 absl::StrCat("truncated or extended: ", size, " bytes, the header says ",
                              header.file_bytes));
  }
  const std::string target(header.target, strnlen(header.target, sizeof(header.target)));
  if (target != HostArtifactTarget()) {
    return error(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("compiled for target '", target, "'; this runtime runs '",
                              HostArtifactTarget(), "'"));
  }
  // Sections in order, inside the file, not overlapping; the weights on a page boundary.
  uint64_t end = kArtifactHeaderBytes;
  const std::pair<const char*, const Section*> sections[] = {
      {"manifest", &header.manifest}, {"weights", &header.weights}, {"code", &header.code}};
  for (const auto& [section_name, section] : sections) {
    if (section->offset < end || section->offset > header.file_bytes ||
        section->size > header.file_bytes - section->offset) {
      return error(absl::StatusCode::kDataLoss,
                   absl::StrCat("the ", section_name, " section (", section->size,
                                " bytes at offset ", section->offset,
                                ") is outside the file or overlaps another"));
    }
    end = section->offset + section->size;
  }
  if (header.weights.offset % kSectionAlignment != 0) {
    return error(absl::StatusCode::kDataLoss,
                 absl::StrCat("the weights section starts at ", header.weights.offset,
                              ", not on a ", kSectionAlignment, "-byte boundary"));
  }
  if (options.verify_checksums) {
    for (const auto& [section_name, section] : sections) {
      if (Crc32(data.get() + section->offset, section->size) != section->crc) {
        return error(absl::StatusCode::kDataLoss,
                     absl::StrCat("the ", section_name,
                                  " section is corrupted (checksum mismatch)"));
      }
    }
  }
  proto::ArtifactManifest manifest;
  if (header.manifest.size > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      !manifest.ParseFromArray(data.get() + header.manifest.offset,
                               static_cast<int>(header.manifest.size))) {
    return error(absl::StatusCode::kInvalidArgument, "the manifest does not parse");
  }
  if (manifest.format_version() != header.format_version || manifest.target() != target) {
    return error(absl::StatusCode::kInvalidArgument,
                 "the manifest's format version or target disagrees with the header");
  }
  if (manifest.weights_bytes() < 0 ||
      static_cast<uint64_t>(manifest.weights_bytes()) != header.weights.size) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("the manifest reads ", manifest.weights_bytes(),
                              " bytes of weights, the weights section has ",
                              header.weights.size));
  }
  std::shared_ptr<Artifact> artifact(new Artifact());
  artifact->name_ = name;
  artifact->source_ = manifest.source();
  artifact->producer_ = manifest.producer();
  artifact->target_ = target;
  artifact->file_bytes_ = size;
  artifact->manifest_bytes_ = header.manifest.size;
  artifact->weights_bytes_ = header.weights.size;
  artifact->code_bytes_ = header.code.size;
  auto invalid = [&](const absl::Status& status) {
    return error(absl::StatusCode::kInvalidArgument, status.message());
  };
  absl::StatusOr<std::vector<TensorSignature>> inputs =
      SignatureFromProto(manifest.inputs(), "input");
  if (!inputs.ok()) return invalid(inputs.status());
  absl::StatusOr<std::vector<TensorSignature>> outputs =
      SignatureFromProto(manifest.outputs(), "output");
  if (!outputs.ok()) return invalid(outputs.status());
  artifact->inputs_ = *std::move(inputs);
  artifact->outputs_ = *std::move(outputs);

  if (manifest.executables().empty()) {
    return error(absl::StatusCode::kInvalidArgument, "the manifest has no executables");
  }
  const bool batched = HasUnknownDim(artifact->inputs_);
  const std::shared_ptr<const uint8_t> weights(data, data.get() + header.weights.offset);
  int64_t previous = -1;
  for (const proto::ArtifactExecutable& e : manifest.executables()) {
    const int64_t batch = e.batch_size();
    if (batch <= previous || (batched ? batch < 1 : batch != 0)) {
      return error(absl::StatusCode::kInvalidArgument,
                   absl::StrCat("batch size ", batch, " after ", previous, batched ? "" :
                                " (the graph has no batch dimension: one executable, batch 0)"));
    }
    previous = batch;
    absl::StatusOr<Executable> executable =
        ExecutableFromProto(e.executable(), weights, header.weights.size);
    if (!executable.ok()) {
      return invalid(absl::InvalidArgumentError(absl::StrCat(
          "the executable for batch ", batch, ": ", executable.status().message())));
    }
    absl::Status signature =
        CheckSignature("input", artifact->inputs_, executable->inputs, batch);
    if (signature.ok()) {
      signature = CheckSignature("output", artifact->outputs_, executable->outputs, batch);
    }
    if (!signature.ok()) return invalid(signature);
    artifact->executables_.push_back({batch, *std::move(executable)});
  }
  RETURN_IF_ERROR(artifact->LoadCode(manifest, data.get() + header.code.offset,
                                     header.code.size, options));
  return std::shared_ptr<const Artifact>(std::move(artifact));
}

absl::Status Artifact::LoadCode(const proto::ArtifactManifest& manifest, const uint8_t* code,
                                int64_t code_bytes, const Options& options) {
  auto error = [&](absl::StatusCode status, absl::string_view what) {
    return absl::Status(status, absl::StrCat("artifact '", name_, "': ", what));
  };
  // The list of generated kernels agrees with the code section and with the steps: each
  // listed once and run by some step, and every step running a generated kernel finds it
  // listed.
  if (manifest.generated_kernels().empty() != (code_bytes == 0)) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("the manifest lists ", manifest.generated_kernels().size(),
                              " generated kernels, the code section has ", code_bytes,
                              " bytes"));
  }
  absl::flat_hash_set<std::string> listed;
  for (const proto::GeneratedKernel& kernel : manifest.generated_kernels()) {
    if (kernel.name().empty() || kernel.entry_symbol().empty()) {
      return error(absl::StatusCode::kInvalidArgument,
                   "a generated kernel has no name or no entry symbol");
    }
    if (!listed.insert(kernel.name()).second) {
      return error(absl::StatusCode::kInvalidArgument,
                   absl::StrCat("generated kernel '", kernel.name(), "' is listed twice"));
    }
    code_kernels_.push_back({kernel.name(), kernel.entry_symbol(), kernel.cpu_features()});
  }
  code_target_ = manifest.code_target();
  absl::flat_hash_set<std::string> run;
  for (const ArtifactExecutable& e : executables_) {
    const Plan& plan = e.executable.plan;
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      const PlanStep& step = plan.steps[s];
      run.insert(step.kernel);
      if (absl::StartsWith(step.kernel, kGeneratedKernelPrefix) && !listed.contains(step.kernel)) {
        return error(absl::StatusCode::kInvalidArgument,
                     absl::StrCat("the executable for batch ", e.batch_size, ": step ", s,
                                  " (node '", step.node_name, "') runs generated kernel '",
                                  step.kernel, "', which the manifest does not list"));
      }
    }
  }
  uint32_t needed = 0;
  for (const CodeKernel& kernel : code_kernels_) {
    if (!run.contains(kernel.name)) {
      return error(absl::StatusCode::kInvalidArgument,
                   absl::StrCat("generated kernel '", kernel.name, "' is run by no step"));
    }
    needed |= kernel.cpu_features;
  }
  if (!options.load_code || code_kernels_.empty()) return absl::OkStatus();

  // Checked before the code is mapped: it was generated for the compiling CPU.
  const uint32_t missing = needed & ~HostCpuFeatures();
  if (missing != 0) {
    std::string kernel;
    for (const CodeKernel& k : code_kernels_) {
      if ((k.cpu_features & missing) != 0 && kernel.empty()) kernel = k.name;
    }
    return error(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("its generated code needs ", CpuFeatureNames(missing),
                              ", which this CPU lacks (kernel '", kernel, "'); it was generated ",
                              "for ", TargetCpu(code_target_), "; compile the model on this ",
                              "machine, or with --kernels library"));
  }
  absl::StatusOr<std::shared_ptr<const CodeLibrary>> library = CodeLibrary::Load(
      absl::string_view(reinterpret_cast<const char*>(code), code_bytes), code_kernels_);
  if (!library.ok()) {
    return error(library.status().code(),
                 absl::StrCat("generated code: ", library.status().message()));
  }
  code_ = *std::move(library);
  // An Executable taken from the artifact keeps the code its steps call.
  for (ArtifactExecutable& e : executables_) e.executable.keep_alive = code_;
  return absl::OkStatus();
}

std::vector<const KernelLibrary*> Artifact::Libraries() const {
  std::vector<const KernelLibrary*> libraries(LinkedKernelLibraries().begin(),
                                              LinkedKernelLibraries().end());
  if (code_ != nullptr) libraries.push_back(&code_->library());
  return libraries;
}

bool IsArtifactFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char magic[sizeof(kMagic)] = {};
  return file.read(magic, sizeof(magic)) && std::memcmp(magic, kMagic, sizeof(kMagic)) == 0;
}

}  // namespace kiln
