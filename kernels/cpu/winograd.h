// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015) for 3x3 stride-1 NHWC convolutions: a 6x6 input
// tile d and a 3x3 filter g give the 4x4 output tile Y = A^T [(G g G^T) . (B^T d B)] A,
// 36 multiplications per tile and channel pair instead of 144. The filter half
// (U = G g G^T) runs once, at compile time; the kernel transforms input and output tiles
// and multiplies U and V as 36 GEMMs (kernels/cpu/winograd_conv.cc).
#ifndef KILN_KERNELS_CPU_WINOGRAD_H_
#define KILN_KERNELS_CPU_WINOGRAD_H_

#include <cstdint>

namespace kiln::cpu {

// Output tile edge m, filter edge r and input tile edge m + r - 1.
inline constexpr int kWinogradTile = 4;
inline constexpr int kWinogradFilter = 3;
inline constexpr int kWinogradInputTile = kWinogradTile + kWinogradFilter - 1;
// Transformed positions per tile: one GEMM each.
inline constexpr int kWinogradPoints = kWinogradInputTile * kWinogradInputTile;

// The filter transform G (6 x 3).
extern const double kWinogradG[kWinogradInputTile][kWinogradFilter];

// Floats of the packed transformed filter of c input and o output channels for a GEMM
// panel width nr: kWinogradPoints x PackedBFloats(o, c, nr).
int64_t WinogradFilterFloats(int64_t c, int64_t o, int64_t nr);

// The HWIO 3x3 filter [3, 3, c, o] transformed (U = G g G^T, computed in double) and
// packed for the GEMM: position xi = 6 * i + j holds U[i][j] as a c x o matrix packed by
// PackBPanels in panels of nr, at dst + xi * PackedBFloats(o, c, nr). dst holds
// WinogradFilterFloats(c, o, nr) floats.
void PackWinogradFilter(const float* hwio, int64_t c, int64_t o, int64_t nr, float* dst);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_WINOGRAD_H_
