#pragma once
/// Preprocessing: the ONE function that turns a chest CT into the image model's input, used by training,
/// evaluation, inference and explanations alike.
///
///   multimodal::PreprocessOptions opt;                 // 128^3 grid at 2.5 mm, lung window
///   auto pre = multimodal::preprocessVolume(ct, opt);
///   if (!pre.inScope) std::cerr << pre.reason;         // e.g. "slices are 5.0 mm thick (max 3.0 mm)"
///   pre.values;      // gridSize^3 floats in [-1, 1], i (L) fastest, then j (P), then k (S)
///   pre.originLps;   // LPS centre of voxel (0,0,0); the grid is axis-aligned with spacingMm
///
/// Steps: scope checks (slice thickness, z coverage, axis-aligned orientation) -> one anti-aliased
/// resample (separable tent filter of width max(input, output spacing), int16 read directly) of the
/// whole volume onto the absolute LPS lattice of multiples of 2.5 mm -> lung mask on that lattice
/// (air < -400 HU inside the body: outside air flood-filled from the lateral faces, the one or two
/// largest components kept) -> the 128^3 sub-block centred on the lung centroid (air outside the scan)
/// -> lung window [-1350, 150] HU to [-1, 1]. Because every step works in millimetres on a lattice fixed
/// in patient space, a full-size and a small phantom of the same case give nearly the same tensor.
/// Limitations: oblique (non axis-aligned) volumes are out of scope.
#include <array>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"

namespace multimodal {

struct PreprocessOptions {
  int gridSize = 128;              ///< voxels per side of the model grid
  double spacingMm = 2.5;          ///< isotropic model grid spacing
  double airThresholdHu = -400;    ///< lung/air threshold
  double windowLowHu = -1350, windowHighHu = 150;  ///< lung window W1500/L-600
  double maxSliceSpacingMm = 3.0;  ///< thicker slices: out of scope
  double minZCoverageMm = 150;     ///< shorter scans: out of scope
  double minLungVolumeMl = 400;    ///< less air inside the body: "no lungs found"
  int threads = 0;                 ///< 0: hardware concurrency (at most 8)
  /// Where the resample (the costly step) runs: "cpu", or a LibTorch device such as "cuda" (the batch
  /// pipeline on a GPU machine), where it equals the CPU's up to float rounding (~1e-5 of a HU window).
  /// The lung mask and the crop always run on the CPU. Not stored with the weights.
  std::string device = "cpu";
};

struct PreprocessedVolume {
  bool inScope = false;
  std::string reason;                    ///< why out of scope (empty when in scope)
  int gridSize = 0;
  double spacingMm = 0;
  std::array<double, 3> originLps{};     ///< centre of voxel (0,0,0) of the model grid
  std::vector<float> values;             ///< gridSize^3, i fastest; empty when out of scope
  double lungVolumeMl = 0;
  std::array<double, 3> lungCentroidLps{};
  std::array<double, 3> lungMinLps{}, lungMaxLps{};  ///< bounding box of the lung mask
  double seconds = 0;                    ///< wall time of this call
  double deviceWaitSeconds = 0;          ///< of `seconds`: blocked waiting for the device's resample
};

/// Never throws for out-of-scope input (it reports it); throws ModelError for impossible geometry or an
/// unusable `device`.
PreprocessedVolume preprocessVolume(const imaging::CtVolume& volume, const PreprocessOptions& options = {});

/// Resamples `volume` onto an axis-aligned LPS grid (size, spacing, origin) with the tent filter used by
/// preprocessVolume; voxels outside the volume read as air. Output i (L) fastest. Exposed for tests.
std::vector<float> resampleToGrid(const imaging::CtVolume& volume, const std::array<int, 3>& size,
                                  const std::array<double, 3>& spacingMm, const std::array<double, 3>& originLps,
                                  int threads = 0);

}  // namespace multimodal
