#include "runtime/model_runner.h"

#include "absl/strings/str_cat.h"

namespace kiln {

absl::Status CheckOutputBuffers(const std::vector<TensorSignature>& declared,
                                absl::Span<const TensorType> expected,
                                absl::Span<const Tensor> outputs) {
  if (outputs.size() != declared.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", declared.size(), " output buffers, got ", outputs.size()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorType given{outputs[i].dtype(), outputs[i].shape()};
    if (!(given == expected[i])) {
      return absl::InvalidArgumentError(absl::StrCat("output '", declared[i].name, "': buffer ",
                                                     given.ToString(), ", the output is ",
                                                     expected[i].ToString()));
    }
    if (outputs[i].ByteSize() > 0 && outputs[i].raw_data() == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", declared[i].name, "': the buffer has no storage"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln
