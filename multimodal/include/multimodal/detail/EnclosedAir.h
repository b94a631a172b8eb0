#pragma once
/// detail/EnclosedAir: the connected air regions inside the body on preprocessing's lattice, the lung
/// mask's first step (multimodal/src/Preprocessing.cpp), exposed for its tests.
///
///   std::vector<float> hu = ...;                        // nx * ny * nz, i fastest
///   auto air = multimodal::detail::enclosedAir(hu.data(), {nx, ny, nz}, -400.0);
///   air.voxels[c];                                      // voxels of component c (c in raster order)
///   for (const auto& r : air.runs) ...;                 // r.begin..r.end of row (r.j, r.k) is in r.component
///
/// Voxels below the threshold are air; 6-connected components of air that reach none of the lateral faces
/// (i = 0, i = nx - 1, j = 0, j = ny - 1) are enclosed. The top and bottom slices are not faces: air there
/// is enclosed unless it connects to a lateral face. Components are numbered in the raster order (i, then
/// j, then k) of their first voxel, which is the order in which a raster scan with a flood fill meets them.
/// Run-length labelling with union-find: a few milliseconds for a 150^2 x 130 lattice on one core.
#include <array>

#include "imaging/MaskComponents.h"

namespace multimodal::detail {

/// The enclosed air components of `values` (dims[0] * dims[1] * dims[2], i fastest): voxels with
/// value < threshold (compared in double); every voxel of every enclosed component in one run, in raster order.
imaging::MaskComponents enclosedAir(const float* values, const std::array<int, 3>& dims, double threshold);

}  // namespace multimodal::detail
