// JSON text written by hand (not rapidjson::Writer or StringBuffer: their stacks do
// arithmetic on a null pointer in Debian's RapidJSON 1.1.0, which UBSan stops at): strings
// quoted and escaped, with bytes that are not UTF-8 replaced, so every reply is valid JSON.
#ifndef KILN_TOOLS_SERVE_JSON_TEXT_H_
#define KILN_TOOLS_SERVE_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kiln::serve {

// Appends `text` as a JSON string: quoted, '"', '\\' and control characters escaped, and
// every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
void AppendJsonString(std::string& out, absl::string_view text);

// `text` as a JSON string (AppendJsonString into a new string).
std::string JsonString(absl::string_view text);

}  // namespace kiln::serve

#endif  // KILN_TOOLS_SERVE_JSON_TEXT_H_
