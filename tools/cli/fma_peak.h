// The machine's measured f32 FMA peak: what `kiln bench` divides its GFLOP/s by, measured
// in the same run so a busy or throttled machine lowers both.
#ifndef KILN_TOOLS_CLI_FMA_PEAK_H_
#define KILN_TOOLS_CLI_FMA_PEAK_H_

namespace kiln::cli {

// GFLOP/s of `threads` threads each running independent vector FMA chains (AVX-512 where
// the CPU has it, else AVX2 + FMA, else SSE multiply-add) for about `seconds`; a fused
// multiply-add counts two FLOPs.
double MeasureFmaPeakGflops(int threads, double seconds);

}  // namespace kiln::cli

#endif  // KILN_TOOLS_CLI_FMA_PEAK_H_
