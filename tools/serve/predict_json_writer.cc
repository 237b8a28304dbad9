// WritePredictResponse and WriteErrorBody: the reply appended straight into one string
// reserved ahead, each element formatted by json_number.h.
//
// Not rapidjson::Writer: its nesting stack does arithmetic on a null pointer in Debian's
// RapidJSON 1.1.0 (UBSan stops there), and a reply's layout is fixed enough that the
// commas and brackets are plain code.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/serve/json_number.h"
#include "tools/serve/json_text.h"
#include "tools/serve/predict_json.h"

namespace kiln::serve {
namespace {

// Typical text length of one element, to reserve the reply once.
int64_t CharsPerElement(DataType dtype) {
  switch (dtype) {
    case DataType::kBool:
    case DataType::kI8:
    case DataType::kU8:
      return 5;
    case DataType::kI32:
    case DataType::kF16:
    case DataType::kBF16:
      return 8;
    default:
      return 14;
  }
}

void AppendElement(std::string& out, const Tensor& tensor, int64_t index) {
  char buf[kMaxElementChars];
  const char* element =
      static_cast<const char*>(tensor.raw_data()) + index * DataTypeSize(tensor.dtype());
  absl::string_view text = FormatElement(tensor.dtype(), element, buf);
  out.append(text.data(), text.size());
}

// Appends the elements from `offset` on of `tensor` as nested lists shaped by `dims`, and
// advances `offset` past them. Walks the lists with an index per dimension rather than
// by recursion, so a tensor's rank never becomes stack depth.
void AppendValue(std::string& out, const Tensor& tensor, absl::Span<const int64_t> dims,
                 int64_t& offset) {
  const int rank = static_cast<int>(dims.size());
  if (rank == 0) {
    AppendElement(out, tensor, offset++);
    return;
  }
  std::vector<int64_t> index(rank, 0);  // items written in each open list
  int depth = 0;                        // the innermost open list
  out.push_back('[');
  for (;;) {
    if (index[depth] == dims[depth]) {
      out.push_back(']');
      if (depth == 0) return;
      ++index[--depth];
    } else if (depth + 1 == rank) {
      for (; index[depth] < dims[depth]; ++index[depth]) {
        if (index[depth] > 0) out.push_back(',');
        AppendElement(out, tensor, offset++);
      }
    } else {
      if (index[depth] > 0) out.push_back(',');
      index[++depth] = 0;
      out.push_back('[');
    }
  }
}

absl::Status CheckOutputs(absl::Span<const TensorSpec> specs, absl::Span<const Tensor> outputs) {
  if (outputs.size() != specs.size()) {
    return absl::InvalidArgumentError(absl::StrCat("predict response: ", outputs.size(),
                                                   " outputs for ", specs.size(), " specs"));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!outputs[i].valid()) {
      return absl::InvalidArgumentError(absl::StrCat("output '", specs[i].name, "': no tensor"));
    }
    if (outputs[i].dtype() != specs[i].dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", specs[i].name, "' is ", DataTypeName(outputs[i].dtype()),
                       ", but the model declares ", DataTypeName(specs[i].dtype)));
    }
  }
  return absl::OkStatus();
}

// The rows a row-format reply has: every output's first dimension, which must agree.
absl::StatusOr<int64_t> CountRows(absl::Span<const TensorSpec> specs,
                                  absl::Span<const Tensor> outputs) {
  int64_t rows = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Shape& shape = outputs[i].shape();
    if (shape.rank() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", specs[i].name,
                       "' is a scalar, but a 'predictions' reply needs a batch dimension"));
    }
    if (i > 0 && shape.dim(0) != rows) {
      return absl::InvalidArgumentError(absl::StrCat("output '", specs[i].name, "' has ",
                                                     shape.dim(0), " rows, but output '",
                                                     specs[0].name, "' has ", rows));
    }
    rows = shape.dim(0);
  }
  return rows;
}

}  // namespace

absl::StatusOr<std::string> WritePredictResponse(PredictFormat format,
                                                 absl::Span<const TensorSpec> specs,
                                                 absl::Span<const Tensor> outputs) {
  absl::Status valid = CheckOutputs(specs, outputs);
  if (!valid.ok()) return valid;
  int64_t rows = 0;
  if (format == PredictFormat::kRow) {
    absl::StatusOr<int64_t> counted = CountRows(specs, outputs);
    if (!counted.ok()) return counted.status();
    rows = *counted;
  }

  std::string body;
  int64_t estimate = 64;
  for (size_t i = 0; i < outputs.size(); ++i) {
    estimate += outputs[i].NumElements() * CharsPerElement(outputs[i].dtype()) +
                static_cast<int64_t>(specs[i].name.size() + 4) * (rows + 1);
  }
  body.reserve(estimate);
  const bool single = outputs.size() == 1;
  if (format == PredictFormat::kRow) {
    body.append("{\"predictions\":[");
    std::vector<int64_t> offsets(outputs.size(), 0);  // each output's next element
    for (int64_t row = 0; row < rows; ++row) {
      if (row > 0) body.push_back(',');
      if (!single) body.push_back('{');
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (!single) {
          if (i > 0) body.push_back(',');
          AppendJsonString(body, specs[i].name);
          body.push_back(':');
        }
        absl::Span<const int64_t> dims(outputs[i].shape().dims());
        AppendValue(body, outputs[i], dims.subspan(1), offsets[i]);
      }
      if (!single) body.push_back('}');
    }
    body.append("]}");
  } else {
    body.append("{\"outputs\":");
    if (!single) body.push_back('{');
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (!single) {
        if (i > 0) body.push_back(',');
        AppendJsonString(body, specs[i].name);
        body.push_back(':');
      }
      int64_t offset = 0;
      AppendValue(body, outputs[i], outputs[i].shape().dims(), offset);
    }
    if (!single) body.push_back('}');
    body.push_back('}');
  }
  return body;
}

std::string WriteErrorBody(absl::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(body, message);
  body.push_back('}');
  return body;
}

}  // namespace kiln::serve
