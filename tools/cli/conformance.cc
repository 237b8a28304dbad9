// `kiln conformance DIR`: runs ONNX's backend node tests (generated into DIR) through the
// importer and a default Session, and prints pass / fail / unsupported per test.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"
#include "tools/onnx/conformance.h"

namespace kiln::cli {
namespace {

constexpr absl::string_view kHelp = R"help(Usage: kiln conformance DIR [--filter TEXT] [--rtol X] [--atol X] [--no-freeze]
                        [--min-pass N] [--quiet]

Runs every ONNX backend test folder under DIR (a folder holding model.onnx and
test_data_set_*/input_*.pb, output_*.pb; made by
  python3 tools/onnx/generate_backend_tests.py DIR
): imports the model, runs it through a Session with the default kernels (at -O2:
generated loops, the CPU library, the reference kernels where neither has one) and
compares each output with the expected one. Prints one line per test, PASS NAME,
FAIL NAME: REASON or UNSUPPORTED NAME: REASON, then the totals, the op types of
failing models and the reasons for unsupported tests.

A test is unsupported when Kiln lacks something it needs (an op, an attribute
value, a dtype such as string, sequences, optional values, training ops); it
fails when Kiln imports it but computes a wrong result or reports an error.

Flags:
  --filter TEXT  run only tests whose name contains TEXT
  --rtol X, --atol X
                 tolerances: |got - want| <= atol + rtol * |want| (defaults
                 1e-3 and 1e-7, ONNX's); integers and bools match exactly
  --no-freeze    do not freeze graph inputs Kiln needs as constants (such as a
                 Reshape shape fed at run time) to the test's values; those
                 tests are then unsupported. Frozen passes are marked.
  --min-pass N   exit status 1 when fewer than N tests pass
  --quiet        print only the summary
)help";

int ConformanceMain(absl::Span<const std::string> args, std::ostream& out, std::ostream& err) {
  onnx_conformance::ConformanceOptions options;
  std::string rtol = "1e-3";
  std::string atol = "1e-7";
  bool no_freeze = false;
  bool quiet = false;
  int64_t min_pass = 0;
  FlagSet flags("kiln conformance");
  flags.AddString("filter", &options.filter);
  flags.AddString("rtol", &rtol);
  flags.AddString("atol", &atol);
  flags.AddBool("no-freeze", &no_freeze);
  flags.AddBool("quiet", &quiet);
  flags.AddInt64("min-pass", &min_pass, 0, 1 << 30);
  std::string argument;
  if (std::optional<int> exit =
          ParseOneArgument(flags, args, kHelp, "one folder", &argument, out, err)) {
    return *exit;
  }
  if (!absl::SimpleAtod(rtol, &options.rtol) || !(options.rtol >= 0) ||
      !absl::SimpleAtod(atol, &options.atol) || !(options.atol >= 0)) {
    return UsageError(err, "--rtol and --atol take non-negative numbers");
  }
  options.freeze_inputs = !no_freeze;
  absl::StatusOr<onnx_conformance::ConformanceSummary> summary =
      onnx_conformance::RunConformance(argument, options, quiet ? nullptr : &out);
  if (!summary.ok()) return Failure(err, summary.status());
  out << onnx_conformance::FormatConformanceSummary(*summary);
  return summary->passed >= min_pass ? kExitOk : kExitFailure;
}

}  // namespace

const Command& ConformanceCommand() {
  static const Command command{"conformance",
                               "run ONNX's backend node tests through the importer and runtime",
                               kHelp, ConformanceMain};
  return command;
}

}  // namespace kiln::cli
