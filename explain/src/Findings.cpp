#include "explain/Findings.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <numeric>
#include <thread>

#include "explain/ExplainError.h"
#include "imaging/MaskComponents.h"
#include "phantom/ChestAnatomy.h"

namespace explain {
namespace {

int threadCount(int requested) {
  if (requested > 0) return requested;
  return std::max(1, std::min(8, static_cast<int>(std::thread::hardware_concurrency())));
}

void parallelFor(int n, int threads, const std::function<void(int, int)>& fn) {
  threads = std::max(1, std::min(threads, n));
  if (threads == 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&fn, n, t, threads] { fn(n * t / threads, n * (t + 1) / threads); });
  for (auto& th : pool) th.join();
}

// For an axis-aligned geometry: LPS axis of each volume axis and its sign.
struct AxisMap {
  std::array<int, 3> lpsAxis{};
  std::array<double, 3> sign{};
};

AxisMap axisMap(const imaging::VolumeGeometry& g) {
  AxisMap m;
  std::array<bool, 3> used{};
  for (int c = 0; c < 3; ++c) {
    int best = -1;
    for (int a = 0; a < 3; ++a)
      if (std::abs(g.directionLps[static_cast<std::size_t>(a * 3 + c)]) > 0.995) best = a;
    if (best < 0 || used[static_cast<std::size_t>(best)])
      throw ExplainError("the CT is oblique (not axis-aligned): the heatmap cannot be mapped onto it");
    used[static_cast<std::size_t>(best)] = true;
    m.lpsAxis[static_cast<std::size_t>(c)] = best;
    m.sign[static_cast<std::size_t>(c)] = g.directionLps[static_cast<std::size_t>(best * 3 + c)] > 0 ? 1 : -1;
  }
  return m;
}

// Four cells and their uniform cubic B-spline weights along one axis.
struct Tap {
  std::array<int, 4> cell;
  std::array<float, 4> w;
};

Tap bsplineTap(double f, int cells) {
  f = std::clamp(f, 0.0, static_cast<double>(cells - 1));
  const int b = std::min(cells - 1, static_cast<int>(std::floor(f)));
  const double t = f - b, u = 1 - t;
  Tap tap;
  tap.w = {static_cast<float>(u * u * u / 6), static_cast<float>((3 * t * t * t - 6 * t * t + 4) / 6),
           static_cast<float>((-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6),
           static_cast<float>(t * t * t / 6)};
  for (int q = 0; q < 4; ++q) tap.cell[static_cast<std::size_t>(q)] = std::clamp(b - 1 + q, 0, cells - 1);
  return tap;
}

// sqrt(smallest / largest eigenvalue) of the covariance (mm^2) of a voxel set given its index sums
// (s: i, j, k) and second-order sums (q: ii, jj, kk, ij, ik, jk): 1 for a ball, ~0.75 for the
// flattest nodules, small for vessel segments and branching trees.
double roundness(const std::array<double, 3>& s, const std::array<double, 6>& q, double n,
                 const std::array<double, 3>& sp) {
  if (n < 2) return 0;
  const double mi = s[0] / n, mj = s[1] / n, mk = s[2] / n;
  const double xx = (q[0] / n - mi * mi) * sp[0] * sp[0] + sp[0] * sp[0] / 12;
  const double yy = (q[1] / n - mj * mj) * sp[1] * sp[1] + sp[1] * sp[1] / 12;
  const double zz = (q[2] / n - mk * mk) * sp[2] * sp[2] + sp[2] * sp[2] / 12;
  const double xy = (q[3] / n - mi * mj) * sp[0] * sp[1];
  const double xz = (q[4] / n - mi * mk) * sp[0] * sp[2];
  const double yz = (q[5] / n - mj * mk) * sp[1] * sp[2];
  // Eigenvalues of a symmetric 3x3 matrix (trigonometric method).
  const double p1 = xy * xy + xz * xz + yz * yz;
  const double tr = (xx + yy + zz) / 3;
  const double p2 = (xx - tr) * (xx - tr) + (yy - tr) * (yy - tr) + (zz - tr) * (zz - tr) + 2 * p1;
  if (p2 <= 1e-12) return 1;
  const double pp = std::sqrt(p2 / 6);
  const double b00 = (xx - tr) / pp, b11 = (yy - tr) / pp, b22 = (zz - tr) / pp, b01 = xy / pp, b02 = xz / pp,
               b12 = yz / pp;
  const double det = b00 * (b11 * b22 - b12 * b12) - b01 * (b01 * b22 - b12 * b02) + b02 * (b01 * b12 - b11 * b02);
  const double r = std::clamp(det / 2, -1.0, 1.0);
  const double phi = std::acos(r) / 3;
  const double e1 = tr + 2 * pp * std::cos(phi), e3 = tr + 2 * pp * std::cos(phi + 2 * M_PI / 3);
  return e1 > 0 ? std::sqrt(std::max(0.0, e3) / e1) : 0;
}

// Statistics of a voxel set in ROI indices: count, bounding box, CAM sum, first and second index moments.
// The index sums are integers far below 2^53, exact in double whatever the order of visits or grouping;
// only camSum (float values) depends on the order, which callers keep.
struct VoxelStats {
  std::size_t count = 0;
  std::array<int, 3> mn{1 << 30, 1 << 30, 1 << 30}, mx{-1, -1, -1};
  double camSum = 0;
  std::array<double, 3> sumIdx{};
  std::array<double, 6> sumSq{};
  void add(int i, int j, int k) {
    ++count;
    sumSq[0] += double(i) * i;
    sumSq[1] += double(j) * j;
    sumSq[2] += double(k) * k;
    sumSq[3] += double(i) * j;
    sumSq[4] += double(i) * k;
    sumSq[5] += double(j) * k;
    const int idx[3] = {i, j, k};
    for (std::size_t a = 0; a < 3; ++a) {
      sumIdx[a] += idx[a];
      mn[a] = std::min(mn[a], idx[a]);
      mx[a] = std::max(mx[a], idx[a]);
    }
  }
  /// add(i, j, k) for i = a..b, at once (the same exact sums).
  void addRun(int a, int b, int j, int k) {
    auto squares = [](std::int64_t x) { return x * (x + 1) * (2 * x + 1) / 6; };  // 0^2 + ... + x^2
    const std::int64_t n = b - a + 1, si = (std::int64_t{a} + b) * n / 2, sii = squares(b) - squares(a - 1);
    count += static_cast<std::size_t>(n);
    sumSq[0] += static_cast<double>(sii);
    sumSq[1] += static_cast<double>(n * j * j);
    sumSq[2] += static_cast<double>(n * k * k);
    sumSq[3] += static_cast<double>(si * j);
    sumSq[4] += static_cast<double>(si * k);
    sumSq[5] += static_cast<double>(n * j * k);
    sumIdx[0] += static_cast<double>(si);
    sumIdx[1] += static_cast<double>(n * j);
    sumIdx[2] += static_cast<double>(n * k);
    mn = {std::min(mn[0], a), std::min(mn[1], j), std::min(mn[2], k)};
    mx = {std::max(mx[0], b), std::max(mx[1], j), std::max(mx[2], k)};
  }
};

// Eight bytes at p as one word (SWAR: eight masks or window counts side by side).
std::uint64_t load8(const std::uint8_t* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

// 1 in each byte of x that is 0, else 0 (exact per byte: no carry crosses a byte).
std::uint64_t zeroBytes(std::uint64_t x) {
  constexpr std::uint64_t k7F = 0x7F7F7F7F7F7F7F7FULL;
  return ~(((x & k7F) + k7F) | x | k7F) >> 7;
}

// One axis of a separable box filter of half-width w on a 0/1 mask of dims (axis 0 fastest); voxels outside
// the array count as 0. Erode: 1 where the whole window [c-w, c+w] lies inside and holds only 1s; dilate:
// 1 where the window holds a 1. A running count of the window per line: O(voxels) whatever w. Along axes 1
// and 2 the lines of a row (or plane) are counted side by side, eight per word (byte counts: a window of at
// most 255 voxels), the rest one by one.
void boxFilterAxis(const std::uint8_t* in, std::uint8_t* out, const std::array<int, 3>& dims, int axis, int w,
                   bool erode, std::vector<std::uint64_t>& counts) {
  const auto len = static_cast<std::size_t>(dims[static_cast<std::size_t>(axis)]);
  const auto hw = static_cast<std::size_t>(w), full = 2 * hw + 1;
  // inner: the stride between neighbours along the axis (lines side by side); outer: blocks of such lines.
  std::size_t inner = 1, outer = 1;
  for (int a = 0; a < axis; ++a) inner *= static_cast<std::size_t>(dims[static_cast<std::size_t>(a)]);
  for (int a = axis + 1; a < 3; ++a) outer *= static_cast<std::size_t>(dims[static_cast<std::size_t>(a)]);
  auto result = [&](std::size_t c, std::uint64_t n) {  // output of one line at c from its window count n
    return erode ? c >= hw && c + hw < len && n == full : n != 0;
  };
  if (inner == 1) {
    for (std::size_t o = 0; o < outer; ++o) {
      const std::uint8_t* src = in + o * len;
      std::uint8_t* dst = out + o * len;
      std::uint64_t n = 0;
      for (std::size_t c = 0; c <= hw && c < len; ++c) n += src[c];
      for (std::size_t c = 0; c < len; ++c) {
        dst[c] = result(c, n);
        if (c + 1 + hw < len) n += src[c + 1 + hw];
        if (c >= hw) n -= src[c - hw];
      }
    }
    return;
  }
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  const std::size_t words = std::min(full, len) <= 255 ? inner / 8 : 0, rest = inner - 8 * words;
  const std::uint64_t fullBytes = full <= 255 ? full * kOnes : 0;
  counts.resize(words + rest);
  std::uint64_t* nw = counts.data();
  std::uint64_t* nr = nw + words;
  auto update = [&](const std::uint8_t* row, bool add) {
    for (std::size_t x = 0; x < words; ++x) nw[x] = add ? nw[x] + load8(row + 8 * x) : nw[x] - load8(row + 8 * x);
    for (std::size_t l = 0; l < rest; ++l) nr[l] = add ? nr[l] + row[8 * words + l] : nr[l] - row[8 * words + l];
  };
  for (std::size_t o = 0; o < outer; ++o) {
    const std::uint8_t* src = in + o * len * inner;
    std::uint8_t* dst = out + o * len * inner;
    std::fill(counts.begin(), counts.end(), std::uint64_t{0});
    for (std::size_t c = 0; c <= hw && c < len; ++c) update(src + c * inner, true);
    for (std::size_t c = 0; c < len; ++c) {
      std::uint8_t* d = dst + c * inner;
      if (erode && (c < hw || c + hw >= len)) {
        std::fill(d, d + inner, std::uint8_t{0});
      } else {
        for (std::size_t x = 0; x < words; ++x) {
          const std::uint64_t r = erode ? zeroBytes(nw[x] ^ fullBytes) : zeroBytes(nw[x]) ^ kOnes;
          std::memcpy(d + 8 * x, &r, 8);
        }
        for (std::size_t l = 0; l < rest; ++l) d[8 * words + l] = result(c, nr[l]);
      }
      if (c + 1 + hw < len) update(src + (c + 1 + hw) * inner, true);
      if (c >= hw) update(src + (c - hw) * inner, false);
    }
  }
}

// The separable box filter (half-widths hw) of mask m over all three axes, in place; tmp and counts are scratch.
void boxFilter(std::vector<std::uint8_t>& m, std::vector<std::uint8_t>& tmp, const std::array<int, 3>& dims,
               const std::array<int, 3>& hw, bool erode, std::vector<std::uint64_t>& counts) {
  tmp.resize(m.size());
  for (int a = 0; a < 3; ++a) {
    boxFilterAxis(m.data(), tmp.data(), dims, a, hw[static_cast<std::size_t>(a)], erode, counts);
    m.swap(tmp);
  }
}
}  // namespace

std::vector<float> camToCtGrid(const std::vector<float>& cellValues, int cells, double cellMm,
                               const std::array<double, 3>& originLps, const imaging::VolumeGeometry& g,
                               int threads) {
  if (cells <= 0 || cellValues.size() != static_cast<std::size_t>(cells) * cells * cells)
    throw ExplainError("CAM grid has the wrong size");
  const AxisMap m = axisMap(g);
  // Per volume axis c: the taps along the cell axis it maps to.
  std::array<std::vector<Tap>, 3> taps;
  for (int c = 0; c < 3; ++c) {
    const int a = m.lpsAxis[static_cast<std::size_t>(c)];
    auto& t = taps[static_cast<std::size_t>(c)];
    t.resize(static_cast<std::size_t>(g.size[static_cast<std::size_t>(c)]));
    for (int n = 0; n < g.size[static_cast<std::size_t>(c)]; ++n) {
      const double lps = g.originLps[static_cast<std::size_t>(a)] +
                         m.sign[static_cast<std::size_t>(c)] * n * g.spacingMm[static_cast<std::size_t>(c)];
      t[static_cast<std::size_t>(n)] =
          bsplineTap((lps - originLps[static_cast<std::size_t>(a)]) / cellMm, cells);
    }
  }
  // Cell strides by LPS axis.
  const std::size_t cs[3] = {1, static_cast<std::size_t>(cells), static_cast<std::size_t>(cells) * cells};
  std::array<std::size_t, 3> stride{};
  for (int c = 0; c < 3; ++c) stride[static_cast<std::size_t>(c)] = cs[m.lpsAxis[static_cast<std::size_t>(c)]];
  const std::size_t nx = static_cast<std::size_t>(g.size[0]), ny = static_cast<std::size_t>(g.size[1]);
  const std::size_t nc = static_cast<std::size_t>(cells);
  std::vector<float> out(g.voxelCount());
  parallelFor(g.size[2], threadCount(threads), [&](int kb, int ke) {
    std::vector<float> plane(nc * nc);  // cells over (axis0, axis1) at this k
    std::vector<float> row(nc);         // cells along axis0 at this (j, k)
    for (int k = kb; k < ke; ++k) {
      const Tap& tk = taps[2][static_cast<std::size_t>(k)];
      // Separable: along the k axis first (a cells x cells plane), then j (a row of cells), then i.
      for (std::size_t b = 0; b < nc; ++b)
        for (std::size_t a = 0; a < nc; ++a) {
          const std::size_t base = a * stride[0] + b * stride[1];
          float v = 0;
          for (std::size_t q = 0; q < 4; ++q)
            v += tk.w[q] * cellValues[base + static_cast<std::size_t>(tk.cell[q]) * stride[2]];
          plane[a + nc * b] = v;
        }
      for (std::size_t j = 0; j < ny; ++j) {
        const Tap& tj = taps[1][j];
        for (std::size_t a = 0; a < nc; ++a) {
          float v = 0;
          for (std::size_t q = 0; q < 4; ++q)
            v += tj.w[q] * plane[a + nc * static_cast<std::size_t>(tj.cell[q])];
          row[a] = v;
        }
        float* o = &out[nx * (j + ny * static_cast<std::size_t>(k))];
        for (std::size_t i = 0; i < nx; ++i) {
          const Tap& ti = taps[0][i];
          o[i] = ti.w[0] * row[static_cast<std::size_t>(ti.cell[0])] +
                 ti.w[1] * row[static_cast<std::size_t>(ti.cell[1])] +
                 ti.w[2] * row[static_cast<std::size_t>(ti.cell[2])] +
                 ti.w[3] * row[static_cast<std::size_t>(ti.cell[3])];
        }
      }
    }
  });
  return out;
}

std::vector<CamComponent> camComponents(const std::vector<float>& v, int n, double cellMm,
                                        const std::array<double, 3>& originLps, double threshold) {
  std::vector<CamComponent> out;
  if (v.empty()) return out;
  const float mx = *std::max_element(v.begin(), v.end());
  if (!(mx > 0)) return out;
  const float thr = static_cast<float>(threshold) * mx;
  std::vector<int> lab(v.size(), 0);
  auto lps = [&](int i, int j, int k) {
    return std::array<double, 3>{originLps[0] + i * cellMm, originLps[1] + j * cellMm, originLps[2] + k * cellMm};
  };
  int next = 1;
  std::deque<int> q;
  for (int s = 0; s < static_cast<int>(v.size()); ++s) {
    if (lab[static_cast<std::size_t>(s)] || v[static_cast<std::size_t>(s)] < thr) continue;
    CamComponent c;
    c.minLps = {1e9, 1e9, 1e9};
    c.maxLps = {-1e9, -1e9, -1e9};
    lab[static_cast<std::size_t>(s)] = next;
    q.push_back(s);
    while (!q.empty()) {
      const int p = q.front();
      q.pop_front();
      const int i = p % n, j = (p / n) % n, k = p / (n * n);
      ++c.cellsCount;
      const auto x = lps(i, j, k);
      if (v[static_cast<std::size_t>(p)] / mx > c.peak) {
        c.peak = v[static_cast<std::size_t>(p)] / mx;
        c.peakLps = x;
      }
      for (int a = 0; a < 3; ++a) {
        c.minLps[static_cast<std::size_t>(a)] = std::min(c.minLps[static_cast<std::size_t>(a)], x[static_cast<std::size_t>(a)] - cellMm / 2);
        c.maxLps[static_cast<std::size_t>(a)] = std::max(c.maxLps[static_cast<std::size_t>(a)], x[static_cast<std::size_t>(a)] + cellMm / 2);
      }
      for (int dk = -1; dk <= 1; ++dk)
        for (int dj = -1; dj <= 1; ++dj)
          for (int di = -1; di <= 1; ++di) {
            const int ii = i + di, jj = j + dj, kk = k + dk;
            if (ii < 0 || jj < 0 || kk < 0 || ii >= n || jj >= n || kk >= n) continue;
            const int w = ii + n * (jj + n * kk);
            if (lab[static_cast<std::size_t>(w)] || v[static_cast<std::size_t>(w)] < thr) continue;
            lab[static_cast<std::size_t>(w)] = next;
            q.push_back(w);
          }
    }
    c.volumeMl = c.cellsCount * cellMm * cellMm * cellMm / 1000.0;
    out.push_back(c);
    ++next;
  }
  std::sort(out.begin(), out.end(), [](const CamComponent& a, const CamComponent& b) { return a.peak > b.peak; });
  return out;
}

std::array<double, 3> camCentroidNearPeak(const std::vector<float>& v, int n, double cellMm,
                                          const std::array<double, 3>& originLps) {
  if (n <= 0 || v.size() != static_cast<std::size_t>(n) * n * n) throw ExplainError("CAM grid has the wrong size");
  const int p = static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
  const int c[3] = {p % n, (p / n) % n, p / (n * n)};
  double s[3] = {0, 0, 0}, w = 0;
  for (int dk = -1; dk <= 1; ++dk)
    for (int dj = -1; dj <= 1; ++dj)
      for (int di = -1; di <= 1; ++di) {
        const int q[3] = {c[0] + di, c[1] + dj, c[2] + dk};
        if (q[0] < 0 || q[1] < 0 || q[2] < 0 || q[0] >= n || q[1] >= n || q[2] >= n) continue;
        const double x = std::max(0.0f, v[static_cast<std::size_t>(q[0] + n * (q[1] + n * q[2]))]);
        for (int a = 0; a < 3; ++a) s[a] += x * q[a];
        w += x;
      }
  std::array<double, 3> out{};
  for (int a = 0; a < 3; ++a)
    out[static_cast<std::size_t>(a)] = originLps[static_cast<std::size_t>(a)] + (w > 0 ? s[a] / w : c[a]) * cellMm;
  return out;
}

namespace {
struct MeasureScratch {
  std::vector<std::uint8_t> mask, er, seed, tmp, sel;
  std::vector<int> lab;
  std::vector<std::uint64_t> queue, winCount;
  imaging::MaskComponents comps;
  std::vector<std::size_t> compStart, byComp, fill;
};
}  // namespace

Finding measureNoduleNear(const imaging::CtVolume& ct, const CamComponent& comp, const std::vector<float>& cam,
                          double marginMm) {
  Finding f;
  f.camPeak = comp.peak;
  f.camPeakLps = comp.peakLps;
  f.camRegionMl = comp.volumeMl;
  f.centerLps = comp.peakLps;
  const auto& g = ct.geometry();
  const AxisMap m = axisMap(g);
  // ROI in voxel indices: the component's box plus the margin, at most 90 mm around the peak.
  constexpr double kGrowMm = 24.0;
  std::array<int, 3> lo{}, hi{}, sLo{}, sHi{};
  for (int c = 0; c < 3; ++c) {
    const int a = m.lpsAxis[static_cast<std::size_t>(c)];
    double l = std::max(comp.minLps[static_cast<std::size_t>(a)] - marginMm, comp.peakLps[static_cast<std::size_t>(a)] - 45.0);
    double h = std::min(comp.maxLps[static_cast<std::size_t>(a)] + marginMm, comp.peakLps[static_cast<std::size_t>(a)] + 45.0);
    const double o = g.originLps[static_cast<std::size_t>(a)], s = m.sign[static_cast<std::size_t>(c)] * g.spacingMm[static_cast<std::size_t>(c)];
    double n0 = (l - o) / s, n1 = (h - o) / s;
    if (n0 > n1) std::swap(n0, n1);
    // The search box S (where a candidate's centroid must lie) and, around it, a labelling ROI larger by
    // kGrowMm, so that a large or spiculated nodule centred in S does not touch the ROI's border; only
    // what still touches the larger ROI (vessel trees, chest wall) is dropped.
    const int ext = static_cast<int>(std::ceil(kGrowMm / g.spacingMm[static_cast<std::size_t>(c)]));
    const int sl = static_cast<int>(std::floor(n0)), sh = static_cast<int>(std::ceil(n1));
    sLo[static_cast<std::size_t>(c)] = sl;
    sHi[static_cast<std::size_t>(c)] = sh;
    lo[static_cast<std::size_t>(c)] = std::clamp(sl - ext, 0, g.size[static_cast<std::size_t>(c)] - 1);
    hi[static_cast<std::size_t>(c)] = std::clamp(sh + ext, 0, g.size[static_cast<std::size_t>(c)] - 1);
  }
  auto centroidInSearchBox = [&](const std::array<double, 3>& sumIdx, std::size_t count) {
    for (int a = 0; a < 3; ++a) {
      const double mean = lo[static_cast<std::size_t>(a)] + sumIdx[static_cast<std::size_t>(a)] / static_cast<double>(count);
      if (mean < sLo[static_cast<std::size_t>(a)] || mean > sHi[static_cast<std::size_t>(a)]) return false;
    }
    return true;
  };
  const int rx = hi[0] - lo[0] + 1, ry = hi[1] - lo[1] + 1, rz = hi[2] - lo[2] + 1;
  const std::array<int, 3> dims{rx, ry, rz};
  const std::size_t rn = static_cast<std::size_t>(rx) * ry * rz;
  const std::size_t strideJ = static_cast<std::size_t>(rx), strideK = strideJ * static_cast<std::size_t>(ry);
  auto roiIndex = [&](int i, int j, int k) { return static_cast<std::size_t>(i) + static_cast<std::size_t>(rx) * (j + static_cast<std::size_t>(ry) * k); };
  auto ctIndex = [&](int i, int j, int k) { return ct.index(lo[0] + i, lo[1] + j, lo[2] + k); };
  auto ctAt = [&](int i, int j, int k) { return ct.data()[ctIndex(i, j, k)]; };
  // Working buffers, kept per thread between calls (a batch run measures several nodules per study on each
  // worker): fresh buffers of the ROI's size meant page faults and zero-filling of ~40 MB per call. Every
  // buffer is (re)filled before it is read.
  thread_local MeasureScratch scratch;
  // The > -750 HU mask and its components (numbered in the raster order of their first voxel, as a raster
  // scan with a flood fill meets them); lab: 0 outside the mask, else the component's label (number + 1).
  std::vector<std::uint8_t>& mask = scratch.mask;
  std::vector<int>& lab = scratch.lab;
  mask.resize(rn);
  lab.resize(rn);
  for (int k = 0; k < rz; ++k)
    for (int j = 0; j < ry; ++j) {
      const std::int16_t* row = ct.data() + ctIndex(0, j, k);
      std::uint8_t* m = mask.data() + roiIndex(0, j, k);
      for (int i = 0; i < rx; ++i) m[i] = row[i] > -750;
    }
  const double voxMl = g.spacingMm[0] * g.spacingMm[1] * g.spacingMm[2] / 1000.0;
  // ROI voxels packed as i + 2^21 j + 2^42 k (ROI sides are far below 2^21).
  constexpr std::uint64_t kJ = std::uint64_t{1} << 21, kK = std::uint64_t{1} << 42;
  auto pack = [&](int i, int j, int k) {
    return static_cast<std::uint64_t>(i) + kJ * static_cast<std::uint64_t>(j) +
           kK * static_cast<std::uint64_t>(k);
  };
  auto unpack = [&](std::uint64_t q) {
    return std::array<int, 3>{static_cast<int>(q & (kJ - 1)), static_cast<int>((q >> 21) & (kJ - 1)),
                              static_cast<int>(q >> 42)};
  };
  struct Cand {
    int label = 0;
    bool touches = false;
    std::array<int, 3> seed{};  ///< first voxel in ROI order
    VoxelStats st;              ///< camSum left 0: see camSumOf
  };
  imaging::MaskComponents& comps = scratch.comps;
  imaging::labelMaskComponents(mask.data(), dims, comps);
  std::vector<Cand> cands(comps.voxels.size());
  {
    std::size_t r = 0;
    for (int k = 0; k < rz; ++k)
      for (int j = 0; j < ry; ++j) {
        int* row = lab.data() + roiIndex(0, j, k);
        std::fill(row, row + rx, 0);
        for (; r < comps.runs.size() && comps.runs[r].j == j && comps.runs[r].k == k; ++r) {
          const auto& run = comps.runs[r];
          std::fill(row + run.begin, row + run.end + 1, run.component + 1);
          Cand& c = cands[static_cast<std::size_t>(run.component)];
          if (c.label == 0) {  // the component's first run: its first voxel
            c.label = run.component + 1;
            c.seed = {run.begin, j, k};
          }
          c.st.addRun(run.begin, run.end, j, k);
          if (run.begin == 0 || j == 0 || k == 0 || run.end == rx - 1 || j == ry - 1 || k == rz - 1)
            c.touches = true;
        }
      }
  }
  // The CAM sum of a candidate in the order of a breadth-first visit from its first voxel (neighbours in
  // the order -i, +i, -j, +j, -k, +k): the order, and so the rounding, of the sum the score always used.
  // Only the few candidates that reach the CAM term of the score need it.
  std::vector<std::uint64_t>& queue = scratch.queue;
  auto camSumOf = [&](const Cand& c) {
    double sum = 0;
    const std::size_t s = roiIndex(c.seed[0], c.seed[1], c.seed[2]);
    lab[s] = -2;  // visited
    queue.assign(1, pack(c.seed[0], c.seed[1], c.seed[2]));
    auto claim = [&](std::size_t w) {
      if (lab[w] != c.label) return false;
      lab[w] = -2;
      return true;
    };
    for (std::size_t h = 0; h < queue.size(); ++h) {
      const std::uint64_t q = queue[h];
      const auto [i, j, k] = unpack(q);
      const std::size_t p = roiIndex(i, j, k);
      sum += cam[ctIndex(i, j, k)];
      if (i > 0 && claim(p - 1)) queue.push_back(q - 1);
      if (i + 1 < rx && claim(p + 1)) queue.push_back(q + 1);
      if (j > 0 && claim(p - strideJ)) queue.push_back(q - kJ);
      if (j + 1 < ry && claim(p + strideJ)) queue.push_back(q + kJ);
      if (k > 0 && claim(p - strideK)) queue.push_back(q - kK);
      if (k + 1 < rz && claim(p + strideK)) queue.push_back(q + kK);
    }
    for (const std::uint64_t q : queue) {
      const auto [i, j, k] = unpack(q);
      lab[roiIndex(i, j, k)] = c.label;
    }
    return sum;
  };
  // Score: compact (volume vs. the ball of its largest extent), of nodule size, not touching the ROI.
  // camSum() gives the CAM sum over the voxels (called only when the score needs it).
  auto scoreOf = [&](const VoxelStats& st, auto&& camSum) {
    const double vol = st.count * voxMl;
    const double eqD = std::cbrt(6.0 * vol * 1000.0 / M_PI);
    if (eqD < 3.0 || eqD > 40.0) return 0.0;
    double ext = 0;
    for (int a = 0; a < 3; ++a)
      ext = std::max(ext, (st.mx[static_cast<std::size_t>(a)] - st.mn[static_cast<std::size_t>(a)] + 1) * g.spacingMm[static_cast<std::size_t>(a)]);
    const double compact = vol * 1000.0 / (M_PI / 6.0 * ext * ext * ext);
    if (compact < 0.12) return 0.0;
    const double camMean = cam.empty() ? 1.0 : camSum() / static_cast<double>(st.count);
    // Larger compact structures win over small compact pieces (vessel stubs, partial volume blobs).
    const double size = eqD < 6.0 ? eqD / 6.0 : 1.0 + 0.5 * std::log(eqD / 6.0);
    // Nodules are near-spherical (axis ratio >= ~0.7); vessels are tubular and branch.
    const double round = roundness(st.sumIdx, st.sumSq, static_cast<double>(st.count), g.spacingMm);
    if (round < 0.3) return 0.0;
    return (0.05 + camMean) * std::sqrt(compact) * size * std::min(1.0, round / 0.7);
  };
  // The chosen voxel set: a mask over the ROI sub-box starting at selBox with extent selDims (it holds the
  // set's bounding box selMn..selMx).
  std::vector<std::uint8_t>& sel = scratch.sel;
  sel.clear();
  std::array<int, 3> selBox{}, selDims{}, selMn{}, selMx{};
  std::size_t selCount = 0;
  auto selAt = [&](int i, int j, int k) {
    return sel[static_cast<std::size_t>(i - selBox[0]) +
               static_cast<std::size_t>(selDims[0]) * (static_cast<std::size_t>(j - selBox[1]) + static_cast<std::size_t>(selDims[1]) * static_cast<std::size_t>(k - selBox[2]))] != 0;
  };
  double bestScore = 0;
  const Cand* bestA = nullptr;
  for (const auto& c : cands) {
    if (c.touches || !centroidInSearchBox(c.st.sumIdx, c.st.count)) continue;
    const double sc = scoreOf(c.st, [&] { return camSumOf(c); });
    if (sc > bestScore) {
      bestScore = sc;
      bestA = &c;
    }
  }
  if (bestA) {
    selMn = bestA->st.mn;
    selMx = bestA->st.mx;
    selCount = bestA->st.count;
    selBox = selMn;
    for (int a = 0; a < 3; ++a) selDims[static_cast<std::size_t>(a)] = selMx[static_cast<std::size_t>(a)] - selMn[static_cast<std::size_t>(a)] + 1;
    sel.clear();
    for (int k = selMn[2]; k <= selMx[2]; ++k)
      for (int j = selMn[1]; j <= selMx[1]; ++j)
        for (int i = selMn[0]; i <= selMx[0]; ++i) sel.push_back(lab[roiIndex(i, j, k)] == bestA->label);
  }
  // Second pass: erode the > -750 HU mask by a ~2, 4 and 6 mm box (detaches vessels, spikes and the pleura
  // from a nodule; thick spike bases of large spiculated nodules survive the 2 mm erosion and keep them
  // attached to vessel trees), label, and grow each compact candidate back into the mask by the box + 1.
  std::vector<std::uint8_t>&er = scratch.er, &seed = scratch.seed, &tmp = scratch.tmp;
  std::vector<std::uint64_t>& winCount = scratch.winCount;
  for (int erosionStep = 1; erosionStep <= 3; ++erosionStep) {
    std::array<int, 3> hw{};
    for (int a = 0; a < 3; ++a)
      hw[static_cast<std::size_t>(a)] =
          std::max(1, static_cast<int>(std::lround(2.0 * erosionStep / g.spacingMm[static_cast<std::size_t>(a)])));
    std::array<int, 3> hwD{hw[0] + 1, hw[1] + 1, hw[2] + 1};
    er = mask;
    boxFilter(er, tmp, dims, hw, true, winCount);  // 0/1
    // The eroded mask's components in the raster order of their first voxel; component c's runs are
    // comps.runs[byComp[x]] for x in [compStart[c], compStart[c + 1]).
    imaging::labelMaskComponents(er.data(), dims, comps);
    const std::size_t nComps = comps.voxels.size();
    std::vector<std::size_t>& compStart = scratch.compStart;
    std::vector<std::size_t>& byComp = scratch.byComp;
    compStart.assign(nComps + 1, 0);
    for (const auto& r : comps.runs) ++compStart[static_cast<std::size_t>(r.component) + 1];
    for (std::size_t c = 0; c < nComps; ++c) compStart[c + 1] += compStart[c];
    byComp.resize(comps.runs.size());
    {
      std::vector<std::size_t>& fill = scratch.fill;
      fill.assign(compStart.begin(), compStart.end() - 1);
      for (std::size_t r = 0; r < comps.runs.size(); ++r)
        byComp[fill[static_cast<std::size_t>(comps.runs[r].component)]++] = r;
    }
    for (std::size_t comp = 0; comp < nComps; ++comp) {
      bool touches = false;
      const std::size_t size = comps.voxels[comp];
      std::array<int, 3> cMn{1 << 30, 1 << 30, 1 << 30}, cMx{-1, -1, -1};
      for (std::size_t x = compStart[comp]; x < compStart[comp + 1]; ++x) {
        const auto& run = comps.runs[byComp[x]];
        const int a = run.begin, b = run.end, j = run.j, k = run.k;
        if (a <= hw[0] || j <= hw[1] || k <= hw[2] || b >= rx - 1 - hw[0] || j >= ry - 1 - hw[1] ||
            k >= rz - 1 - hw[2])
          touches = true;
        cMn = {std::min(cMn[0], a), std::min(cMn[1], j), std::min(cMn[2], k)};
        cMx = {std::max(cMx[0], b), std::max(cMx[1], j), std::max(cMx[2], k)};
      }
      if (touches || (size < 2 && erosionStep == 1)) continue;
      // Reconstruct: dilate the eroded component by the box, within the original mask. The dilation is
      // empty outside the component's bounding box grown by the box, so it is done in that sub-box.
      std::array<int, 3> b0{}, bd{};
      for (std::size_t a = 0; a < 3; ++a) {
        b0[a] = std::max(0, cMn[a] - hwD[a]);
        bd[a] = std::min(dims[a] - 1, cMx[a] + hwD[a]) - b0[a] + 1;
      }
      seed.assign(static_cast<std::size_t>(bd[0]) * bd[1] * bd[2], 0);
      for (std::size_t x = compStart[comp]; x < compStart[comp + 1]; ++x) {
        const auto& r = comps.runs[byComp[x]];
        std::uint8_t* row = seed.data() + static_cast<std::size_t>(r.begin - b0[0]) +
                            static_cast<std::size_t>(bd[0]) *
                                (static_cast<std::size_t>(r.j - b0[1]) +
                                 static_cast<std::size_t>(bd[1]) * static_cast<std::size_t>(r.k - b0[2]));
        std::fill(row, row + (r.end - r.begin + 1), std::uint8_t{1});
      }
      boxFilter(seed, tmp, bd, hwD, false, winCount);
      // Statistics in ROI index order (the CAM sum's order).
      VoxelStats st;
      std::size_t v = 0;
      for (int k = b0[2]; k < b0[2] + bd[2]; ++k)
        for (int j = b0[1]; j < b0[1] + bd[1]; ++j) {
          const std::uint8_t* inMask = mask.data() + roiIndex(0, j, k);
          for (int i = b0[0]; i < b0[0] + bd[0]; ++i, ++v) {
            seed[v] = seed[v] && inMask[i];
            if (!seed[v]) continue;
            st.add(i, j, k);
            if (!cam.empty()) st.camSum += cam[ctIndex(i, j, k)];
          }
        }
      if (!centroidInSearchBox(st.sumIdx, st.count)) continue;
      const double sc = 0.9 * scoreOf(st, [&] { return st.camSum; });  // the plain components are preferred
      if (sc > bestScore) {
        bestScore = sc;
        sel.swap(seed);
        selBox = b0;
        selDims = bd;
        selMn = st.mn;
        selMx = st.mx;
        selCount = st.count;
      }
    }
  }
  const bool found = selCount > 0;
  auto lpsOf = [&](double i, double j, double k) { return g.lpsFromIjk({lo[0] + i, lo[1] + j, lo[2] + k}); };
  if (!found) {
    // Not measured: report the CAM region's slice range.
    double kMin = 1e9, kMax = -1e9;
    for (double z : {comp.minLps[2], comp.maxLps[2]}) {
      const auto ijk = g.ijkFromLps({comp.peakLps[0], comp.peakLps[1], z});
      kMin = std::min(kMin, ijk[2]);
      kMax = std::max(kMax, ijk[2]);
    }
    f.sliceFirst = std::clamp(static_cast<int>(std::round(kMin)), 0, g.size[2] - 1);
    f.sliceLast = std::clamp(static_cast<int>(std::round(kMax)), 0, g.size[2] - 1);
    return f;
  }
  // Voxel statistics of the chosen component.
  double sx = 0, sy = 0, sz = 0, huSum = 0, camIn = 0;
  std::size_t solid = 0;
  for (int k = selMn[2]; k <= selMx[2]; ++k)
    for (int j = selMn[1]; j <= selMx[1]; ++j)
      for (int i = selMn[0]; i <= selMx[0]; ++i) {
        if (!selAt(i, j, k)) continue;
        sx += i;
        sy += j;
        sz += k;
        const int hu = ctAt(i, j, k);
        huSum += hu;
        if (hu > -300) ++solid;
        if (!cam.empty()) camIn += cam[ct.index(lo[0] + i, lo[1] + j, lo[2] + k)];
      }
  const double cnt = static_cast<double>(selCount);
  f.measured = true;
  f.centerLps = lpsOf(sx / cnt, sy / cnt, sz / cnt);
  f.meanHu = huSum / cnt;
  f.volumeMl = cnt * voxMl;
  f.solidFraction = solid / cnt;
  f.camInsideNodule = cam.empty() ? 0 : camIn / cnt;
  // Diameters at a type-dependent threshold on the axial plane of largest area (second moments).
  auto axesAt = [&](int threshold, double& longAx, double& shortAx) {
    longAx = shortAx = 0;
    double bestArea = 0;
    for (int k = selMn[2]; k <= selMx[2]; ++k) {
      double n = 0, mx_ = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (int j = selMn[1]; j <= selMx[1]; ++j)
        for (int i = selMn[0]; i <= selMx[0]; ++i) {
          if (!selAt(i, j, k) || ctAt(i, j, k) <= threshold) continue;
          const double x = i * g.spacingMm[0], y = j * g.spacingMm[1];
          n += 1;
          mx_ += x;
          my += y;
          sxx += x * x;
          syy += y * y;
          sxy += x * y;
        }
      const double area = n * g.spacingMm[0] * g.spacingMm[1];
      if (n < 3 || area <= bestArea) continue;
      bestArea = area;
      mx_ /= n;
      my /= n;
      const double cxx = sxx / n - mx_ * mx_, cyy = syy / n - my * my, cxy = sxy / n - mx_ * my;
      const double tr = cxx + cyy, det = cxx * cyy - cxy * cxy;
      const double disc = std::sqrt(std::max(0.0, tr * tr / 4 - det));
      const double l1 = tr / 2 + disc, l2 = std::max(0.0, tr / 2 - disc);
      // Filled ellipse: variance along a semi-axis a is a^2/4; pixel size adds s^2/12.
      const double pix = g.spacingMm[0] * g.spacingMm[1] / 12.0;
      longAx = 4.0 * std::sqrt(std::max(0.0, l1 - pix));
      shortAx = 4.0 * std::sqrt(std::max(0.0, l2 - pix));
      // Guard against a degenerate moment estimate: not less than the area-equivalent circle's bounds.
      const double eq = 2.0 * std::sqrt(area / M_PI);
      if (longAx < eq) longAx = eq;
      if (shortAx > eq) shortAx = eq;
    }
  };
  // Type from the HU distribution: diameter of the > -300 HU core against the whole (> -725 HU) nodule.
  // Partial volume widens the whole nodule by about one in-plane voxel on each side, so a solid nodule's
  // difference stays within ~1.6 voxels; a sub-solid rim adds more. Below ~10 mm a thin ground-glass rim
  // hides in that partial-volume band, so the share of > -300 HU voxels decides too: a solid nodule's is
  // >= ~0.25 at 6 mm and >= ~0.39 from 9 mm (phantom cohorts, seeds 12/13), a part-solid one's lower.
  // Any solid core (a few voxels > -300 HU; ground glass alone stays below ~-500 HU) rules out non-solid;
  // a core too small for the axial moments is sized by its volume.
  double allL = 0, allS = 0, coreL = 0, coreS = 0;
  axesAt(-725, allL, allS);
  axesAt(-300, coreL, coreS);
  const double dAll = 0.5 * (allL + allS);
  double dCore = 0.5 * (coreL + coreS);
  const double pix = std::max(g.spacingMm[0], g.spacingMm[1]);
  if (solid > 0 && dCore < 1.5) dCore = std::cbrt(6.0 * static_cast<double>(solid) * voxMl * 1000.0 / M_PI);
  const double minSolidShare = 0.22 + 0.14 * std::clamp((dAll - 6.0) / 3.0, 0.0, 1.0);
  if (f.solidFraction < 0.02 || solid < 1) {
    f.type = "non_solid";
  } else if ((dAll - dCore <= 1.6 * pix + 0.8 || dCore >= 0.85 * dAll) && f.solidFraction >= minSolidShare) {
    f.type = "solid";
  } else {
    f.type = "part_solid";
  }
  axesAt(f.type == "solid" ? -400 : -725, f.longAxisMm, f.shortAxisMm);
  f.diameterMm = 0.5 * (f.longAxisMm + f.shortAxisMm);
  if (f.diameterMm < 2.0) {  // nothing nodule-like at the measuring threshold
    f.measured = false;
    f.centerLps = comp.peakLps;
    f.diameterMm = f.longAxisMm = f.shortAxisMm = 0;
    f.type.clear();
  }
  if (f.type == "solid") {
    f.solidDiameterMm = f.diameterMm;
  } else if (f.type == "part_solid") {
    f.solidDiameterMm = dCore;
  }
  // Slice range of the nodule (CT k indices).
  f.sliceFirst = lo[2] + selMn[2];
  f.sliceLast = lo[2] + selMx[2];
  return f;
}

namespace {
// Lung centroid of the phantom's chests as preprocessing measures it (4 mm lung mask incl. trachea),
// mean over generated cases (medseek-cli evaluate-explain prints it per case).
constexpr double kRefCentroidX = -1.4;
constexpr double kRefCentroidY = 0.1;
constexpr double kRefCentroidZ = -117.9;
}  // namespace

std::pair<std::string, double> lobeFromPosition(const std::array<double, 3>& lps,
                                                const std::array<double, 3>& lungCentroidLps) {
  static const phantom::ChestAnatomy reference{phantom::ChestAnatomy::Parameters{}};
  const std::array<double, 3> p{lps[0] - lungCentroidLps[0] + kRefCentroidX,
                                lps[1] - lungCentroidLps[1] + kRefCentroidY, lps[2] - lungCentroidLps[2] + kRefCentroidZ};
  return {phantom::toString(reference.lobeByFissures(p)), reference.fissureDistanceMm(p)};
}

std::string lobeRuleDescription() {
  return "fissure planes of the reference chest (phantom anatomy), aligned to this scan's lung centroid";
}

double spearman(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.size() < 2) throw ExplainError("spearman: vectors differ in length or are too short");
  auto ranks = [](const std::vector<float>& v) {
    std::vector<std::size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) { return v[x] < v[y]; });
    std::vector<double> r(v.size());
    for (std::size_t s = 0; s < idx.size();) {
      std::size_t e = s;
      while (e + 1 < idx.size() && v[idx[e + 1]] == v[idx[s]]) ++e;
      const double mean = 0.5 * (static_cast<double>(s) + static_cast<double>(e));
      for (std::size_t t = s; t <= e; ++t) r[idx[t]] = mean;
      s = e + 1;
    }
    return r;
  };
  const auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / std::sqrt(saa * sbb);
}

}  // namespace explain
