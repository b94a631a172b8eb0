// Renders a case's chest CT: analytic anatomy per voxel (anti-aliased edges), tube trees (airways with
// walls, pulmonary vessels that branch and taper, aorta and great vessels), emphysema blobs, nodules with
// spikes, then in-plane Gaussian blur (kernel) and counter-based Gaussian noise (dose). Slices are
// independent, so they are filled by several threads and the output does not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "Internal.h"
#include "ShapeMath.h"

namespace phantom::detail {
namespace {

constexpr double kRibDropMm = 85;  // how much lower a rib is at the front than at the back

enum Label : std::uint8_t { kAir, kWall, kBone, kLung, kMediastinum, kHeart, kAbdomen };

enum class TubeKind : std::uint8_t { Mediastinal, LungVessel, AirwayWall, AirwayLumen, Esophagus, Spike };

struct Tube {
  Vec3 a, b;
  double ra = 1, rb = 1;
  float hu = 40;
  TubeKind kind = TubeKind::LungVessel;
  double zLo = 0, zHi = 0;  // z extent including the radius
};

struct Blob {
  Vec3 c;
  double r;
};

struct NoduleShape {
  Vec3 c, u, v, w;
  double a, b, cz;       // semi-axes (mm) along u, v, w
  double coreScale = 0;  // part-solid core relative size; 0 = none
  float outerHu = 40, coreHu = 40;
  double calcScale = 0;  // calcified centre relative size; 0 = none
  float calcHu = 650;
  double boundMm = 0;                          // bounding radius incl. spikes
  double bodyMm = 0;                           // largest semi-axis (for the vessel fade)
  double lobulation = 0, lobulationPhase = 0;  // gentle 3-lobed surface modulation (relative)
  std::vector<Tube> spikes;
};

Tube makeTube(const Vec3& a, const Vec3& b, double ra, double rb, float hu, TubeKind kind) {
  Tube t{a, b, ra, rb, hu, kind, 0, 0};
  const double r = std::max(ra, rb);
  t.zLo = std::min(a[2], b[2]) - r;
  t.zHi = std::max(a[2], b[2]) + r;
  return t;
}

Vec3 randomUnit(Rng& r) {
  const double z = r.uniform(-1, 1), phi = r.uniform(0, kTwoPi), s = std::sqrt(1 - z * z);
  return {s * std::cos(phi), s * std::sin(phi), z};
}

class Scene {
 public:
  Scene(const Case& c, const ChestAnatomy& a, std::uint64_t seed) : c_(c), A_(a), P_(a.parameters()) {
    Rng trees(streamKey(seed, c.index, "trees"));
    buildMediastinum();
    buildAirways(trees);
    buildVessels(trees);
    if (c.emphysema) {
      Rng em(streamKey(seed, c.index, "emphysema"));
      buildEmphysema(em);
    }
    for (std::size_t n = 0; n < c.nodules.size(); ++n) {
      Rng nr(streamKey(seed, c.index, "nodule-shape-" + std::to_string(n)));
      nodules_.push_back(buildNodule(c.nodules[n], nr));
    }
  }

  void renderSlice(double z, const imaging::VolumeGeometry& g, float* out, std::uint8_t* label) const;

 private:
  bool inLungSide(const Vec3& p, bool right) const { return (p[0] < 0) == right && A_.insideLung(p); }
  void buildMediastinum();
  void buildAirways(Rng& r);
  void buildVessels(Rng& r);
  void buildEmphysema(Rng& r);
  NoduleShape buildNodule(const Nodule& n, Rng& r) const;
  void grow(Rng& r, bool right, const Vec3& p, const Vec3& dir, double len, double rad, int gen, int maxGen,
            double minRad, float hu, TubeKind kind, std::vector<Tube>& out, int depthLimitTubes) const;
  float analytic(double x, double y, double z, std::uint8_t& label, double h) const;

  const Case& c_;
  const ChestAnatomy& A_;
  const ChestAnatomy::Parameters& P_;
  std::vector<Tube> tubes_;    // painted in order: mediastinal, vessels, esophagus
  std::vector<Tube> airways_;  // walls first, then lumens
  std::vector<Blob> blobs_;
  std::vector<NoduleShape> nodules_;
};

void Scene::buildMediastinum() {
  const auto asc = A_.ascendingAortaXYMm();
  const auto desc = A_.descendingAortaXYMm();
  const double zArch = A_.archZMm();
  const double heartTop = P_.heartCenterLps[2] + 0.55 * P_.heartSemiAxesMm[2];
  const double ra = P_.aortaRadiusMm;
  tubes_.push_back(makeTube({asc[0], asc[1], heartTop}, {asc[0], asc[1], zArch}, ra * 1.1, ra * 1.05, 40,
                            TubeKind::Mediastinal));
  Vec3 prev{asc[0], asc[1], zArch};
  for (int s = 1; s <= 8; ++s) {
    const double t = s / 8.0;
    Vec3 p{asc[0] + (desc[0] - asc[0]) * t, asc[1] + (desc[1] - asc[1]) * t, zArch + 16 * std::sin(kPi * t)};
    tubes_.push_back(
        makeTube(prev, p, ra * (1.05 - 0.1 * t), ra * (1.05 - 0.1 * (t + 0.125)), 40, TubeKind::Mediastinal));
    prev = p;
  }
  tubes_.push_back(makeTube({desc[0], desc[1], zArch}, {desc[0] - 4, desc[1] - 4, -300}, ra * 0.95, ra * 0.85,
                            40, TubeKind::Mediastinal));
  // Great vessels from the arch to the neck, superior vena cava, pulmonary trunk.
  const double archTop = zArch + 14;
  tubes_.push_back(makeTube({-10, -16, archTop}, {-22, -8, 0}, 6.5, 5.5, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube({4, -12, archTop}, {10, -6, 0}, 4.5, 4.0, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube({14, -2, archTop}, {26, 4, 0}, 5.0, 4.5, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube({-32, -8, 0}, {-30, -10, heartTop}, 8.5, 9.5, 40, TubeKind::Mediastinal));
  const Vec3 trunkTop{8, -18, P_.carinaZMm - 12};
  tubes_.push_back(makeTube({12, -38, heartTop - 10}, trunkTop, 13, 12, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube(trunkTop, {-40, -4, P_.carinaZMm - 22}, 11, 9, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube(trunkTop, {42, 4, P_.carinaZMm - 16}, 11, 9, 40, TubeKind::Mediastinal));
  tubes_.push_back(makeTube({0, A_.esophagusYMm(), 0}, {6, A_.esophagusYMm() - 2, -265}, 7.5, 7.5, 35,
                            TubeKind::Esophagus));
}

void Scene::grow(Rng& r, bool right, const Vec3& p, const Vec3& dir, double len, double rad, int gen,
                 int maxGen, double minRad, float hu, TubeKind kind, std::vector<Tube>& out,
                 int depthLimitTubes) const {
  if (static_cast<int>(out.size()) >= depthLimitTubes) return;
  Vec3 d{}, q{};
  bool ok = false;
  for (int attempt = 0; attempt < 10 && !ok; ++attempt) {
    const double jitter = attempt == 0 ? 0.15 : 0.55;
    const double l = attempt < 6 ? len : len * 0.6;
    d = normalized(add(dir, mul(randomUnit(r), jitter)));
    q = add(p, mul(d, l));
    ok = inLungSide(q, right) && inLungSide(add(p, mul(d, 0.5 * l)), right);
  }
  if (!ok) return;
  const double rEnd = rad * 0.93;
  if (kind == TubeKind::AirwayWall) {
    const double wall = 0.6 + 0.22 * rad;
    out.push_back(makeTube(p, q, rad + wall, rEnd + 0.6 + 0.22 * rEnd, hu, TubeKind::AirwayWall));
    out.push_back(makeTube(p, q, rad, rEnd, -1000, TubeKind::AirwayLumen));
  } else {
    out.push_back(makeTube(p, q, rad, rEnd, hu, kind));
  }
  if (gen >= maxGen || rEnd * 0.72 < minRad) return;
  const Vec3 axis = normalized(cross(d, randomUnit(r)));
  const double a1 = r.uniform(0.30, 0.55), a2 = r.uniform(0.45, 0.85);
  const Vec3 d1 = rotate(d, axis, a1), d2 = rotate(d, axis, -a2);
  grow(r, right, q, d1, len * r.uniform(0.78, 0.92), rEnd * 0.84, gen + 1, maxGen, minRad, hu, kind, out,
       depthLimitTubes);
  grow(r, right, q, d2, len * r.uniform(0.65, 0.82), rEnd * 0.72, gen + 1, maxGen, minRad, hu, kind, out,
       depthLimitTubes);
}

void Scene::buildAirways(Rng& r) {
  const double ty = A_.tracheaYMm(), zc = P_.carinaZMm;
  const Vec3 top{0, ty - 4, 0}, carina{0, ty, zc};
  const Vec3 rb{-30, ty + 6, zc - 20}, lb{36, ty + 8, zc - 34}, bi{-36, ty + 4, zc - 42};
  std::vector<Tube> walls;
  auto tube = [&](const Vec3& a, const Vec3& b, double lumen0, double lumen1) {
    walls.push_back(makeTube(a, b, lumen0 + 2.0, lumen1 + 1.8, 40, TubeKind::AirwayWall));
    walls.push_back(makeTube(a, b, lumen0, lumen1, -1000, TubeKind::AirwayLumen));
  };
  tube(top, carina, 8.5, 8.0);
  tube(carina, rb, 6.5, 6.0);
  tube(carina, lb, 5.8, 5.4);
  tube(rb, bi, 5.2, 5.0);
  const int maxTubes = 900;
  grow(r, true, rb, {-0.8, 0.1, 0.6}, 16, 4.2, 0, 4, 0.9, 40, TubeKind::AirwayWall, walls, maxTubes);  // RUL
  grow(r, true, bi, {-0.4, -1.0, -0.3}, 15, 3.4, 0, 3, 0.9, 40, TubeKind::AirwayWall, walls,
       maxTubes);                                                                                       // RML
  grow(r, true, bi, {-0.3, 0.5, -1.0}, 18, 4.4, 0, 4, 0.9, 40, TubeKind::AirwayWall, walls, maxTubes);  // RLL
  grow(r, false, lb, {0.6, -0.4, 0.7}, 16, 4.2, 0, 4, 0.9, 40, TubeKind::AirwayWall, walls, maxTubes);  // LUL
  grow(r, false, lb, {0.3, 0.5, -1.0}, 18, 4.4, 0, 4, 0.9, 40, TubeKind::AirwayWall, walls, maxTubes);  // LLL
  for (const auto& t : walls)
    if (t.kind == TubeKind::AirwayWall) airways_.push_back(t);
  for (const auto& t : walls)
    if (t.kind == TubeKind::AirwayLumen) airways_.push_back(t);
}

void Scene::buildVessels(Rng& r) {
  const double zc = P_.carinaZMm;
  const int maxTubes = static_cast<int>(tubes_.size()) + 3000;
  // Pulmonary arteries from the hila, along the lobar bronchi.
  const Vec3 rh{-40, -4, zc - 22}, lh{42, 4, zc - 16};
  struct Root {
    bool right;
    Vec3 p, dir;
    double len, rad;
  };
  const Root arteries[] = {{true, rh, {-0.8, -0.1, 0.7}, 22, 4.8}, {true, rh, {-0.5, -1.0, -0.4}, 18, 3.6},
                           {true, rh, {-0.4, 0.4, -1.0}, 24, 5.0}, {true, rh, {-0.9, 0.5, 0.1}, 20, 3.8},
                           {false, lh, {0.6, -0.3, 0.8}, 22, 4.6}, {false, lh, {0.5, -1.0, -0.2}, 20, 3.6},
                           {false, lh, {0.3, 0.5, -1.0}, 24, 5.0}, {false, lh, {0.9, 0.4, 0.1}, 20, 3.8}};
  for (const auto& a : arteries)
    grow(r, a.right, a.p, a.dir, a.len, a.rad, 0, 7, 0.55, 40, TubeKind::LungVessel, tubes_, maxTubes);
  // Pulmonary veins from the left atrium (back of the heart).
  const auto& hc = P_.heartCenterLps;
  const auto& hs = P_.heartSemiAxesMm;
  const Vec3 la{hc[0] - 12, hc[1] + 0.65 * hs[1], hc[2] + 0.35 * hs[2]};
  const Root veins[] = {{true, {-44, la[1] - 2, la[2] + 18}, {-0.7, -0.2, 0.7}, 22, 4.4},
                        {true, {-44, la[1] + 6, la[2] - 8}, {-0.6, 0.3, -0.8}, 22, 4.4},
                        {false, {48, la[1] - 2, la[2] + 20}, {0.7, -0.2, 0.7}, 22, 4.2},
                        {false, {48, la[1] + 6, la[2] - 6}, {0.6, 0.3, -0.8}, 22, 4.2}};
  for (const auto& v : veins) {
    tubes_.push_back(makeTube(la, v.p, 5.5, 5.0, 40, TubeKind::Mediastinal));
    grow(r, v.right, v.p, v.dir, v.len, v.rad, 0, 7, 0.55, 40, TubeKind::LungVessel, tubes_, maxTubes);
  }
}

void Scene::buildEmphysema(Rng& r) {
  const int n = r.uniformInt(90, 220);
  const double xMax = P_.bodyHalfWidthMm - A_.cavityDepthMm(), yMax = P_.bodyHalfDepthMm - A_.cavityDepthMm();
  for (int tries = 0; tries < 20000 && static_cast<int>(blobs_.size()) < n; ++tries) {
    // Upper-zone predominant (centrilobular emphysema of smokers).
    const double u = r.uniform();
    const Vec3 c{r.uniform(-xMax, xMax), r.uniform(-yMax, yMax), P_.apexZMm - 200 * u * u};
    if (!A_.insideLung(c)) continue;
    blobs_.push_back({c, r.uniform(2.0, 7.5)});
  }
}

NoduleShape Scene::buildNodule(const Nodule& n, Rng& r) const {
  NoduleShape s;
  s.c = n.centerLps;
  const double th = r.uniform(0, kTwoPi);
  s.u = {std::cos(th), std::sin(th), 0};
  s.v = {-std::sin(th), std::cos(th), 0};
  s.w = {0, 0, 1};
  s.a = 0.5 * n.longAxisMm;
  s.b = 0.5 * n.shortAxisMm;
  s.cz = 0.5 * n.diameterMm;
  s.lobulation = r.uniform(0.0, 0.06);
  s.lobulationPhase = r.uniform(0, kTwoPi);
  s.bodyMm = std::max({s.a, s.b, s.cz}) * (1 + s.lobulation);
  switch (n.type) {
    case clinical::NoduleType::Solid:
      s.outerHu = static_cast<float>(r.uniform(25, 55));
      break;
    case clinical::NoduleType::PartSolid:
      s.outerHu = static_cast<float>(r.uniform(-590, -510));
      s.coreHu = static_cast<float>(r.uniform(15, 45));
      s.coreScale = n.solidDiameterMm / n.diameterMm;
      break;
    case clinical::NoduleType::NonSolid:
      s.outerHu = static_cast<float>(r.uniform(-640, -560));
      break;
  }
  if (n.calcified) {
    s.calcScale = r.uniform(0.45, 0.7);
    s.calcHu = static_cast<float>(r.uniform(450, 900));
  }
  s.boundMm = s.bodyMm;
  if (n.spiculated) {
    const int k = r.uniformInt(14, 26);
    const double maxLen = maxSpikeLengthMm(n.diameterMm);
    const double r0 = std::clamp(0.1 * n.diameterMm, 0.9, 2.2);
    const float hu = n.type == clinical::NoduleType::PartSolid ? s.coreHu : s.outerHu;
    for (int i = 0; i < k; ++i) {
      const Vec3 d = randomUnit(r);
      // Surface distance along d for the ellipsoid.
      const double du = dot(d, s.u) / s.a, dv = dot(d, s.v) / s.b, dw = dot(d, s.w) / s.cz;
      const double surf = 1.0 / std::sqrt(du * du + dv * dv + dw * dw);
      const double len = r.uniform(0.5, 1.0) * maxLen;
      s.spikes.push_back(makeTube(add(s.c, mul(d, 0.8 * surf)), add(s.c, mul(d, surf + len)), r0, 0.35, hu,
                                  TubeKind::Spike));
      s.boundMm = std::max(s.boundMm, surf + len + r0);
    }
  }
  return s;
}

float Scene::analytic(double x, double y, double z, std::uint8_t& label, double h) const {
  const double depth = A_.chestWallDepthMm(x, y);
  if (depth <= -0.5 * h) {
    label = kAir;
    const double tableY = P_.bodyHalfDepthMm + 10;
    if (y > tableY && y < tableY + 7 && std::abs(x) < 200) return 60;
    return -1000;
  }
  const double ys = A_.spineCenterYMm();
  const double rv = P_.vertebraRadiusMm;
  // Spine (vertebral body or disc, canal, posterior elements).
  if (std::abs(x) < rv + 24 && y > ys - rv - 1 && depth > 2) {
    const double dy = y - ys;
    const double rBody = std::sqrt(x * x + dy * dy);
    const double phase = std::fmod(z - P_.zOffsetVertebraMm + 2700.0, 27.0);
    const bool disc = phase < 5;
    if (rBody < rv) {
      label = kBone;
      if (disc) return 85;
      return rBody > rv - 1.6 ? 620 : 230;
    }
    const double canalY = ys + rv + 6.5;
    const double rc = std::sqrt(x * x + (y - canalY) * (y - canalY));
    if (rc < 6.5) {
      label = kWall;
      return 15;
    }
    if (!disc) {
      const bool arch = rc < 11.5 && y > ys + rv - 2;
      const bool spinous = std::abs(x) < 3.5 && y > canalY && y < canalY + 38 && depth > P_.fatMm + 2;
      const bool transverse = std::abs(y - (ys + rv + 3)) < 3 && std::abs(x) < rv + 12;
      if (arch || spinous || transverse) {
        label = kBone;
        return 480;
      }
    }
  }
  const double cov = coverage(-depth, h);
  if (depth < 1.5) {
    label = kWall;
    return static_cast<float>(-1000 + (20 + 1000) * cov);
  }
  if (depth < P_.fatMm) {
    label = kWall;
    return -100;
  }
  const double wallEnd = A_.cavityDepthMm();
  // Ribs and sternum.
  const double dr = depth - A_.ribRingDepthMm();
  if (std::abs(dr) < 6.5) {
    const double sy = A_.sternumYMm();
    if (std::abs(x) < 16 && std::abs(y - sy) < 7 && z < P_.apexZMm - 30 && z > P_.heartCenterLps[2] - 30) {
      const double e = std::sqrt((x / 15) * (x / 15) + ((y - sy) / 6) * ((y - sy) / 6));
      if (e < 1) {
        label = kBone;
        return e > 0.7 ? 500 : 180;
      }
    }
    const double phi = std::atan2(std::abs(x), y) / kPi;  // 0 posterior, 1 anterior
    const double scale = P_.bodyHalfDepthMm / 112.0;
    const double drop = kRibDropMm * std::pow(phi, 1.3);
    for (int n = 0; n < 12; ++n) {
      const double phiMax = n < 7 ? 0.95 : (n < 10 ? 0.88 : 0.5);
      const double phiBone = n < 7 ? 0.84 : (n < 10 ? 0.76 : 0.5);
      if (phi < 0.1 || phi > phiMax) continue;
      const double zc = P_.apexZMm + 8 - 23.5 * n * scale - drop;
      const double dz = z - zc;
      if (std::abs(dz) > 5.5) continue;
      const double e = std::sqrt((dr / 4.5) * (dr / 4.5) + (dz / 5) * (dz / 5));
      if (e < 1) {
        label = kBone;
        if (phi > phiBone) return 110;  // costal cartilage
        return e > 0.6 ? 700 : 260;
      }
    }
  }
  if (depth < wallEnd) {
    label = kWall;
    return 45;
  }
  const Vec3 p{x, y, z};
  if (A_.insideHeart(p)) {
    label = kHeart;
    return 40;
  }
  if (z < A_.diaphragmZMm(x, y)) {
    label = kAbdomen;
    const double gx = (x - 55) / 35, gy = (y + 20) / 30, gz = (z - (P_.domeLeftZMm - 32)) / 20;
    if (gx * gx + gy * gy + gz * gz < 1) return -1000;  // gastric air
    return x < 25 ? 58 : 35;
  }
  if (A_.insideLung(p)) {
    label = kLung;
    double v = -858 + 40 * (y + P_.bodyHalfDepthMm) / (2 * P_.bodyHalfDepthMm);
    const double fd = A_.fissureDistanceMm(p);
    const double thick = 0.7;
    if (fd < std::max(thick, h)) {
      const double w = std::min(1.0, thick / h) * (1 - fd / std::max(thick, h));
      v += (-450 - v) * w;
    }
    return static_cast<float>(v);
  }
  label = kMediastinum;
  return z > P_.apexZMm - 10 ? 35 : -90;
}

bool allowed(TubeKind k, std::uint8_t label) {
  switch (k) {
    case TubeKind::Mediastinal:
      return label == kMediastinum || label == kAbdomen || label == kLung || label == kHeart;
    case TubeKind::Esophagus:
      return label == kMediastinum || label == kAbdomen;
    case TubeKind::LungVessel:
    case TubeKind::AirwayWall:
    case TubeKind::AirwayLumen:
      return label == kLung || label == kMediastinum;
    case TubeKind::Spike:
      return label == kLung;
  }
  return false;
}

void Scene::renderSlice(double z, const imaging::VolumeGeometry& g, float* out, std::uint8_t* label) const {
  const int nx = g.size[0], ny = g.size[1];
  const double h = g.spacingMm[0], x0 = g.originLps[0], y0 = g.originLps[1];
  const double ax = P_.bodyHalfWidthMm, by = P_.bodyHalfDepthMm;
  const double tableY = by + 10;
  for (int j = 0; j < ny; ++j) {
    const double y = y0 + j * h;
    // Columns clearly outside the body outline are air (or table): skip the anatomy there.
    const double yy = std::abs(y) / (by + h);
    const double xBody = yy < 1 ? (ax + h) * std::sqrt(1 - yy * yy) + h : -1;
    const float air = (y > tableY && y < tableY + 7) ? 60.0f : -1000.0f;
    for (int i = 0; i < nx; ++i) {
      const std::size_t idx = static_cast<std::size_t>(j) * nx + i;
      const double x = x0 + i * h;
      if (std::abs(x) > xBody) {
        out[idx] = (air > 0 && std::abs(x) < 200) ? air : -1000.0f;
        label[idx] = kAir;
        continue;
      }
      out[idx] = analytic(x, y, z, label[idx], h);
    }
  }
  auto pixelRange = [&](double lo, double hi, int n, double origin, int& a, int& b) {
    a = std::max(0, static_cast<int>(std::floor((lo - origin) / h)));
    b = std::min(n - 1, static_cast<int>(std::ceil((hi - origin) / h)));
  };

  // Emphysema: low-attenuation blobs in the lung.
  for (const auto& bl : blobs_) {
    const double dz = z - bl.c[2];
    if (std::abs(dz) > bl.r + h) continue;
    int i0, i1, j0, j1;
    pixelRange(bl.c[0] - bl.r - h, bl.c[0] + bl.r + h, nx, x0, i0, i1);
    pixelRange(bl.c[1] - bl.r - h, bl.c[1] + bl.r + h, ny, y0, j0, j1);
    for (int j = j0; j <= j1; ++j)
      for (int i = i0; i <= i1; ++i) {
        const std::size_t idx = static_cast<std::size_t>(j) * nx + i;
        if (label[idx] != kLung) continue;
        const double dx = x0 + i * h - bl.c[0], dy = y0 + j * h - bl.c[1];
        const double cv = coverage(std::sqrt(dx * dx + dy * dy + dz * dz) - bl.r, h);
        out[idx] += static_cast<float>((-965 - out[idx]) * cv * 0.9);
      }
  }

  // Nodules near this slice: vessels and airways fade out around them.
  std::vector<const NoduleShape*> near;
  for (const auto& n : nodules_)
    if (std::abs(z - n.c[2]) < n.boundMm + 8) near.push_back(&n);

  auto paintTube = [&](const Tube& t) {
    const double rMax = std::max(t.ra, t.rb);
    if (z < t.zLo - h || z > t.zHi + h) return;
    // Part of the segment within reach of this slice.
    double tl = 0, th = 1;
    const double dzab = t.b[2] - t.a[2];
    if (std::abs(dzab) > 1e-9) {
      double ta = (z - rMax - h - t.a[2]) / dzab, tb = (z + rMax + h - t.a[2]) / dzab;
      if (ta > tb) std::swap(ta, tb);
      tl = std::max(0.0, ta);
      th = std::min(1.0, tb);
      if (tl > th) return;
    }
    const Vec3 pa = add(t.a, mul(sub(t.b, t.a), tl)), pb = add(t.a, mul(sub(t.b, t.a), th));
    int i0, i1, j0, j1;
    pixelRange(std::min(pa[0], pb[0]) - rMax - h, std::max(pa[0], pb[0]) + rMax + h, nx, x0, i0, i1);
    pixelRange(std::min(pa[1], pb[1]) - rMax - h, std::max(pa[1], pb[1]) + rMax + h, ny, y0, j0, j1);
    const bool fade =
        t.kind == TubeKind::LungVessel || t.kind == TubeKind::AirwayWall || t.kind == TubeKind::AirwayLumen;
    for (int j = j0; j <= j1; ++j)
      for (int i = i0; i <= i1; ++i) {
        const std::size_t idx = static_cast<std::size_t>(j) * nx + i;
        if (!allowed(t.kind, label[idx])) continue;
        const Vec3 p{x0 + i * h, y0 + j * h, z};
        double s;
        const double dist = distanceToSegment(p, t.a, t.b, s);
        const double r = t.ra + (t.rb - t.ra) * s;
        if (dist > r + h) continue;
        double cv = coverage(dist - r, h) * std::min(1.0, 2 * r / h);
        if (fade)
          for (const auto* n : near) {
            const double dn = norm(sub(p, n->c));
            cv *= smoothstep(n->bodyMm + 1.5, n->bodyMm + 5.0, dn);
          }
        out[idx] += static_cast<float>((t.hu - out[idx]) * cv);
      }
  };
  for (const auto& t : tubes_) paintTube(t);
  for (const auto& t : airways_) paintTube(t);

  // Nodule bodies: coverage averaged over three depths within the slice (through-plane partial volume),
  // so thick and thin slices show the same nodule alike.
  const double dzSlice = g.spacingMm[2];
  const double subZ[3] = {-dzSlice / 3, 0, dzSlice / 3};
  for (const auto* n : near) {
    for (const auto& sp : n->spikes) paintTube(sp);
    if (std::abs(z - n->c[2]) > n->bodyMm + h + dzSlice / 2) continue;
    int i0, i1, j0, j1;
    pixelRange(n->c[0] - n->bodyMm - h, n->c[0] + n->bodyMm + h, nx, x0, i0, i1);
    pixelRange(n->c[1] - n->bodyMm - h, n->c[1] + n->bodyMm + h, ny, y0, j0, j1);
    for (int j = j0; j <= j1; ++j)
      for (int i = i0; i <= i1; ++i) {
        const std::size_t idx = static_cast<std::size_t>(j) * nx + i;
        double cvOuter = 0, cvCore = 0, cvCalc = 0;
        for (double sz : subZ) {
          const Vec3 d{x0 + i * h - n->c[0], y0 + j * h - n->c[1], z + sz - n->c[2]};
          const double du = dot(d, n->u) / n->a, dv = dot(d, n->v) / n->b, dw = dot(d, n->w) / n->cz;
          const double q = std::sqrt(du * du + dv * dv + dw * dw);
          const double len = norm(d);
          // Signed distance to the (scaled) surface along the ray from the centre (exact for a sphere).
          auto surfDist = [&](double scale) { return q < 1e-9 ? -scale * n->cz : len * (1 - scale / q); };
          const double lobulation = 1 + n->lobulation *
                                            std::sin(3 * std::atan2(du, dv) + n->lobulationPhase) *
                                            std::sqrt(std::max(0.0, 1 - dw * dw / std::max(q * q, 1e-12)));
          cvOuter += coverage(surfDist(lobulation), h) / 3;
          if (n->coreScale > 0)
            cvCore += coverage(surfDist(n->coreScale), h) * std::min(1.0, 2 * n->coreScale * n->cz / h) / 3;
          if (n->calcScale > 0) cvCalc += coverage(surfDist(n->calcScale), h) / 3;
        }
        if (cvOuter <= 0) continue;
        out[idx] += static_cast<float>((n->outerHu - out[idx]) * cvOuter);
        if (cvCore > 0) out[idx] += static_cast<float>((n->coreHu - out[idx]) * cvCore);
        if (cvCalc > 0) out[idx] += static_cast<float>((n->calcHu - out[idx]) * cvCalc);
      }
  }
}

std::vector<float> gaussianKernel(double sigmaPx) {
  if (sigmaPx < 0.2) return {1.0f};
  const int r = std::min(7, static_cast<int>(std::ceil(2.5 * sigmaPx)));
  std::vector<float> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i)
    sum += k[i + r] = static_cast<float>(std::exp(-0.5 * i * i / (sigmaPx * sigmaPx)));
  for (auto& v : k) v = static_cast<float>(v / sum);
  return k;
}

// dst += w * src over n floats; separate function with restrict so the compiler vectorises it at -O2.
void axpy(float* __restrict dst, const float* __restrict src, float w, int n) {
  for (int i = 0; i < n; ++i) dst[i] += w * src[i];
}

void blurSlice(float* img, float* tmp, int nx, int ny, const std::vector<float>& k) {
  const int r = static_cast<int>(k.size() / 2);
  if (r == 0) return;
  // Rows: interior by shifted accumulation, the r border columns clamped.
  for (int j = 0; j < ny; ++j) {
    const float* src = img + static_cast<std::size_t>(j) * nx;
    float* dst = tmp + static_cast<std::size_t>(j) * nx;
    std::fill(dst, dst + nx, 0.0f);
    for (int t = -r; t <= r; ++t) axpy(dst + r, src + r + t, k[t + r], nx - 2 * r);
    for (int i : {0, 1, 2, 3, 4, 5, 6, 7}) {
      if (i >= r) break;
      for (int side = 0; side < 2; ++side) {
        const int c = side == 0 ? i : nx - 1 - i;
        float s = 0;
        for (int t = -r; t <= r; ++t) s += k[t + r] * src[std::clamp(c + t, 0, nx - 1)];
        dst[c] = s;
      }
    }
  }
  // Columns: accumulate whole rows.
  for (int j = 0; j < ny; ++j) {
    float* dst = img + static_cast<std::size_t>(j) * nx;
    std::fill(dst, dst + nx, 0.0f);
    for (int t = -r; t <= r; ++t)
      axpy(dst, tmp + static_cast<std::size_t>(std::clamp(j + t, 0, ny - 1)) * nx, k[t + r], nx);
  }
}

}  // namespace

imaging::CtVolume renderVolume(const Case& c, const ChestAnatomy& anatomy, std::uint64_t seed,
                               SizePreset size, int threads) {
  const imaging::VolumeGeometry g = volumeGeometry(size);
  imaging::CtVolume vol(g);
  const Scene scene(c, anatomy, seed);
  const int nx = g.size[0], ny = g.size[1], nz = g.size[2];
  const double sigmaMm = c.sharpKernel ? 0.45 : 0.85;
  const auto kernel = gaussianKernel(sigmaMm / g.spacingMm[0]);
  const std::uint64_t noiseKey = streamKey(seed, c.index, "noise");
  double sumSq = 0;
  for (float w : kernel) sumSq += double(w) * w;
  const double preSigma = c.noiseStdHu / sumSq;  // separable 2-D kernel: blurred std = pre std * sum(k^2)

  std::atomic<int> nextSlice{0};
  auto worker = [&]() {
    std::vector<float> img(static_cast<std::size_t>(nx) * ny), tmp(img.size());
    std::vector<std::uint8_t> label(img.size());
    for (int k = nextSlice++; k < nz; k = nextSlice++) {
      const double z = g.originLps[2] + k * g.spacingMm[2];
      scene.renderSlice(z, g, img.data(), label.data());
      // Noise goes in before the kernel blur, so its grain follows the kernel (fine for sharp, coarse
      // for soft) like reconstructed CT noise; preGain makes the blurred noise std equal noiseStdHu.
      const std::uint64_t firstPair = static_cast<std::uint64_t>(k) * nx * ny / 2;
      for (std::size_t p = 0; p < img.size() / 2; ++p) {
        double n0, n1;
        noisePair(noiseKey, firstPair + p, n0, n1);
        img[2 * p] += static_cast<float>(preSigma * n0);
        img[2 * p + 1] += static_cast<float>(preSigma * n1);
      }
      blurSlice(img.data(), tmp.data(), nx, ny, kernel);
      std::int16_t* dst = vol.data() + static_cast<std::size_t>(k) * nx * ny;
      for (std::size_t p = 0; p < img.size(); ++p) {
        // Round half up after clamping (non-negative before the truncating cast).
        dst[p] = static_cast<std::int16_t>(
            static_cast<int>(std::clamp(double(img[p]), -1024.0, 3071.0) + 1024.5) - 1024);
      }
    }
  };
  int nThreads = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  nThreads = std::clamp(nThreads, 1, 64);
  if (nThreads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < nThreads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  return vol;
}

}  // namespace phantom::detail
