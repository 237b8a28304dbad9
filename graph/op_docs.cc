#include "graph/op_docs.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"

namespace kiln {
namespace {

std::string TraitList(const OpDef& def) {
  static const std::pair<OpTrait, const char*> kNames[] = {
      {kElementwise, "elementwise"},        {kBroadcasting, "broadcasting"},
      {kCommutative, "commutative"},        {kLayoutAgnostic, "layout-agnostic"},
      {kReduction, "reduction"},            {kDataMovement, "data movement"},
      {kSource, "source"},                  {kChannelAxis, "channel axis"},
      {kLayoutSelectable, "layout-selectable"}, {kContraction, "contraction"},
      {kAxisReduction, "axis reduction"},   {kBitcast, "bitcast"},
      {kClampedOutput, "clamped output"},   {kEpilogueInputs, "epilogue inputs"},
  };
  std::vector<std::string> names;
  for (const auto& [trait, name] : kNames) {
    if (def.Has(trait)) names.push_back(name);
  }
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

std::string InputList(const OpDef& def) {
  if (def.max_inputs == 0) return "none";
  std::vector<std::string> names;
  for (int i = 0; i < static_cast<int>(def.input_names.size()); ++i) {
    bool optional = i >= def.min_inputs;
    names.push_back(optional ? absl::StrCat("`", def.input_names[i], "` (optional)")
                             : absl::StrCat("`", def.input_names[i], "`"));
  }
  std::string list = absl::StrJoin(names, ", ");
  if (def.max_inputs < 0) absl::StrAppend(&list, " (variadic, at least ", def.min_inputs, ")");
  return list;
}

}  // namespace

std::string OpReferenceMarkdown(const OpRegistry& registry) {
  std::string out =
      "# Kiln op reference\n\n"
      "Generated from the op registry by `make docs`; do not edit by hand (a test checks\n"
      "that this file matches the registry). Broadcasting follows NumPy. Attributes without\n"
      "a default are required.\n\n";
  std::vector<const OpDef*> ops = registry.ops();
  absl::StrAppend(&out, "| op | summary |\n|---|---|\n");
  for (const OpDef* def : ops) {
    absl::StrAppend(&out, "| [", def->name, "](#", absl::AsciiStrToLower(def->name), ") | ",
                    def->summary, " |\n");
  }
  for (const OpDef* def : ops) {
    absl::StrAppend(&out, "\n## ", def->name, "\n\n", def->summary, "\n\n");
    absl::StrAppend(&out, "- inputs: ", InputList(*def), "\n");
    absl::StrAppend(&out, "- outputs: ",
                    def->num_outputs >= 0 ? absl::StrCat(def->num_outputs) : "variadic", "\n");
    if (!def->dtypes.empty()) {
      std::vector<std::string> types;
      for (DataType t : def->dtypes) types.emplace_back(DataTypeName(t));
      absl::StrAppend(&out, "- dtypes: ", absl::StrJoin(types, ", "), "\n");
    } else {
      absl::StrAppend(&out, "- dtypes: any\n");
    }
    absl::StrAppend(&out, "- traits: ", TraitList(*def), "\n");
    if (!def->attrs.empty()) {
      absl::StrAppend(&out, "\n| attribute | type | default |\n|---|---|---|\n");
      for (const AttrSpec& attr : def->attrs) {
        absl::StrAppend(&out, "| `", attr.name, "` | ", AttrTypeName(attr.type), " | ",
                        attr.default_value ? AttrValueToString(*attr.default_value) : "required",
                        " |\n");
      }
    }
  }
  return out;
}

}  // namespace kiln
