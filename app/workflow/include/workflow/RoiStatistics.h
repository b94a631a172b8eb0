#pragma once
/// RoiStatistics: HU statistics of a 2-D region of interest on one slice of a CtVolume, and ruler
/// distances in millimetres. Pure computations (no Qt, no VTK) used by the viewer's ROI and ruler tools
/// and testable without a display.
///
///   workflow::CircleRoi roi;
///   roi.normalAxis = 2;            // axial: the plane k = roi.slice
///   roi.slice = 150;
///   roi.centreIjk = {256, 256, 150};
///   roi.radiusMm = 10;
///   workflow::RoiStatistics s = workflow::computeRoiStatistics(ct, roi);
///   s.meanHu; s.sdHu; s.minHu; s.maxHu; s.areaMm2; s.voxelCount;
///   double d = workflow::distanceMm(ct.geometry(), {10, 20, 30}, {40, 20, 30});
///
/// A voxel belongs to a region when its centre lies inside it. Circles are circles in millimetres, so
/// they cover an ellipse of voxels when the in-plane spacing is anisotropic (coronal/sagittal planes).
/// Limitations: in-plane distances use the voxel spacing (the grid's direction cosines are orthonormal).
#include <array>
#include <cstddef>

#include "imaging/CtVolume.h"

namespace workflow {

/// HU statistics of the voxels inside a region; all zero and voxelCount 0 when the region is empty.
struct RoiStatistics {
  std::size_t voxelCount = 0;
  double areaMm2 = 0;  ///< voxelCount times the in-plane voxel area
  double meanHu = 0;
  double sdHu = 0;  ///< population standard deviation
  int minHu = 0;
  int maxHu = 0;
};

/// A circle on the plane `normalAxis` (0 = i/sagittal, 1 = j/coronal, 2 = k/axial) at index `slice`.
struct CircleRoi {
  int normalAxis = 2;
  int slice = 0;
  std::array<double, 3> centreIjk{0, 0, 0};  ///< continuous voxel index; the normal component is ignored
  double radiusMm = 0;
};

/// An axis-aligned rectangle on a slice plane between two corners given as continuous voxel indices
/// (the normal components are ignored; corners may be given in any order).
struct RectangleRoi {
  int normalAxis = 2;
  int slice = 0;
  std::array<double, 3> cornerAIjk{0, 0, 0};
  std::array<double, 3> cornerBIjk{0, 0, 0};
};

/// Statistics of the voxels of `volume` whose centres lie inside `roi` (clipped to the volume).
/// Throws std::invalid_argument for a normal axis outside 0..2.
RoiStatistics computeRoiStatistics(const imaging::CtVolume& volume, const CircleRoi& roi);
RoiStatistics computeRoiStatistics(const imaging::CtVolume& volume, const RectangleRoi& roi);

/// Euclidean distance in millimetres between two continuous voxel indices of `geometry`.
double distanceMm(const imaging::VolumeGeometry& geometry, const std::array<double, 3>& ijkA,
                  const std::array<double, 3>& ijkB);

}  // namespace workflow
