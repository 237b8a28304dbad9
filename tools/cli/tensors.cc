#include "tools/cli/tensors.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "tools/npy.h"

namespace kiln::cli {
namespace {

constexpr int kShownValues = 6;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a: a stable hash of the input name (std::hash differs between libraries).
uint64_t Fnv1a(absl::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Uniform in [0, 1) from the top 53 bits.
double Uniform01(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

std::string FormatDouble(double v) { return absl::StrFormat("%.6g", v); }

}  // namespace

absl::StatusOr<Tensor> RandomTensor(DataType dtype, const Shape& shape, uint64_t seed,
                                    absl::string_view name) {
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(dtype, shape));
  std::mt19937_64 gen(SplitMix64(seed ^ SplitMix64(Fnv1a(name))));
  int64_t n = tensor.NumElements();
  if (IsFloating(dtype)) {
    // Box-Muller: each pair of uniforms gives two independent normals.
    for (int64_t i = 0; i < n; i += 2) {
      double u1 = 1.0 - Uniform01(gen);  // (0, 1], so the log is finite
      double u2 = Uniform01(gen);
      double r = std::sqrt(-2.0 * std::log(u1));
      tensor.SetFromDouble(i, r * std::cos(2.0 * M_PI * u2));
      if (i + 1 < n) tensor.SetFromDouble(i + 1, r * std::sin(2.0 * M_PI * u2));
    }
  } else if (dtype == DataType::kBool) {
    for (int64_t i = 0; i < n; ++i) tensor.SetFromInt64(i, static_cast<int64_t>(gen() >> 63));
  } else {
    for (int64_t i = 0; i < n; ++i) tensor.SetFromInt64(i, static_cast<int64_t>(gen() % 10));
  }
  return tensor;
}

std::string SummarizeTensor(absl::string_view name, const Tensor& tensor) {
  std::string line = absl::StrCat(name, " ", tensor.TypeString());
  int64_t n = tensor.NumElements();
  bool exact = !IsFloating(tensor.dtype());
  std::vector<std::string> shown;
  for (int64_t i = 0; i < n && i < kShownValues; ++i) {
    shown.push_back(exact ? absl::StrCat(tensor.GetAsInt64(i)) : FormatDouble(tensor.GetAsDouble(i)));
  }
  if (n > kShownValues) shown.push_back("...");
  std::string values = absl::StrCat("values=[", absl::StrJoin(shown, ", "), "]");
  if (n == 0) return absl::StrCat(line, " min=- max=- mean=- ", values);

  double sum = 0;
  bool has_nan = false;
  if (exact) {
    int64_t lo = tensor.GetAsInt64(0), hi = lo;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = tensor.GetAsInt64(i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += static_cast<double>(v);
    }
    return absl::StrCat(line, " min=", lo, " max=", hi, " mean=", FormatDouble(sum / n), " ",
                        values);
  }
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    double v = tensor.GetAsDouble(i);
    if (std::isnan(v)) has_nan = true;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  if (has_nan) return absl::StrCat(line, " min=nan max=nan mean=nan ", values);
  return absl::StrCat(line, " min=", FormatDouble(lo), " max=", FormatDouble(hi),
                      " mean=", FormatDouble(sum / n), " ", values);
}

std::string OutputFileName(absl::string_view name) {
  std::string file(name);
  for (char& c : file) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      c = '_';
    }
  }
  return absl::StrCat(file, ".npy");
}

absl::StatusOr<std::vector<InputSpec>> ParseInputSpecs(absl::Span<const std::string> flags) {
  std::vector<InputSpec> specs;
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--input '", flag, "' is not NAME=FILE.npy or NAME=random"));
    }
    InputSpec spec{flag.substr(0, eq), flag.substr(eq + 1)};
    if (FindInputSpec(specs, spec.name) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "' is given twice"));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

absl::Status CheckInputNames(absl::Span<const InputSpec> specs,
                             absl::Span<const std::string> names, absl::string_view owner) {
  for (const InputSpec& spec : specs) {
    if (std::find(names.begin(), names.end(), spec.name) == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--input '", spec.name, "': the ", owner, " has no input of that name (",
          names.empty() ? "it has no inputs"
                        : absl::StrCat("its inputs: ", absl::StrJoin(names, ", ")),
          ")"));
    }
  }
  return absl::OkStatus();
}

const InputSpec* FindInputSpec(absl::Span<const InputSpec> specs, absl::string_view name) {
  for (const InputSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

absl::StatusOr<Tensor> LoadInput(const InputSpec& spec, DataType dtype, Shape shape,
                                 int64_t batch, uint64_t seed) {
  if (spec.source != "random") return ReadNpy(spec.source);
  for (int64_t& d : shape.dims()) {
    if (d == kUnknownDim) d = batch;
  }
  absl::StatusOr<Tensor> tensor = RandomTensor(dtype, shape, seed, spec.name);
  if (!tensor.ok()) {
    return absl::Status(tensor.status().code(), absl::StrCat("random input '", spec.name,
                                                             "': ", tensor.status().message()));
  }
  return tensor;
}

}  // namespace kiln::cli
