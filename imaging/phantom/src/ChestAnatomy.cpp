#include "phantom/ChestAnatomy.h"

#include <algorithm>
#include <cmath>

#include "Random.h"
#include "ShapeMath.h"

namespace phantom {

using detail::ellipseSignedDistance;

ChestAnatomy::ChestAnatomy(const Parameters& parameters) : p_(parameters) {}

ChestAnatomy ChestAnatomy::forCase(std::uint64_t seed, int index) {
  detail::Rng rng(detail::streamKey(seed, index, "anatomy"));
  Parameters p;
  const double s = rng.uniform(0.92, 1.07);
  p.bodyHalfWidthMm = 155 * s * rng.uniform(0.97, 1.03);
  p.bodyHalfDepthMm = 112 * s * rng.uniform(0.95, 1.05);
  p.fatMm = rng.uniform(8, 22);
  p.muscleMm = rng.uniform(9, 13);
  p.apexZMm = -28 + rng.uniform(-6, 6);
  p.carinaZMm = -105 + rng.uniform(-6, 6);
  p.domeRightZMm = -200 + rng.uniform(-10, 10);
  p.domeLeftZMm = p.domeRightZMm - rng.uniform(6, 14);
  p.obliqueRightZMm = -160 + rng.uniform(-8, 8);
  p.obliqueLeftZMm = -155 + rng.uniform(-8, 8);
  p.obliqueSlope = 0.62 + rng.uniform(-0.06, 0.06);
  p.horizontalZMm = std::max(-135 + rng.uniform(-6, 6), p.obliqueRightZMm + 15);
  const double sx = p.bodyHalfWidthMm / 155, sy = p.bodyHalfDepthMm / 112;
  p.heartCenterLps = {22 * sx + rng.uniform(-4, 4), -22 * sy + rng.uniform(-4, 4), p.domeLeftZMm + 22};
  p.heartSemiAxesMm = {56 * sx * rng.uniform(0.93, 1.07), 50 * sy * rng.uniform(0.93, 1.07),
                       48 * rng.uniform(0.93, 1.07)};
  p.vertebraRadiusMm = 16 * s;
  p.aortaRadiusMm = rng.uniform(11.5, 14.5);
  p.zOffsetVertebraMm = rng.uniform(0, 27);
  return ChestAnatomy(p);
}

double ChestAnatomy::chestWallDepthMm(double x, double y) const {
  return -ellipseSignedDistance(x, y, p_.bodyHalfWidthMm, p_.bodyHalfDepthMm);
}

bool ChestAnatomy::insideBody(const std::array<double, 3>& lps) const {
  return chestWallDepthMm(lps[0], lps[1]) > 0;
}

double ChestAnatomy::lungTopZMm(double x, double y) const {
  // Rounded apical dome over an elliptic footprint (narrower front to back).
  const double xa = (x < 0 ? -0.36 : 0.36) * p_.bodyHalfWidthMm;
  const double ya = 0.1 * p_.bodyHalfDepthMm;
  const double rd = 0.5 * p_.bodyHalfWidthMm;
  const double dx = x - xa, dy = 0.7 * (y - ya);
  const double r = std::sqrt(dx * dx + dy * dy);
  const double u = std::min(1.0, r / rd);
  return p_.apexZMm - 70 * (1 - std::sqrt(1 - u * u)) - std::max(0.0, r - rd) * 3;
}

double ChestAnatomy::diaphragmZMm(double x, double y) const {
  const bool right = x < 0;
  const double xc = (right ? -0.42 : 0.42) * p_.bodyHalfWidthMm;
  const double yc = -0.05 * p_.bodyHalfDepthMm;
  const double dx = x - xc, dy = y - yc;
  const double z = (right ? p_.domeRightZMm : p_.domeLeftZMm) - (dx * dx + dy * dy) / (2 * 115.0);
  return std::max(z, -286.0);
}

double ChestAnatomy::mediastinumHalfWidthMm(double z, double y) const {
  // Narrow at the anterior junction line, widest around the trachea / great vessels; a little wider
  // below the carina.
  const double t = std::clamp((p_.carinaZMm + 15 - z) / 30.0, 0.0, 1.0);
  const double yc = y - 8 * t;
  const double core = std::exp(-(yc / (35 + 10 * t)) * (yc / (35 + 10 * t)));
  return 7 + 3 * t + (14 + 4 * t) * core;
}

bool ChestAnatomy::insideHeart(const std::array<double, 3>& lps, double scale) const {
  const auto& c = p_.heartCenterLps;
  const auto& a = p_.heartSemiAxesMm;
  const double dx = (lps[0] - c[0]) / (a[0] * scale), dy = (lps[1] - c[1]) / (a[1] * scale),
               dz = (lps[2] - c[2]) / (a[2] * scale);
  return dx * dx + dy * dy + dz * dz < 1;
}

bool ChestAnatomy::insideLung(const std::array<double, 3>& lps) const {
  const double x = lps[0], y = lps[1], z = lps[2];
  if (chestWallDepthMm(x, y) <= cavityDepthMm()) return false;
  if (z >= lungTopZMm(x, y) || z <= diaphragmZMm(x, y)) return false;
  if (std::abs(x) < mediastinumHalfWidthMm(z, y)) return false;
  const double ys = spineCenterYMm();
  {  // vertebra and paravertebral muscles: the lungs wrap round them
    const double rs = p_.vertebraRadiusMm + 11;
    if (x * x + (y - ys) * (y - ys) < rs * rs) return false;
    if (std::abs(x) < p_.vertebraRadiusMm + 9 && y > ys) return false;
  }
  {
    const auto d = descendingAortaXYMm();
    if (z < archZMm() + 6 && std::hypot(x - d[0], y - d[1]) < p_.aortaRadiusMm + 4) return false;
  }
  {
    // Aortic arch: a half-ring from the ascending to the descending aorta, 16 mm above archZ at its top.
    const auto a = ascendingAortaXYMm(), d = descendingAortaXYMm();
    const double vx = d[0] - a[0], vy = d[1] - a[1];
    const double t = std::clamp(((x - a[0]) * vx + (y - a[1]) * vy) / (vx * vx + vy * vy), 0.0, 1.0);
    const double cx = a[0] + t * vx, cy = a[1] + t * vy, cz = archZMm() + 16 * std::sin(detail::kPi * t);
    const double dist = std::sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz));
    if (dist < p_.aortaRadiusMm + 4) return false;
  }
  if (insideHeart(lps, 1.08)) return false;
  return true;
}

double ChestAnatomy::obliqueFissureZMm(double x, double y) const {
  const double yn = y / (p_.bodyHalfDepthMm / 112.0);
  const double ax = std::abs(x) - 0.45 * p_.bodyHalfWidthMm;
  return (x < 0 ? p_.obliqueRightZMm : p_.obliqueLeftZMm) + p_.obliqueSlope * yn + 0.004 * ax * ax;
}

double ChestAnatomy::horizontalFissureZMm(double x, double y) const {
  const double yn = y / (p_.bodyHalfDepthMm / 112.0);
  const double ax = x + 0.45 * p_.bodyHalfWidthMm;
  return p_.horizontalZMm + 0.15 * yn + 0.003 * ax * ax;
}

Lobe ChestAnatomy::lobeByFissures(const std::array<double, 3>& lps) const {
  const double x = lps[0], y = lps[1], z = lps[2];
  if (x < 0) {
    if (z < obliqueFissureZMm(x, y)) return Lobe::RLL;
    return z < horizontalFissureZMm(x, y) ? Lobe::RML : Lobe::RUL;
  }
  return z < obliqueFissureZMm(x, y) ? Lobe::LLL : Lobe::LUL;
}

std::optional<Lobe> ChestAnatomy::lobeAt(const std::array<double, 3>& lps) const {
  if (!insideLung(lps)) return std::nullopt;
  return lobeByFissures(lps);
}

double ChestAnatomy::fissureDistanceMm(const std::array<double, 3>& lps) const {
  const double x = lps[0], y = lps[1], z = lps[2];
  const double sy = p_.bodyHalfDepthMm / 112.0;
  // |z - f(x, y)| / |grad(z - f)| for the quadric fissure surfaces (analytic gradients).
  const double ax = std::abs(x) - 0.45 * p_.bodyHalfWidthMm;
  const double oblX = 0.008 * ax, oblY = p_.obliqueSlope / sy;
  const double zObl = obliqueFissureZMm(x, y);
  const double dObl = std::abs(z - zObl) / std::sqrt(1 + oblX * oblX + oblY * oblY);
  if (x >= 0 || z < zObl) return dObl;  // the horizontal fissure exists only above the oblique one
  const double hx = 0.006 * (x + 0.45 * p_.bodyHalfWidthMm), hy = 0.15 / sy;
  const double dHor = std::abs(z - horizontalFissureZMm(x, y)) / std::sqrt(1 + hx * hx + hy * hy);
  return std::min(dObl, dHor);
}

}  // namespace phantom
