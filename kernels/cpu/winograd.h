// Winograd's minimal filtering F(m x m, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015) for 3x3 stride-1 NHWC convolutions, m = 4 or 2: an
// (m + 2)^2 input tile d and a 3x3 filter g give the m x m output tile
// Y = A^T [(G g G^T) . (B^T d B)] A, with (m + 2)^2 multiplications per tile and channel
// pair instead of 9 m^2 (36 for 144, 16 for 36). The filter half (U = G g G^T) runs once,
// at compile time; the kernel transforms input and output tiles and multiplies U and V as
// (m + 2)^2 GEMMs (kernels/cpu/winograd_conv.cc). F(4x4) saves more multiplications; F(2x2)
// has the smaller transformed filter (16/9 of the plain one's bytes rather than 36/9) and
// covers small images (7 x 7) with less padding.
#ifndef KILN_KERNELS_CPU_WINOGRAD_H_
#define KILN_KERNELS_CPU_WINOGRAD_H_

#include <cstdint>

namespace kiln::cpu {

// Transformed positions of F(m x m, 3x3): one GEMM each.
constexpr int WinogradPositions(int m) { return (m + 2) * (m + 2); }
// The output tile edge m of a transformed filter with `positions` positions (36 or 16),
// or 0 when it is neither.
constexpr int WinogradTileOf(int64_t positions) {
  return positions == 36 ? 4 : positions == 16 ? 2 : 0;
}

// Floats of the packed transformed filter of c input and o output channels for output
// tiles of m x m and a GEMM panel width nr: WinogradPositions(m) x PackedBFloats(o, c, nr).
int64_t WinogradFilterFloats(int m, int64_t c, int64_t o, int64_t nr);

// The HWIO 3x3 filter [3, 3, c, o] transformed for F(m x m, 3x3) (U = G g G^T, computed in
// double) and packed for the GEMM: position xi = (m + 2) i + j holds U[i][j] as a c x o
// matrix packed by PackBPanels in panels of nr, at dst + xi * PackedBFloats(o, c, nr). dst
// holds WinogradFilterFloats(m, c, o, nr) floats; m is 2 or 4.
void PackWinogradFilter(int m, const float* hwio, int64_t c, int64_t o, int64_t nr, float* dst);

}  // namespace kiln::cpu

#endif  // KILN_KERNELS_CPU_WINOGRAD_H_
