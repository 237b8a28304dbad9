// The machine's measured copy bandwidth: what `kiln bench` compares a model's memory
// traffic with (bandwidth-bound models such as long elementwise chains), measured in the
// same run so a busy machine lowers both.
#ifndef KILN_TOOLS_CLI_COPY_BANDWIDTH_H_
#define KILN_TOOLS_CLI_COPY_BANDWIDTH_H_

#include <cstdint>

namespace kiln::cli {

// GB/s (bytes read plus bytes written) of `threads` threads copying one buffer of `bytes`
// into another, each thread its own contiguous part, for about `seconds`; the buffers are
// touched first, so page faults are not counted. The median over the repetitions.
double MeasureCopyBandwidthGbs(int threads, int64_t bytes, double seconds);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_COPY_BANDWIDTH_H_
