// `kiln run`, `kiln bench` and `kiln inspect` on a compiled artifact (model.kiln), and
// kiln-runner: the commands that need the runtime core alone (no graph, passes or
// compiler). `kiln` hands them an argument list whose model file is an artifact.
#ifndef KILN_TOOLS_CLI_ARTIFACT_COMMANDS_H_
#define KILN_TOOLS_CLI_ARTIFACT_COMMANDS_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiln::cli {

// `program` names the command in messages and help ("kiln run", "kiln-runner").
int RunArtifactMain(absl::string_view program, absl::Span<const std::string> args,
                    std::ostream& out, std::ostream& err);
int BenchArtifactMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err);
int InspectArtifactMain(absl::Span<const std::string> args, std::ostream& out,
                        std::ostream& err);

// True when one of `args` that is not a flag names an artifact file.
bool NamesArtifact(absl::Span<const std::string> args);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_ARTIFACT_COMMANDS_H_
