// FlagSet: parsing of one subcommand's arguments into caller-owned variables.
#include "tools/cli/flags.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "base/status_macros.h"

namespace kiln::cli {

void FlagSet::AddString(absl::string_view name, std::string* value) {
  flags_.push_back({std::string(name), Kind::kString, value});
}

void FlagSet::AddInt64(absl::string_view name, int64_t* value, int64_t min, int64_t max) {
  flags_.push_back({std::string(name), Kind::kInt64, value, min, max});
}

void FlagSet::AddStringList(absl::string_view name, std::vector<std::string>* values) {
  flags_.push_back({std::string(name), Kind::kStringList, values});
}

void FlagSet::AddBool(absl::string_view name, bool* value) {
  flags_.push_back({std::string(name), Kind::kBool, value});
}

void FlagSet::AddShortAlias(char letter, absl::string_view name) {
  aliases_.emplace_back(letter, std::string(name));
}

FlagSet::Flag* FlagSet::Find(absl::string_view name) {
  for (Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

bool FlagSet::WasSet(absl::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return flag.seen;
  }
  return false;
}

absl::Status FlagSet::Set(Flag& flag, absl::string_view value) {
  if (flag.seen && flag.kind != Kind::kStringList) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", flag.name, " is given more than once"));
  }
  flag.seen = true;
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = std::string(value);
      return absl::OkStatus();
    case Kind::kStringList:
      static_cast<std::vector<std::string>*>(flag.target)->push_back(std::string(value));
      return absl::OkStatus();
    case Kind::kBool:
      *static_cast<bool*>(flag.target) = true;
      return absl::OkStatus();
    case Kind::kInt64: {
      int64_t parsed;
      // SimpleAtoi tolerates surrounding spaces; a flag value should not have any.
      bool ok = !value.empty() && !absl::ascii_isspace(static_cast<unsigned char>(value.front())) &&
                !absl::ascii_isspace(static_cast<unsigned char>(value.back())) &&
                absl::SimpleAtoi(value, &parsed);
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", flag.name, ": '", value, "' is not an integer"));
      }
      if (parsed < flag.min || parsed > flag.max) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", flag.name, ": ", parsed,
                                                       " is out of range [", flag.min, ", ",
                                                       flag.max, "]"));
      }
      *static_cast<int64_t*>(flag.target) = parsed;
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(absl::Span<const std::string> args) {
  // Help wins over any other problem on the line, so `kiln run --bogus --help` helps.
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      return std::vector<std::string>();
    }
  }
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    // A lone "-" is a positional argument (conventionally stdin), not a flag.
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    // A one-letter alias ("-o") stands for its long flag ("--output").
    std::string aliased;
    if (arg.size() == 2) {
      for (const auto& [letter, long_name] : aliases_) {
        if (arg[1] == letter) aliased = absl::StrCat("--", long_name);
      }
    }
    if (aliased.empty() && !absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", arg, "' for '", command_, "' (flags start with --)"));
    }
    absl::string_view body = absl::string_view(aliased.empty() ? arg : aliased).substr(2);
    size_t eq = body.find('=');
    absl::string_view name = body.substr(0, eq);
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '--", name, "' for '", command_, "'"));
    }
    if (flag->kind == Kind::kBool) {
      if (eq != absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " takes no value"));
      }
      RETURN_IF_ERROR(Set(*flag, ""));
      continue;
    }
    if (eq != absl::string_view::npos) {
      RETURN_IF_ERROR(Set(*flag, body.substr(eq + 1)));
      continue;
    }
    // The next argument is the value even when it starts with '-' (as in --seed -1).
    if (i + 1 >= args.size()) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
    RETURN_IF_ERROR(Set(*flag, args[++i]));
  }
  return positional;
}

}  // namespace kiln::cli
