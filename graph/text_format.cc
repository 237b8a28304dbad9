// Printer and recursive-descent parser of the kgraph text form (see text_format.h).
#include "graph/text_format.h"

#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graph/fusion.h"
#include "base/half.h"
#include "graph/op_registry.h"
#include "base/status_macros.h"
#include "graph/verifier.h"

namespace kiln {
namespace {

// ------------------------------------------------------------------------------ printing

bool IsNameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-';
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Shortest %g form of `v` that `exact` accepts as reading back the same value.
template <typename Exact>
std::string ShortestDouble(double v, int max_precision, Exact exact) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s;
  int p = 1;
  for (; p <= max_precision; ++p) {
    s = absl::StrFormat("%.*g", p, v);
    if (exact(std::strtod(s.c_str(), nullptr))) break;
  }
  // %g switches to an exponent when the precision is below the exponent ("1e+01" for 10):
  // take the plain form when it is no longer.
  if (s.find('e') == std::string::npos) return s;
  for (int q = p + 1; q <= max_precision; ++q) {
    std::string plain = absl::StrFormat("%.*g", q, v);
    if (plain.size() > s.size()) break;
    if (plain.find('e') == std::string::npos && exact(std::strtod(plain.c_str(), nullptr))) {
      return plain;
    }
  }
  return s;
}

// A float attribute: shortest double round trip, always distinguishable from an int.
std::string FormatFloatAttr(double v) {
  std::string s = ShortestDouble(v, 17, [v](double r) { return r == v; });
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string FormatElement(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kBool: return t.GetAsInt64(i) != 0 ? "true" : "false";
    case DataType::kF64: {
      double v = t.GetAsDouble(i);
      return ShortestDouble(v, 17, [v](double r) { return r == v; });
    }
    case DataType::kF32:
    case DataType::kF16:
    case DataType::kBF16: {
      // f16 and bf16 values are floats exactly, so a float round trip suffices.
      float v = static_cast<float>(t.GetAsDouble(i));
      return ShortestDouble(v, 9, [v](double r) { return static_cast<float>(r) == v; });
    }
    default: return absl::StrCat(t.GetAsInt64(i));
  }
}

uint64_t Fnv1a(absl::Span<const uint8_t> bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

std::string FormatTensor(const Tensor& t, const TextPrintOptions& options) {
  std::string out = absl::StrCat(t.TypeString(), "{");
  const int64_t n = t.NumElements();
  bool splat = n > 1;
  if (splat) {
    const int64_t size = DataTypeSize(t.dtype());
    const auto* bytes = static_cast<const uint8_t*>(t.raw_data());
    for (int64_t i = 1; i < n && splat; ++i) {
      splat = std::memcmp(bytes, bytes + i * size, size) == 0;
    }
  }
  if (splat) {
    absl::StrAppend(&out, "splat ", FormatElement(t, 0));
  } else if (options.max_inline_elements >= 0 && n > options.max_inline_elements) {
    absl::StrAppend(&out, absl::StrFormat("elided 0x%016x", Fnv1a(t.bytes())));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (i > 0) out += ", ";
      out += FormatElement(t, i);
    }
  }
  return out + "}";
}

void PrintGraphInto(const Graph& graph, const TextPrintOptions& options, int indent,
                    std::string& out);

std::string FormatAttr(const AttrValue& value, const TextPrintOptions& options, int indent) {
  switch (TypeOf(value)) {
    case AttrType::kInt: return absl::StrCat(std::get<int64_t>(value));
    case AttrType::kFloat: return FormatFloatAttr(std::get<double>(value));
    case AttrType::kString: return Quote(std::get<std::string>(value));
    case AttrType::kBool: return std::get<bool>(value) ? "true" : "false";
    case AttrType::kInts:
      return absl::StrCat("[", absl::StrJoin(std::get<std::vector<int64_t>>(value), ","), "]");
    case AttrType::kFloats: {
      std::vector<std::string> parts;
      for (double v : std::get<std::vector<double>>(value)) parts.push_back(FormatFloatAttr(v));
      return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
    }
    case AttrType::kStrings: {
      std::vector<std::string> parts;
      for (const auto& v : std::get<std::vector<std::string>>(value)) parts.push_back(Quote(v));
      return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
    }
    case AttrType::kDType: return std::string(DataTypeName(std::get<DataType>(value)));
    case AttrType::kTensor: return FormatTensor(std::get<Tensor>(value), options);
    case AttrType::kGraph: {
      const GraphValue& body = std::get<GraphValue>(value);
      if (body == nullptr) return "graph() {\n}";
      std::string out;
      PrintGraphInto(*body, options, indent, out);
      return out;
    }
  }
  return "?";
}

std::string FormatRef(const Graph& graph, TensorRef ref) {
  if (ref.node < 0 || ref.node >= graph.num_nodes()) return "%?";
  return absl::StrCat("%", graph.TensorName(ref));
}

void PrintGraphInto(const Graph& graph, const TextPrintOptions& options, int indent,
                    std::string& out) {
  const std::string pad(indent, ' ');
  std::vector<bool> in_signature(graph.num_nodes(), false);
  std::vector<std::string> params;
  for (int id : graph.inputs()) {
    if (id < 0 || id >= graph.num_nodes()) continue;
    in_signature[id] = true;
    const Node& node = graph.node(id);
    std::string type;
    if (!node.outputs.empty()) {
      type = node.outputs[0].ToString();
    } else if (node.HasAttr("dtype") && node.HasAttr("shape")) {
      type = absl::StrCat(DataTypeName(node.attr<DataType>("dtype")),
                          Shape(node.ints_attr("shape")).ToString());
    }
    params.push_back(absl::StrCat("%", node.name, ": ", type));
  }
  absl::StrAppend(&out, "graph(", absl::StrJoin(params, ", "), ") {\n");
  absl::StatusOr<std::vector<int>> order = graph.TopologicalOrder();
  std::vector<int> ids;
  if (order.ok()) {
    ids = *order;
  } else {
    for (int i = 0; i < graph.num_nodes(); ++i) ids.push_back(i);
  }
  for (int id : ids) {
    if (in_signature[id]) continue;
    const Node& node = graph.node(id);
    std::vector<std::string> inputs;
    for (const TensorRef& in : node.inputs) inputs.push_back(FormatRef(graph, in));
    absl::StrAppend(&out, pad, "  %", node.name, " = ", node.op, "(",
                    absl::StrJoin(inputs, ", "), ")");
    const OpDef* def = node.def != nullptr ? node.def : OpRegistry::Global().Find(node.op);
    std::vector<std::string> attrs;
    for (const auto& [key, value] : node.attrs) {
      if (!options.print_defaults && def != nullptr) {
        const AttrSpec* spec = def->FindAttr(key);
        if (spec != nullptr && spec->default_value &&
            AttrValuesEqual(*spec->default_value, value)) {
          continue;
        }
      }
      attrs.push_back(absl::StrCat(key, " = ", FormatAttr(value, options, indent + 2)));
    }
    if (!attrs.empty()) absl::StrAppend(&out, " {", absl::StrJoin(attrs, ", "), "}");
    if (node.outputs.size() == 1) {
      absl::StrAppend(&out, " : ", node.outputs[0].ToString());
    } else if (node.outputs.size() > 1) {
      std::vector<std::string> types;
      for (const TensorType& t : node.outputs) types.push_back(t.ToString());
      absl::StrAppend(&out, " : (", absl::StrJoin(types, ", "), ")");
    }
    out += "\n";
  }
  std::vector<std::string> results;
  for (const GraphOutput& o : graph.outputs()) {
    results.push_back(absl::StrCat(IsIdentifier(o.name) ? o.name : Quote(o.name), " = ",
                                   FormatRef(graph, o.tensor)));
  }
  absl::StrAppend(&out, pad, "  return ", absl::StrJoin(results, ", "), "\n", pad, "}");
}

// ------------------------------------------------------------------------------- parsing

enum class Tok { kEnd, kName, kIdent, kNumber, kString, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // name without '%', identifier, number, unescaped string, punctuation
  int output = 0;    // kName: the ":k" suffix
  int line = 1;
};

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  absl::StatusOr<Token> Next() {
    if (peeked_) {
      peeked_ = false;
      return peek_;
    }
    return Lex();
  }
  absl::StatusOr<Token> Peek() {
    if (!peeked_) {
      ASSIGN_OR_RETURN(peek_, Lex());
      peeked_ = true;
    }
    return peek_;
  }
  int line() const { return peeked_ ? peek_.line : line_; }

 private:
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ": ", message));
  }

  absl::StatusOr<Token> Lex() {
    SkipSpaceAndComments();
    Token t;
    t.line = line_;
    if (pos_ >= text_.size()) return t;
    char c = text_[pos_];
    if (c == '%') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
      if (pos_ == start) return Error("'%' must be followed by a node name");
      t.kind = Tok::kName;
      t.text = std::string(text_.substr(start, pos_ - start));
      if (pos_ + 1 < text_.size() && text_[pos_] == ':' && absl::ascii_isdigit(text_[pos_ + 1])) {
        ++pos_;
        size_t digits = pos_;
        while (pos_ < text_.size() && absl::ascii_isdigit(text_[pos_])) ++pos_;
        if (pos_ - digits > 6 ||
            !absl::SimpleAtoi(text_.substr(digits, pos_ - digits), &t.output)) {
          return Error("bad output index");
        }
      }
      return t;
    }
    if (absl::ascii_isalpha(c) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() && (absl::ascii_isalnum(text_[pos_]) || text_[pos_] == '_')) {
        ++pos_;
      }
      t.kind = Tok::kIdent;
      t.text = std::string(text_.substr(start, pos_ - start));
      return t;
    }
    bool sign = (c == '-' || c == '+') && pos_ + 1 < text_.size() &&
                (absl::ascii_isalnum(text_[pos_ + 1]) || text_[pos_ + 1] == '.');
    if (absl::ascii_isdigit(c) || sign ||
        (c == '.' && pos_ + 1 < text_.size() && absl::ascii_isdigit(text_[pos_ + 1]))) {
      size_t start = pos_;
      ++pos_;
      while (pos_ < text_.size()) {
        char d = text_[pos_];
        bool exponent_sign = (d == '-' || d == '+') &&
                             (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E') &&
                             !absl::StartsWithIgnoreCase(text_.substr(start), "0x");
        if (absl::ascii_isalnum(d) || d == '.' || exponent_sign) {
          ++pos_;
        } else {
          break;
        }
      }
      t.kind = Tok::kNumber;
      t.text = std::string(text_.substr(start, pos_ - start));
      return t;
    }
    if (c == '"') {
      ++pos_;
      std::string s;
      while (true) {
        if (pos_ >= text_.size() || text_[pos_] == '\n') return Error("unterminated string");
        char d = text_[pos_++];
        if (d == '"') break;
        if (d == '\\') {
          if (pos_ >= text_.size()) return Error("unterminated string");
          char e = text_[pos_++];
          s += e == 'n' ? '\n' : e;
        } else {
          s += d;
        }
      }
      t.kind = Tok::kString;
      t.text = std::move(s);
      return t;
    }
    if (absl::string_view("(){}[],=:").find(c) != absl::string_view::npos) {
      ++pos_;
      t.kind = Tok::kPunct;
      t.text = std::string(1, c);
      return t;
    }
    return Error(absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (absl::ascii_isspace(c)) {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  bool peeked_ = false;
  Token peek_;
};

// Tensors spelled in text stay far below the in-memory limit; this bounds a splat.
constexpr int64_t kMaxTextTensorBytes = int64_t{1} << 30;
// Subgraphs nest one level in valid graphs; the bound keeps hostile text off the stack.
constexpr int kMaxNesting = 8;

class Parser {
 public:
  Parser(absl::string_view text, const TextParseOptions& options)
      : lex_(text), options_(options) {}

  absl::StatusOr<Graph> ParseTop() {
    ASSIGN_OR_RETURN(Graph graph, ParseGraphDef(0));
    ASSIGN_OR_RETURN(Token t, lex_.Next());
    if (t.kind != Tok::kEnd) return Error(t, "text after the graph's closing '}'");
    return graph;
  }

 private:
  absl::Status Error(const Token& t, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("line ", t.line, ": ", message));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of text";
      case Tok::kName: return absl::StrCat("'%", t.text, "'");
      case Tok::kString: return absl::StrCat("string ", Quote(t.text));
      default: return absl::StrCat("'", t.text, "'");
    }
  }

  absl::Status Expect(absl::string_view punct) {
    ASSIGN_OR_RETURN(Token t, lex_.Next());
    if (t.kind != Tok::kPunct || t.text != punct) {
      return Error(t, absl::StrCat("expected '", punct, "', got ", Describe(t)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> TryPunct(absl::string_view punct) {
    ASSIGN_OR_RETURN(Token t, lex_.Peek());
    if (t.kind == Tok::kPunct && t.text == punct) {
      RETURN_IF_ERROR(lex_.Next().status());
      return true;
    }
    return false;
  }

  absl::StatusOr<Token> ExpectKind(Tok kind, absl::string_view what) {
    ASSIGN_OR_RETURN(Token t, lex_.Next());
    if (t.kind != kind) return Error(t, absl::StrCat("expected ", what, ", got ", Describe(t)));
    return t;
  }

  absl::StatusOr<int64_t> ParseInt(const Token& t) {
    int64_t v;
    if (t.kind != Tok::kNumber || !absl::SimpleAtoi(t.text, &v)) {
      return Error(t, absl::StrCat("expected an integer, got ", Describe(t)));
    }
    return v;
  }

  // A float from a number token or inf/nan (with an optional sign in the number form).
  absl::StatusOr<double> ParseFloat(const Token& t) {
    std::string text = absl::AsciiStrToLower(t.text);
    if (t.kind == Tok::kIdent && (text == "inf" || text == "nan")) {
      return text == "inf" ? HUGE_VAL : std::nan("");
    }
    if (t.kind == Tok::kNumber) {
      if (text == "-inf" || text == "+inf") return text[0] == '-' ? -HUGE_VAL : HUGE_VAL;
      if (text == "-nan" || text == "+nan") return std::nan("");
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (end != nullptr && *end == '\0' && text.find_first_of("xX") == std::string::npos) {
        return v;
      }
    }
    return Error(t, absl::StrCat("expected a number, got ", Describe(t)));
  }

  static bool LooksFloat(const Token& t) {
    if (t.kind == Tok::kIdent) return t.text == "inf" || t.text == "nan";
    return t.kind == Tok::kNumber && t.text.find_first_of(".eEin") != std::string::npos &&
           t.text.find_first_of("xX") == std::string::npos;
  }

  absl::StatusOr<TensorType> ParseType() {
    ASSIGN_OR_RETURN(Token name, ExpectKind(Tok::kIdent, "a dtype"));
    absl::StatusOr<DataType> dtype = ParseDataType(name.text);
    if (!dtype.ok()) return Error(name, dtype.status().message());
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, ParseIntList());
    return TensorType{*dtype, Shape(std::move(dims))};
  }

  // "[1,2,-1]"
  absl::StatusOr<std::vector<int64_t>> ParseIntList() {
    RETURN_IF_ERROR(Expect("["));
    std::vector<int64_t> values;
    ASSIGN_OR_RETURN(bool done, TryPunct("]"));
    while (!done) {
      ASSIGN_OR_RETURN(Token t, lex_.Next());
      ASSIGN_OR_RETURN(int64_t v, ParseInt(t));
      values.push_back(v);
      ASSIGN_OR_RETURN(done, TryPunct("]"));
      if (!done) RETURN_IF_ERROR(Expect(","));
    }
    return values;
  }

  absl::StatusOr<Tensor> ParseTensorBody(const Token& at, const TensorType& type) {
    RETURN_IF_ERROR(Expect("{"));
    if (!type.shape.IsFullyKnown()) return Error(at, "a tensor's shape must be fully known");
    RETURN_IF_ERROR(ValidateShape(type.shape));
    if (type.shape.NumElements() > kMaxTextTensorBytes / std::max<int64_t>(1, DataTypeSize(type.dtype))) {
      return Error(at, "tensor is too large for the text form");
    }
    ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(type.dtype, type.shape));
    const int64_t n = tensor.NumElements();
    ASSIGN_OR_RETURN(Token first, lex_.Peek());
    if (first.kind == Tok::kIdent && first.text == "elided") {
      return Error(first, "an elided tensor cannot be parsed (print with every value)");
    }
    bool splat = first.kind == Tok::kIdent && first.text == "splat";
    if (splat) RETURN_IF_ERROR(lex_.Next().status());
    int64_t count = 0;
    ASSIGN_OR_RETURN(bool done, TryPunct("}"));
    while (!done) {
      ASSIGN_OR_RETURN(Token t, lex_.Next());
      if (count >= n || (splat && count >= 1)) {
        return Error(t, absl::StrCat("tensor ", type.ToString(), " has more than ", n, " values"));
      }
      RETURN_IF_ERROR(SetElement(tensor, count, t, splat ? n : 1));
      count += splat ? n : 1;
      ASSIGN_OR_RETURN(done, TryPunct("}"));
      if (!done) RETURN_IF_ERROR(Expect(","));
    }
    if (count != n) {
      return Error(at, absl::StrCat("tensor ", type.ToString(), " needs ", n, " values, got ",
                                    count));
    }
    return tensor;
  }

  // Stores token `t` into elements [i, i + repeat) of `tensor`.
  absl::Status SetElement(Tensor& tensor, int64_t i, const Token& t, int64_t repeat) {
    if (tensor.dtype() == DataType::kBool) {
      int64_t v;
      if (t.kind == Tok::kIdent && (t.text == "true" || t.text == "false")) {
        v = t.text == "true";
      } else {
        ASSIGN_OR_RETURN(v, ParseInt(t));
      }
      for (int64_t k = 0; k < repeat; ++k) tensor.SetFromInt64(i + k, v != 0);
    } else if (IsFloating(tensor.dtype())) {
      ASSIGN_OR_RETURN(double v, ParseFloat(t));
      for (int64_t k = 0; k < repeat; ++k) tensor.SetFromDouble(i + k, v);
    } else {
      ASSIGN_OR_RETURN(int64_t v, ParseInt(t));
      for (int64_t k = 0; k < repeat; ++k) tensor.SetFromInt64(i + k, v);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<AttrValue> ParseAttrValue(int depth) {
    ASSIGN_OR_RETURN(Token t, lex_.Peek());
    if (t.kind == Tok::kString) {
      RETURN_IF_ERROR(lex_.Next().status());
      return AttrValue(t.text);
    }
    if (t.kind == Tok::kNumber) {
      RETURN_IF_ERROR(lex_.Next().status());
      if (LooksFloat(t)) {
        ASSIGN_OR_RETURN(double v, ParseFloat(t));
        return AttrValue(v);
      }
      ASSIGN_OR_RETURN(int64_t v, ParseInt(t));
      return AttrValue(v);
    }
    if (t.kind == Tok::kPunct && t.text == "[") return ParseListAttr();
    if (t.kind == Tok::kIdent) {
      if (t.text == "true" || t.text == "false") {
        RETURN_IF_ERROR(lex_.Next().status());
        return AttrValue(t.text == "true");
      }
      if (t.text == "inf" || t.text == "nan") {
        RETURN_IF_ERROR(lex_.Next().status());
        ASSIGN_OR_RETURN(double v, ParseFloat(t));
        return AttrValue(v);
      }
      if (t.text == "graph") {
        ASSIGN_OR_RETURN(Graph body, ParseGraphDef(depth + 1));
        return AttrValue(std::make_shared<const Graph>(std::move(body)));
      }
      absl::StatusOr<DataType> dtype = ParseDataType(t.text);
      if (dtype.ok()) {
        RETURN_IF_ERROR(lex_.Next().status());
        ASSIGN_OR_RETURN(Token next, lex_.Peek());
        if (next.kind == Tok::kPunct && next.text == "[") {
          ASSIGN_OR_RETURN(std::vector<int64_t> dims, ParseIntList());
          ASSIGN_OR_RETURN(Tensor tensor, ParseTensorBody(t, TensorType{*dtype, Shape(dims)}));
          return AttrValue(std::move(tensor));
        }
        return AttrValue(*dtype);
      }
    }
    return Error(t, absl::StrCat("expected an attribute value, got ", Describe(t)));
  }

  absl::StatusOr<AttrValue> ParseListAttr() {
    RETURN_IF_ERROR(Expect("["));
    std::vector<Token> items;
    ASSIGN_OR_RETURN(bool done, TryPunct("]"));
    while (!done) {
      ASSIGN_OR_RETURN(Token t, lex_.Next());
      items.push_back(t);
      ASSIGN_OR_RETURN(done, TryPunct("]"));
      if (!done) RETURN_IF_ERROR(Expect(","));
    }
    bool strings = !items.empty() && items[0].kind == Tok::kString;
    bool floats = false;
    for (const Token& t : items) {
      if ((t.kind == Tok::kString) != strings) return Error(t, "a list mixes strings and numbers");
      floats = floats || LooksFloat(t);
    }
    if (strings) {
      std::vector<std::string> values;
      for (const Token& t : items) values.push_back(t.text);
      return AttrValue(std::move(values));
    }
    if (floats) {
      std::vector<double> values;
      for (const Token& t : items) {
        ASSIGN_OR_RETURN(double v, ParseFloat(t));
        values.push_back(v);
      }
      return AttrValue(std::move(values));
    }
    std::vector<int64_t> values;
    for (const Token& t : items) {
      ASSIGN_OR_RETURN(int64_t v, ParseInt(t));
      values.push_back(v);
    }
    return AttrValue(std::move(values));
  }

  struct PendingRef {
    std::string name;
    int output;
    int line;
  };

  absl::StatusOr<TensorRef> Resolve(const Graph& graph, const PendingRef& ref) {
    std::optional<int> id = graph.FindNode(ref.name);
    if (!id) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", ref.line, ": '%", ref.name, "' names no node"));
    }
    return TensorRef{*id, ref.output};
  }

  absl::StatusOr<Graph> ParseGraphDef(int depth) {
    ASSIGN_OR_RETURN(Token kw, ExpectKind(Tok::kIdent, "'graph'"));
    if (kw.text != "graph") return Error(kw, absl::StrCat("expected 'graph', got ", Describe(kw)));
    if (depth > kMaxNesting) return Error(kw, "subgraphs nest too deeply");
    Graph graph;
    RETURN_IF_ERROR(Expect("("));
    ASSIGN_OR_RETURN(bool done, TryPunct(")"));
    while (!done) {
      ASSIGN_OR_RETURN(Token name, ExpectKind(Tok::kName, "an input '%name'"));
      RETURN_IF_ERROR(Expect(":"));
      ASSIGN_OR_RETURN(TensorType type, ParseType());
      Node node;
      node.name = name.text;
      node.op = "Input";
      node.attrs["dtype"] = type.dtype;
      node.attrs["shape"] = type.shape.dims();
      absl::StatusOr<int> id = graph.AddNode(std::move(node));
      if (!id.ok()) return Error(name, id.status().message());
      graph.inputs().push_back(*id);
      ASSIGN_OR_RETURN(done, TryPunct(")"));
      if (!done) RETURN_IF_ERROR(Expect(","));
    }
    RETURN_IF_ERROR(Expect("{"));

    std::vector<std::vector<PendingRef>> pending(graph.num_nodes());
    std::vector<std::optional<std::vector<TensorType>>> declared(graph.num_nodes());
    std::vector<int> lines(graph.num_nodes(), kw.line);
    while (true) {
      ASSIGN_OR_RETURN(Token t, lex_.Next());
      if (t.kind == Tok::kIdent && t.text == "return") break;
      if (t.kind != Tok::kName || t.output != 0) {
        return Error(t, absl::StrCat("expected a node '%name = Op(...)' or 'return', got ",
                                     Describe(t)));
      }
      RETURN_IF_ERROR(Expect("="));
      ASSIGN_OR_RETURN(Token op, ExpectKind(Tok::kIdent, "an op name"));
      Node node;
      node.name = t.text;
      node.op = op.text;
      std::vector<PendingRef> refs;
      RETURN_IF_ERROR(Expect("("));
      ASSIGN_OR_RETURN(bool closed, TryPunct(")"));
      while (!closed) {
        ASSIGN_OR_RETURN(Token in, ExpectKind(Tok::kName, "an input '%name'"));
        refs.push_back({in.text, in.output, in.line});
        ASSIGN_OR_RETURN(closed, TryPunct(")"));
        if (!closed) RETURN_IF_ERROR(Expect(","));
      }
      ASSIGN_OR_RETURN(bool has_attrs, TryPunct("{"));
      if (has_attrs) {
        ASSIGN_OR_RETURN(bool end, TryPunct("}"));
        while (!end) {
          ASSIGN_OR_RETURN(Token key, ExpectKind(Tok::kIdent, "an attribute name"));
          RETURN_IF_ERROR(Expect("="));
          if (node.attrs.count(key.text)) {
            return Error(key, absl::StrCat("attribute '", key.text, "' is given twice"));
          }
          ASSIGN_OR_RETURN(node.attrs[key.text], ParseAttrValue(depth));
          ASSIGN_OR_RETURN(end, TryPunct("}"));
          if (!end) RETURN_IF_ERROR(Expect(","));
        }
      }
      std::optional<std::vector<TensorType>> types;
      ASSIGN_OR_RETURN(bool typed, TryPunct(":"));
      if (typed) {
        types.emplace();
        ASSIGN_OR_RETURN(bool several, TryPunct("("));
        if (several) {
          ASSIGN_OR_RETURN(bool end, TryPunct(")"));
          while (!end) {
            ASSIGN_OR_RETURN(TensorType type, ParseType());
            types->push_back(type);
            ASSIGN_OR_RETURN(end, TryPunct(")"));
            if (!end) RETURN_IF_ERROR(Expect(","));
          }
        } else {
          ASSIGN_OR_RETURN(TensorType type, ParseType());
          types->push_back(type);
        }
      }
      absl::StatusOr<int> id = graph.AddNode(std::move(node));
      if (!id.ok()) return Error(t, id.status().message());
      pending.push_back(std::move(refs));
      declared.push_back(std::move(types));
      lines.push_back(t.line);
    }
    ASSIGN_OR_RETURN(bool end, TryPunct("}"));
    std::vector<std::pair<std::string, PendingRef>> results;
    while (!end) {
      ASSIGN_OR_RETURN(Token name, lex_.Next());
      if (name.kind != Tok::kIdent && name.kind != Tok::kString) {
        return Error(name, absl::StrCat("expected an output name, got ", Describe(name)));
      }
      RETURN_IF_ERROR(Expect("="));
      ASSIGN_OR_RETURN(Token ref, ExpectKind(Tok::kName, "a '%name' reference"));
      results.push_back({name.text, {ref.text, ref.output, ref.line}});
      ASSIGN_OR_RETURN(end, TryPunct("}"));
      if (!end) RETURN_IF_ERROR(Expect(","));
    }

    for (int i = 0; i < graph.num_nodes(); ++i) {
      for (const PendingRef& ref : pending[i]) {
        ASSIGN_OR_RETURN(TensorRef resolved, Resolve(graph, ref));
        graph.node(i).inputs.push_back(resolved);
      }
    }
    for (const auto& [name, ref] : results) {
      ASSIGN_OR_RETURN(TensorRef resolved, Resolve(graph, ref));
      graph.outputs().push_back(GraphOutput{name, resolved});
    }
    if (options_.verify) {
      RETURN_IF_ERROR(VerifyGraph(graph));
      for (int i = 0; i < graph.num_nodes(); ++i) {
        if (!declared[i]) continue;
        if (*declared[i] != graph.node(i).outputs) {
          std::vector<std::string> want, got;
          for (const TensorType& x : *declared[i]) want.push_back(x.ToString());
          for (const TensorType& x : graph.node(i).outputs) got.push_back(x.ToString());
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", lines[i], ": node '", graph.node(i).name, "' is declared ",
              absl::StrJoin(want, ", "), " but inferred ", absl::StrJoin(got, ", ")));
        }
      }
    }
    return graph;
  }

  Lexer lex_;
  TextParseOptions options_;
};

std::string DotEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string PrintGraph(const Graph& graph, const TextPrintOptions& options) {
  std::string out;
  PrintGraphInto(graph, options, 0, out);
  return out + "\n";
}

absl::StatusOr<Graph> ParseGraph(absl::string_view text, const TextParseOptions& options) {
  Parser parser(text, options);
  return parser.ParseTop();
}

std::string GraphToDot(const Graph& graph) {
  std::string out = "digraph kiln {\n  node [fontname=\"monospace\", fontsize=10];\n";
  for (int i = 0; i < graph.num_nodes(); ++i) {
    const Node& node = graph.node(i);
    std::vector<std::string> types;
    for (const TensorType& t : node.outputs) types.push_back(t.ToString());
    std::string label = absl::StrCat(DotEscape(node.name), "\\n", DotEscape(node.op));
    if (const Graph* body = FusionBody(node)) {
      std::string kind = node.HasAttr(kFusionKindAttr) ? node.string_attr(kFusionKindAttr) : "";
      absl::StrAppend(&label, " (", DotEscape(kind), ", ", body->num_nodes(), " nodes)");
    }
    absl::StrAppend(&label, "\\n", absl::StrJoin(types, ", "));
    bool source = node.op == "Input" || node.op == "Constant";
    absl::StrAppend(&out, "  n", i, " [label=\"", label, "\", shape=",
                    source ? "ellipse" : "box", node.op == kFusionOp ? ", style=filled" : "",
                    "];\n");
  }
  for (int i = 0; i < graph.num_nodes(); ++i) {
    for (const TensorRef& in : graph.node(i).inputs) {
      if (in.node < 0 || in.node >= graph.num_nodes()) continue;
      absl::StrAppend(&out, "  n", in.node, " -> n", i, ";\n");
    }
  }
  for (size_t k = 0; k < graph.outputs().size(); ++k) {
    const GraphOutput& o = graph.outputs()[k];
    if (o.tensor.node < 0 || o.tensor.node >= graph.num_nodes()) continue;
    absl::StrAppend(&out, "  out", k, " [label=\"", DotEscape(o.name), "\", shape=plaintext];\n");
    absl::StrAppend(&out, "  n", o.tensor.node, " -> out", k, ";\n");
  }
  return out + "}\n";
}

}  // namespace kiln
