#pragma once
/// Findings: torch-free steps that turn a feature-grid CAM into findings on the CT (used by Explainer,
/// exposed for tests): CAM -> CT grid, CAM components, nodule measurement on the CT, lobe from position.
///
///   auto hm = explain::camToCtGrid(cells, 32, 10.0, originLps, ct.geometry());
///   auto comps = explain::camComponents(cellsNormalised, 32, 10.0, originLps, 0.5);
///   auto f = explain::measureNoduleNear(ct, comps[0], hm);   // region growing on the CT
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "explain/Explanation.h"
#include "imaging/CtVolume.h"

namespace explain {

/// Resamples a cells^3 grid (i fastest, cell (0,0,0) centred at originLps, axis-aligned LPS with spacing
/// cellMm) onto every voxel of `ct` (axis-aligned, any axis flips) with a uniform cubic B-spline whose
/// coefficients are the cell values (smooth, non-negative weights, no overshoot). Unlike trilinear
/// interpolation, whose maximum always sits on a cell centre, the B-spline's maximum moves towards the
/// stronger neighbours, i.e. between cell centres (it smooths by about one cell: a single cell of 1 gives
/// (2/3)^3 at its centre). Outside the cell grid's hull the position is clamped to the nearest cell centre,
/// edge cells repeat. Throws ExplainError for an oblique CT.
std::vector<float> camToCtGrid(const std::vector<float>& cellValues, int cells, double cellMm,
                               const std::array<double, 3>& originLps, const imaging::VolumeGeometry& ct,
                               int threads = 0);

/// A connected region (26-neighbourhood) of the cell grid with value >= threshold * max.
struct CamComponent {
  double peak = 0;                    ///< normalised 0..1
  std::array<double, 3> peakLps{};
  std::array<double, 3> minLps{}, maxLps{};  ///< bounding box of the cells (cell centres +- half a cell)
  int cellsCount = 0;
  double volumeMl = 0;
};
std::vector<CamComponent> camComponents(const std::vector<float>& cellValues01, int cells, double cellMm,
                                        const std::array<double, 3>& originLps, double threshold);

/// CAM-weighted centroid (LPS, mm) of the 3x3x3 cells around the maximal cell of a cells^3 grid (frame as
/// camComponents). A sub-cell localisation computed from the CAM alone (no CT); it is not the CAM's
/// argmax on the CT grid (the pointing game), and is reported beside it, never instead of it.
std::array<double, 3> camCentroidNearPeak(const std::vector<float>& cellValues, int cells, double cellMm,
                                          const std::array<double, 3>& originLps);

/// Measures the most nodule-like structure of the CT whose centroid lies inside the component's box (plus
/// a margin): connected regions > -750 HU (GGO included), labelled in a region 24 mm larger so that large
/// and spiculated nodules are whole, dropped when they still touch it (vessel trees, chest wall); also the
/// pieces left after eroding by ~2/4/6 mm and growing back (detaches spikes and vessels); scored by
/// compactness, roundness (3-D second moments: vessels are tubular), size and CAM. Type from the > -300 HU
/// core (its diameter and share); diameter = mean of the long and short axis (second moments) on the axial
/// slice of largest area, at -400 HU (solid) / -725 HU (sub-solid). camOnCt may be empty.
/// Limitation: a nodule merged with the hilum or mediastinum at every erosion step is not found.
Finding measureNoduleNear(const imaging::CtVolume& ct, const CamComponent& component,
                          const std::vector<float>& camOnCt, double marginMm = 12.0);

/// Lobe from an LPS position: fissure planes of the phantom's reference chest (phantom::ChestAnatomy
/// defaults), after moving this scan's lung centroid (4 mm lung mask of preprocessing, which includes
/// the trachea) onto the reference chest's. Returns {lobe, distance to the nearest fissure (mm)}.
/// Limitation: a geometric rule (no fissure detection); near a fissure the lobe is uncertain.
std::pair<std::string, double> lobeFromPosition(const std::array<double, 3>& lps,
                                                const std::array<double, 3>& lungCentroidLps);
std::string lobeRuleDescription();

/// Spearman rank correlation of two equally long vectors (ties get mean ranks).
double spearman(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace explain
