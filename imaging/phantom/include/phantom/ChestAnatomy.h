#pragma once
/// ChestAnatomy: the analytic chest of one synthetic case, in DICOM LPS millimetres.
///
/// Smooth geometric shapes (ellipses, ellipsoids, quadric domes, fissure planes) describe the body outline,
/// chest-wall layers, rib ring, spine, sternum, heart, mediastinum, diaphragm and both lungs, which are split
/// into lobes by an oblique fissure (both lungs) and a horizontal fissure (right lung), gently curved
/// surfaces. Because the shapes live in millimetres, every grid (SizePreset::Small and ::Full) shows the same
/// anatomy, and lobeAt() gives the lobe of any point consistently with the rendered volume and the nodules'
/// truth.
///
///   auto chest = phantom::ChestAnatomy::forCase(/*seed=*/42, /*index=*/7);
///   if (auto lobe = chest.lobeAt({-60, 10, -120})) std::cout << phantom::toString(*lobe);
///
/// Limitations: no segmental anatomy, no scapulae/clavicles/arms; vessel and airway trees are grown at
/// render time (see CohortGenerator) and are not part of this class.
#include <array>
#include <cstdint>
#include <optional>

#include "phantom/CohortGenerator.h"

namespace phantom {

class ChestAnatomy {
 public:
  /// Shape parameters of one chest (mm, LPS; x to patient left, y to posterior, z to superior).
  struct Parameters {
    double bodyHalfWidthMm = 155;  ///< body outline ellipse, centred on x = y = 0
    double bodyHalfDepthMm = 112;
    double fatMm = 14;     ///< subcutaneous fat thickness
    double muscleMm = 11;  ///< chest-wall muscle thickness
    double apexZMm = -28;  ///< top of the lungs
    double carinaZMm = -105;
    double domeRightZMm = -200;  ///< top of the right hemidiaphragm
    double domeLeftZMm = -210;
    double obliqueRightZMm = -160;  ///< right oblique fissure height at y = 0
    double obliqueLeftZMm = -155;
    double obliqueSlope = 0.62;   ///< dz/dy of the oblique fissures (higher posteriorly)
    double horizontalZMm = -135;  ///< right horizontal fissure height
    std::array<double, 3> heartCenterLps{22, -22, -188};
    std::array<double, 3> heartSemiAxesMm{56, 50, 48};
    double vertebraRadiusMm = 16;
    double aortaRadiusMm = 13;
    double zOffsetVertebraMm = 0;  ///< phase of the vertebra / disc pattern
  };

  explicit ChestAnatomy(const Parameters& parameters);
  /// The anatomy that CohortGenerator(seed).generate(index) renders.
  static ChestAnatomy forCase(std::uint64_t seed, int index);

  const Parameters& parameters() const { return p_; }

  bool insideBody(const std::array<double, 3>& lps) const;
  bool insideLung(const std::array<double, 3>& lps) const;
  /// Lobe of a point inside the lungs; std::nullopt outside them.
  std::optional<Lobe> lobeAt(const std::array<double, 3>& lps) const;
  /// Lobe the fissure planes assign to a point, whether or not it is inside the lungs (x < 0: right lung).
  Lobe lobeByFissures(const std::array<double, 3>& lps) const;
  /// Height (mm) of the oblique fissure of the lung on the side of x (gently curved surface z = f(x, y)).
  double obliqueFissureZMm(double x, double y) const;
  /// Height (mm) of the right horizontal fissure.
  double horizontalFissureZMm(double x, double y) const;
  /// Distance (mm) from the nearest fissure surface of the point's lung.
  double fissureDistanceMm(const std::array<double, 3>& lps) const;

  // Landmarks the renderer and the vessel/airway trees use (mm).
  double chestWallDepthMm(double x, double y) const;  ///< depth below the skin, negative outside the body
  double cavityDepthMm() const { return p_.fatMm + p_.muscleMm + 11; }  ///< where the thoracic cavity starts
  double ribRingDepthMm() const { return p_.fatMm + p_.muscleMm + 5; }
  double lungTopZMm(double x, double y) const;
  double diaphragmZMm(double x, double y) const;
  double mediastinumHalfWidthMm(double z, double y) const;
  double spineCenterYMm() const { return 0.45 * p_.bodyHalfDepthMm; }
  double tracheaYMm() const { return spineCenterYMm() - 44; }
  double esophagusYMm() const { return spineCenterYMm() - 25; }
  double sternumYMm() const { return -(p_.bodyHalfDepthMm - ribRingDepthMm()); }
  double archZMm() const { return p_.carinaZMm + 22; }
  std::array<double, 2> descendingAortaXYMm() const { return {20, spineCenterYMm() - 16}; }
  std::array<double, 2> ascendingAortaXYMm() const { return {-14, -20}; }
  bool insideHeart(const std::array<double, 3>& lps, double scale = 1.0) const;

 private:
  Parameters p_;
};

}  // namespace phantom
