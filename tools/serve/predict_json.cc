// ParsePredictRequest: one pass of RapidJSON's SAX reader over the body, each input's
// value streamed into its JsonTensorReader; the innermost lists of numbers are read
// from the body directly.
#include "tools/serve/predict_json.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/shape.h"
#include "base/status_macros.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"
#include "tools/serve/json_number.h"
#include "tools/serve/json_tensor_reader.h"

namespace kiln::serve {
namespace {

// In situ: numbers and keys arrive as pointers into the body's copy, not copied one by
// one. Numbers as strings: each element type converts the decimal itself, exactly.
//
// Not kParseIterativeFlag: its state stack, like the stack the parser copies strings
// and numbers into when not in situ, does arithmetic on a null pointer in Debian's
// RapidJSON 1.1.0 (UBSan stops there), and with these flags the recursive parser uses
// no stack of its own. Its recursion is bounded by the handler instead, which refuses
// each list or object nested deeper than a request can be (4 levels plus the input's
// rank, at most kMaxRank) when it opens: 100000 '[' recurse a few levels, not 100000.
constexpr unsigned kParseFlags =
    rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag |
    rapidjson::kParseNanAndInfFlag | rapidjson::kParseValidateEncodingFlag;

// The most dimensions an input may have; keeps the parser's recursion shallow.
constexpr int kMaxRank = 64;

constexpr char kBytesValueMessage[] =
    "{\"b64\": ...} values are for bytes tensors, and Kiln has no string dtype";

// A key as an error quotes it: cut, at a character boundary, if long.
std::string QuoteKey(absl::string_view key) {
  constexpr size_t kMaxQuoted = 64;
  if (key.size() <= kMaxQuoted) return std::string(key);
  size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(key.substr(0, cut), "...");
}

absl::Status ValidateSpecs(absl::Span<const TensorSpec> specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& spec = specs[i];
    auto invalid = [&spec](absl::string_view why) {
      return absl::InternalError(absl::StrCat("model input '", spec.name, "': ", why));
    };
    if (DataTypeSize(spec.dtype) == 0) return invalid("no element type");
    Shape shape(spec.dims);
    if (shape.rank() > kMaxRank) {
      return invalid(absl::StrCat(shape.rank(), " dimensions, more than ", kMaxRank));
    }
    for (int d = 0; d < shape.rank(); ++d) {
      if (shape.dim(d) < (d == 0 ? kUnknownDim : 0)) {
        return invalid(absl::StrCat("bad dimensions ", shape.ToString()));
      }
    }
    absl::Status valid = ValidateShape(shape);
    if (!valid.ok()) return invalid(valid.message());
    for (size_t j = 0; j < i; ++j) {
      if (specs[j].name == spec.name) return invalid("listed twice");
    }
  }
  return absl::OkStatus();
}

// Where the handler is in the request; '^' marks the position.
enum class Position {
  kStart,           // ^{...}
  kTopKey,          // {^"instances": ...^}
  kSignature,       // {"signature_name": ^"..."}
  kInstancesStart,  // {"instances": ^[...]}
  kInstance,        // {"instances": [^..., ^...^]}
  kInstanceKey,     // {"instances": [{^"x": ..., ^"y": ...^}]}
  kInputsStart,     // {"inputs": ^...}
  kInputsKey,       // {"inputs": {^"x": ..., ^"y": ...^}}
  kValue,           // inside an input's value: events go to its reader
  kDone,            // {...}^
};

// RapidJSON SAX handler for a predict request. Every event either advances the
// position or fails with the reason in status(), which stops the parser.
class RequestHandler {
 public:
  // `stream` is what the parser reads; lists of numbers are read from it directly.
  RequestHandler(absl::Span<const TensorSpec> specs, rapidjson::InsituStringStream* stream)
      : specs_(specs), stream_(stream), seen_(specs.size(), false) {}

  bool Null() {
    return Value("null", [](JsonTensorReader& reader) { return reader.Unexpected("null"); });
  }
  bool Bool(bool value) {
    return Value(value ? "true" : "false",
                 [value](JsonTensorReader& reader) { return reader.Bool(value); });
  }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    absl::string_view number(text, length);
    return Value(number, [number](JsonTensorReader& reader) { return reader.Number(number); });
  }
  bool String(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    if (position_ == Position::kSignature) {
      signature_name_.assign(text, length);
      position_ = Position::kTopKey;
      return true;
    }
    return Value("a string",
                 [](JsonTensorReader& reader) { return reader.Unexpected("a string"); });
  }
  bool StartArray() {
    if (position_ == Position::kInstancesStart) {
      position_ = Position::kInstance;
      return true;
    }
    if (!Value("a list", [](JsonTensorReader& reader) { return reader.StartList(); })) {
      return false;
    }
    if (position_ == Position::kValue && active_->expects_numbers()) return ReadNumberList();
    return true;
  }
  bool EndArray(rapidjson::SizeType /*count*/);
  bool StartObject();
  bool Key(const char* text, rapidjson::SizeType length, bool /*copy*/);
  bool EndObject(rapidjson::SizeType /*count*/);
  // With kParseNumbersAsStringsFlag the parser sends no typed numbers.
  bool Int(int) { return Internal(); }
  bool Uint(unsigned) { return Internal(); }
  bool Int64(int64_t) { return Internal(); }
  bool Uint64(uint64_t) { return Internal(); }
  bool Double(double) { return Internal(); }

  const absl::Status& status() const { return status_; }
  // The request, once the parser has accepted the whole body.
  absl::StatusOr<PredictRequest> Finish();

 private:
  // A value event: a bare value where an instance or the "inputs" value starts, or an
  // event inside a value (`send` passes it to the reader), or a misplaced value (`got`).
  template <typename Send>
  bool Value(absl::string_view got, Send send) {
    if ((position_ == Position::kInstance || position_ == Position::kInputsStart) &&
        !StartBareValue(got)) {
      return false;
    }
    if (position_ == Position::kValue) return Forward(send(*active_));
    return Misplaced(got);
  }
  bool StartBareValue(absl::string_view got);
  bool ReadNumberList();
  // A syntax error found while reading the body directly, as the parser words its own.
  bool Malformed(const char* at, rapidjson::ParseErrorCode code) {
    return Fail(absl::StrCat("malformed JSON at offset ", at - stream_->head_, ": ",
                             rapidjson::GetParseError_En(code)));
  }
  bool TopKey(absl::string_view key);
  bool InputKey(absl::string_view key);
  bool MakeReaders(PredictFormat format);
  // The reader's verdict on one event; resumes the enclosing position after a value.
  bool Forward(bool ok);
  bool Misplaced(absl::string_view got);
  bool Fail(absl::string_view message) {
    status_ = absl::InvalidArgumentError(message);
    return false;
  }
  // An error inside instances[i].
  bool FailInInstance(absl::string_view message) {
    return Fail(absl::StrCat("instances[", instances_, "]: ", message));
  }
  bool Internal() {
    status_ = absl::InternalError("predict request parser: unexpected event");
    return false;
  }
  // Clears the named-inputs bookkeeping for a new object; names any input left out.
  void StartNamedInputs();
  std::string MissingInputs() const;
  std::string InputNames() const;

  absl::Span<const TensorSpec> specs_;
  rapidjson::InsituStringStream* stream_;
  std::vector<JsonTensorReader> readers_;  // one per spec, once the format is known
  std::optional<PredictFormat> format_;
  Position position_ = Position::kStart;
  Position resume_ = Position::kStart;  // where a value started, to return there
  JsonTensorReader* active_ = nullptr;  // the reader of the value being read
  // Which inputs the current object ({"x": ..., "y": ...}) has named.
  std::vector<bool> seen_;
  size_t num_seen_ = 0;
  bool has_signature_ = false;
  std::string signature_name_;
  int64_t instances_ = 0;
  absl::Status status_;
};

bool RequestHandler::EndArray(rapidjson::SizeType /*count*/) {
  if (position_ == Position::kValue) return Forward(active_->EndList());
  if (position_ == Position::kInstance) {
    if (instances_ == 0) return Fail("'instances' is empty: it needs at least one instance");
    position_ = Position::kTopKey;
    return true;
  }
  return Internal();
}

bool RequestHandler::StartObject() {
  switch (position_) {
    case Position::kStart:
      position_ = Position::kTopKey;
      return true;
    case Position::kInstance:
      StartNamedInputs();
      position_ = Position::kInstanceKey;
      return true;
    case Position::kInputsStart:
      StartNamedInputs();
      position_ = Position::kInputsKey;
      return true;
    default:
      return Value("an object", [](JsonTensorReader& reader) { return reader.StartObject(); });
  }
}

bool RequestHandler::Key(const char* text, rapidjson::SizeType length, bool /*copy*/) {
  absl::string_view key(text, length);
  switch (position_) {
    case Position::kTopKey:
      return TopKey(key);
    case Position::kInstanceKey:
    case Position::kInputsKey:
      return InputKey(key);
    case Position::kValue:
      return Forward(active_->Key(key));
    default:
      return Internal();
  }
}

bool RequestHandler::EndObject(rapidjson::SizeType /*count*/) {
  switch (position_) {
    case Position::kTopKey:
      position_ = Position::kDone;
      return true;
    case Position::kInstanceKey:
      if (num_seen_ != specs_.size()) return FailInInstance(MissingInputs());
      ++instances_;
      position_ = Position::kInstance;
      return true;
    case Position::kInputsKey:
      if (num_seen_ != specs_.size()) return Fail(MissingInputs());
      position_ = Position::kTopKey;
      return true;
    case Position::kValue:
      return Forward(active_->EndObject());
    default:
      return Internal();
  }
}

bool RequestHandler::StartBareValue(absl::string_view got) {
  const bool instance = position_ == Position::kInstance;
  if (specs_.size() != 1) {
    std::string message = specs_.empty()
                              ? absl::StrCat("the model has no inputs, got ", got)
                              : absl::StrCat("expected an object naming the model's inputs (",
                                             InputNames(), "), got ", got);
    return instance ? FailInInstance(message) : Fail(absl::StrCat("'inputs': ", message));
  }
  active_ = &readers_[0];
  // A bare "inputs" value is the whole request's only input.
  resume_ = instance ? Position::kInstance : Position::kTopKey;
  position_ = Position::kValue;
  return true;
}

// Whitespace as RFC 8259 (and the parser, without comments) has it.
char* SkipJsonSpace(char* p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
  return p;
}

// Reads the numbers of an innermost list straight from the body, leaving the parser at
// its ']': RapidJSON's scan, one event per number and from_chars cost several times
// what ReadJsonNumber does (bench/predict_json_bench). Anything but a plain number (NaN, Infinity, a
// string, a list, malformed text) ends the run where that value starts, and the parser
// reads it as usual. The parser, resuming just after '[', takes a ']' as the list's end,
// so a run may end there or at the start of a value, never after a trailing comma.
bool RequestHandler::ReadNumberList() {
  char* p = stream_->src_;
  bool after_comma = false;
  for (;;) {
    p = SkipJsonSpace(p);
    size_t length = 0;
    if (!active_->ReadNumber(p, &length)) return Forward(false);
    if (length == 0) break;
    p = SkipJsonSpace(p + length);
    after_comma = *p == ',';
    if (!after_comma) {
      if (*p != ']') return Malformed(p, rapidjson::kParseErrorArrayMissCommaOrSquareBracket);
      break;
    }
    ++p;
  }
  if (after_comma && *p == ']') return Malformed(p, rapidjson::kParseErrorValueInvalid);
  stream_->src_ = p;
  return true;
}

bool RequestHandler::TopKey(absl::string_view key) {
  if (key == "signature_name") {
    if (has_signature_) return Fail("'signature_name' appears twice");
    has_signature_ = true;
    position_ = Position::kSignature;
    return true;
  }
  if (key == "instances" || key == "inputs") {
    const PredictFormat format =
        key == "instances" ? PredictFormat::kRow : PredictFormat::kColumnar;
    if (format_.has_value()) {
      return Fail(*format_ == format ? absl::StrCat("'", key, "' appears twice")
                                     : "'instances' and 'inputs' are both present");
    }
    format_ = format;
    if (!MakeReaders(format)) return false;
    position_ = format == PredictFormat::kRow ? Position::kInstancesStart : Position::kInputsStart;
    return true;
  }
  return Fail(absl::StrCat("unknown field '", QuoteKey(key),
                           "' (a predict request has 'signature_name', and 'instances' or "
                           "'inputs')"));
}

bool RequestHandler::MakeReaders(PredictFormat format) {
  readers_.reserve(specs_.size());
  for (const TensorSpec& spec : specs_) {
    if (format == PredictFormat::kColumnar) {
      readers_.emplace_back(spec, spec.dims, /*first_dim=*/0);
      continue;
    }
    if (spec.dims.empty()) {
      return Fail(absl::StrCat("input '", spec.name,
                               "' is a scalar, which 'instances' cannot stack into a batch; "
                               "send it in 'inputs'"));
    }
    // An instance is one row: the dims after the batch dimension.
    readers_.emplace_back(spec, std::vector<int64_t>(spec.dims.begin() + 1, spec.dims.end()),
                          /*first_dim=*/1);
  }
  return true;
}

bool RequestHandler::InputKey(absl::string_view key) {
  const bool instance = position_ == Position::kInstanceKey;
  // A linear search: models have a handful of inputs, and a map would cost more to build
  // per request than it saves.
  size_t index = 0;
  while (index < specs_.size() && specs_[index].name != key) ++index;
  std::string message;
  if (index == specs_.size()) {
    message = key == "b64" ? kBytesValueMessage
                           : absl::StrCat("unknown input '", QuoteKey(key),
                                          "' (the model's inputs: ", InputNames(), ")");
  } else if (seen_[index]) {
    message = absl::StrCat("input '", specs_[index].name, "' appears twice");
  }
  if (!message.empty()) return instance ? FailInInstance(message) : Fail(message);
  seen_[index] = true;
  ++num_seen_;
  active_ = &readers_[index];
  resume_ = position_;
  position_ = Position::kValue;
  return true;
}

bool RequestHandler::Forward(bool ok) {
  if (!ok) {
    absl::string_view message = active_->status().message();
    return *format_ == PredictFormat::kRow ? FailInInstance(message) : Fail(message);
  }
  if (active_->between_values()) {
    position_ = resume_;
    if (resume_ == Position::kInstance) ++instances_;
  }
  return true;
}

bool RequestHandler::Misplaced(absl::string_view got) {
  switch (position_) {
    case Position::kStart:
      return Fail(absl::StrCat("the request body must be a JSON object, got ", got));
    case Position::kSignature:
      return Fail(absl::StrCat("'signature_name' must be a string, got ", got));
    case Position::kInstancesStart:
      return Fail(absl::StrCat("'instances' must be a list, got ", got));
    default:
      return Internal();
  }
}

void RequestHandler::StartNamedInputs() {
  seen_.assign(specs_.size(), false);
  num_seen_ = 0;
}

std::string RequestHandler::MissingInputs() const {
  std::vector<absl::string_view> missing;
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (!seen_[i]) missing.push_back(specs_[i].name);
  }
  return absl::StrCat(missing.size() == 1 ? "missing input '" : "missing inputs '",
                      absl::StrJoin(missing, "', '"), "'");
}

std::string RequestHandler::InputNames() const {
  return absl::StrJoin(specs_, ", ",
                       [](std::string* out, const TensorSpec& spec) { out->append(spec.name); });
}

absl::StatusOr<PredictRequest> RequestHandler::Finish() {
  if (!format_.has_value()) {
    return absl::InvalidArgumentError("the request has neither 'instances' nor 'inputs'");
  }
  PredictRequest request;
  request.signature_name = std::move(signature_name_);
  request.format = *format_;
  const bool row = *format_ == PredictFormat::kRow;
  if (row) request.batch = instances_;
  const TensorSpec* batch_source = nullptr;  // the first batched input, for messages
  for (size_t i = 0; i < specs_.size(); ++i) {
    const TensorSpec& spec = specs_[i];
    Shape shape(spec.dims);
    if (row && !spec.batched() && spec.dims[0] != instances_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", spec.name, "': the model takes ", spec.dims[0],
          " rows (its first dimension), but the request has ", instances_, " instances"));
    }
    if (row) {
      shape.dim(0) = instances_;
    } else if (spec.batched()) {
      const int64_t size = readers_[i].leading_size();
      if (batch_source != nullptr && size != request.batch) {
        return absl::InvalidArgumentError(absl::StrCat("input '", spec.name, "': batch size ", size,
                                                       " differs from input '", batch_source->name,
                                                       "''s ", request.batch));
      }
      batch_source = &spec;
      request.batch = size;
      shape.dim(0) = size;
    }
    ASSIGN_OR_RETURN(Tensor tensor, readers_[i].TakeTensor(shape));
    request.inputs.push_back(std::move(tensor));
  }
  return request;
}

}  // namespace

absl::StatusOr<PredictRequest> ParsePredictRequest(absl::string_view body,
                                                   absl::Span<const TensorSpec> specs) {
  std::string buffer;
  buffer.reserve(body.size() + 8);
  buffer.append(body.data(), body.size());
  return ParsePredictRequestInPlace(std::move(buffer), specs);
}

absl::StatusOr<PredictRequest> ParsePredictRequestInPlace(std::string&& body,
                                                          absl::Span<const TensorSpec> specs) {
  RETURN_IF_ERROR(ValidateSpecs(specs));
  // The in-situ parser reads up to a NUL: a body holding one would be read short.
  const void* nul = body.empty() ? nullptr : std::memchr(body.data(), '\0', body.size());
  if (nul != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed JSON at offset ", static_cast<const char*>(nul) - body.data(), ": a NUL byte"));
  }
  // RapidJSON's UTF-8 check reads a whole multi-byte sequence before judging it, past
  // the terminating NUL when the body ends inside one, and ReadJsonNumber reads digits 8
  // bytes at a time: pad with 8 NULs. The body is parsed in place (its keys and numbers
  // become pointers into it).
  std::string buffer = std::move(body);
  buffer.append(8, '\0');
  rapidjson::InsituStringStream stream(buffer.data());
  rapidjson::Reader reader;
  RequestHandler handler(specs, &stream);
  rapidjson::ParseResult result = reader.Parse<kParseFlags>(stream, handler);
  if (result.IsError()) {
    if (!handler.status().ok()) return handler.status();
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON at offset ", result.Offset(),
                                                   ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  return handler.Finish();
}

}  // namespace kiln::serve
