#include "multimodal/Preprocessing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include <torch/torch.h>
#ifdef MEDSEEK_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "multimodal/ModelError.h"
#include "multimodal/detail/EnclosedAir.h"

namespace multimodal {
namespace {

struct AxisMap {
  std::array<int, 3> volAxis{};    // LPS axis a is volume axis volAxis[a]
  std::array<double, 3> sign{};    // +1 / -1
};

bool mapAxes(const imaging::VolumeGeometry& g, AxisMap& m) {
  std::array<bool, 3> used{false, false, false};
  for (int c = 0; c < 3; ++c) {
    int best = -1;
    for (int a = 0; a < 3; ++a) {
      const double v = g.directionLps[static_cast<std::size_t>(a * 3 + c)];
      if (std::abs(v) > 0.995) best = a;
    }
    if (best < 0 || used[static_cast<std::size_t>(best)]) return false;
    used[static_cast<std::size_t>(best)] = true;
    m.volAxis[static_cast<std::size_t>(best)] = c;
    m.sign[static_cast<std::size_t>(best)] = g.directionLps[static_cast<std::size_t>(best * 3 + c)] > 0 ? 1.0 : -1.0;
  }
  return true;
}

struct Tap {
  int n;
  float w;
};
struct Row {
  std::vector<Tap> taps;
  float airWeight = 0;
};

// Tent-filter weights from input samples p_n = origin + sign*n*sp (n in [0,N)) to outputs x_o.
std::vector<Row> axisWeights(int n, double origin, double sign, double sp, int outN, double outOrigin,
                             double outSp) {
  std::vector<Row> rows(static_cast<std::size_t>(outN));
  const double r = std::max(sp, outSp);
  for (int o = 0; o < outN; ++o) {
    const double x = outOrigin + o * outSp;
    const double t = (x - origin) / (sign * sp);  // fractional input index
    const double halfWidth = r / sp;
    const int lo = static_cast<int>(std::floor(t - halfWidth)), hi = static_cast<int>(std::ceil(t + halfWidth));
    double total = 0;
    Row& row = rows[static_cast<std::size_t>(o)];
    for (int k = lo; k <= hi; ++k) {
      const double w = 1.0 - std::abs(k - t) / halfWidth;
      if (w <= 0) continue;
      total += w;
      if (k >= 0 && k < n) row.taps.push_back({k, static_cast<float>(w)});
      else row.airWeight += static_cast<float>(w);
    }
    if (total <= 0) {
      row.airWeight = 1;
      continue;
    }
    for (auto& tp : row.taps) tp.w = static_cast<float>(tp.w / total);
    row.airWeight = static_cast<float>(row.airWeight / total);
  }
  return rows;
}

void parallelFor(int n, int threads, const std::function<void(int, int)>& fn) {
  threads = std::max(1, std::min(threads, n));
  if (threads == 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const int b = n * t / threads, e = n * (t + 1) / threads;
    pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  for (auto& th : pool) th.join();
}

int threadCount(int requested) {
  if (requested > 0) return requested;
  return std::max(1, std::min(8, static_cast<int>(std::thread::hardware_concurrency())));
}

// One output sample for each of W lines side by side (lane l of a tap's input at src + n * tapStride + l):
// acc = air weight * air, then += w * x tap by tap, per lane exactly the operations of a single sample
// (the same rounding); the W lanes are independent chains that the compiler keeps in registers.
template <int W, typename In>
void tapLanes(const Row& r, const In* src, std::size_t tapStride, float air, float* out) {
  float acc[W];
  for (int l = 0; l < W; ++l) acc[l] = r.airWeight * air;
  for (const Tap& t : r.taps) {
    const In* x = src + static_cast<std::size_t>(t.n) * tapStride;
    for (int l = 0; l < W; ++l) acc[l] += t.w * x[l];
  }
  for (int l = 0; l < W; ++l) out[l] = acc[l];
}

// Applies 1-D weights along axis `ax` of a dims[0] x dims[1] x dims[2] array (axis 0 fastest) into `out`
// (dims with rows.size() along ax), for the indices [u0, u1) of the outer axis: axis 2, or axis 1 for
// ax = 2.
template <typename In>
void passLines(const In* in, const std::array<int, 3>& dims, int ax, const std::vector<Row>& rows, float* out,
               int u0, int u1) {
  std::array<int, 3> od = dims;
  od[static_cast<std::size_t>(ax)] = static_cast<int>(rows.size());
  const std::size_t s1 = static_cast<std::size_t>(dims[0]), s2 = s1 * dims[1];
  const std::size_t o1 = static_cast<std::size_t>(od[0]), o2 = o1 * od[1];
  const float air = static_cast<float>(imaging::CtVolume::kAirHu);
  const std::size_t nOut = rows.size();
  if (ax == 0) {
    // Lines along axis 0: kLines of them (consecutive j) at a time, their input transposed so that the
    // lines are the lanes.
    constexpr int kLines = 8;
    std::vector<In> tr(s1 * kLines);
    float acc[kLines];
    for (int k = u0; k < u1; ++k) {
      int j = 0;
      for (; j + kLines <= od[1]; j += kLines) {
        const In* src = in + static_cast<std::size_t>(k) * s2 + static_cast<std::size_t>(j) * s1;
        for (int l = 0; l < kLines; ++l)  // line by line: sequential reads
          for (std::size_t n = 0; n < s1; ++n) tr[n * kLines + static_cast<std::size_t>(l)] = src[static_cast<std::size_t>(l) * s1 + n];
        float* dst = out + static_cast<std::size_t>(k) * o2 + static_cast<std::size_t>(j) * o1;
        for (std::size_t o = 0; o < nOut; ++o) {
          tapLanes<kLines>(rows[o], tr.data(), kLines, air, acc);
          for (int l = 0; l < kLines; ++l) dst[static_cast<std::size_t>(l) * o1 + o] = acc[l];
        }
      }
      for (; j < od[1]; ++j) {
        const In* src = in + static_cast<std::size_t>(k) * s2 + static_cast<std::size_t>(j) * s1;
        float* dst = out + static_cast<std::size_t>(k) * o2 + static_cast<std::size_t>(j) * o1;
        for (std::size_t o = 0; o < nOut; ++o) tapLanes<1>(rows[o], src, 1, air, dst + o);
      }
    }
  } else {
    // Lines along axis 1 or 2: the lines of consecutive i are contiguous, the lanes; 32, 8, then 1 at a time.
    const int outer = ax == 2 ? 1 : 2;
    const std::size_t strideIn[3] = {1, s1, s2};
    const std::size_t strideOut[3] = {1, o1, o2};
    const std::size_t tapStride = strideIn[ax], lanes = s1;
    for (int u = u0; u < u1; ++u)
      for (std::size_t o = 0; o < nOut; ++o) {
        const In* src = in + static_cast<std::size_t>(u) * strideIn[outer];
        float* dst = out + static_cast<std::size_t>(u) * strideOut[outer] + o * strideOut[ax];
        std::size_t l = 0;
        for (; l + 32 <= lanes; l += 32) tapLanes<32>(rows[o], src + l, tapStride, air, dst + l);
        for (; l + 8 <= lanes; l += 8) tapLanes<8>(rows[o], src + l, tapStride, air, dst + l);
        for (; l < lanes; ++l) tapLanes<1>(rows[o], src + l, tapStride, air, dst + l);
      }
  }
}

// passLines over the whole array, parallelised over its outer axis (the slowest axis that is not the
// filtered one); dims becomes the output's.
template <typename In>
std::vector<float> passAlong(const In* in, std::array<int, 3>& dims, int ax, const std::vector<Row>& rows,
                             int threads) {
  std::array<int, 3> od = dims;
  od[static_cast<std::size_t>(ax)] = static_cast<int>(rows.size());
  std::vector<float> out(static_cast<std::size_t>(od[0]) * od[1] * od[2]);
  parallelFor(od[ax == 2 ? 1 : 2], threads, [&](int b, int e) { passLines(in, dims, ax, rows, out.data(), b, e); });
  dims = od;
  return out;
}

}  // namespace

std::vector<float> resampleToGrid(const imaging::CtVolume& volume, const std::array<int, 3>& size,
                                  const std::array<double, 3>& spacingMm, const std::array<double, 3>& originLps,
                                  int threads) {
  const auto& g = volume.geometry();
  AxisMap m;
  if (!mapAxes(g, m)) throw ModelError("volume orientation is not axis-aligned (oblique); cannot resample");
  threads = threadCount(threads);
  // Per volume axis c: the LPS axis it maps to, its weights.
  std::array<int, 3> lpsOf{};
  for (int a = 0; a < 3; ++a) lpsOf[static_cast<std::size_t>(m.volAxis[static_cast<std::size_t>(a)])] = a;
  std::array<int, 3> dims = g.size;
  // Order of passes: the axis with the largest reduction first keeps the work small.
  std::array<int, 3> order{0, 1, 2};
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    const auto ax = static_cast<std::size_t>(lpsOf[static_cast<std::size_t>(x)]);
    const auto ay = static_cast<std::size_t>(lpsOf[static_cast<std::size_t>(y)]);
    return static_cast<double>(size[ax]) / g.size[static_cast<std::size_t>(x)] <
           static_cast<double>(size[ay]) / g.size[static_cast<std::size_t>(y)];
  });
  std::array<std::vector<Row>, 3> rows;  // by pass
  for (std::size_t p = 0; p < 3; ++p) {
    const int c = order[p];
    const auto a = static_cast<std::size_t>(lpsOf[static_cast<std::size_t>(c)]);
    // LPS coordinate of volume index n along axis c (axis-aligned): origin[a] + sign*n*spacing[c].
    rows[p] = axisWeights(g.size[static_cast<std::size_t>(c)], g.originLps[a], m.sign[a],
                          g.spacingMm[static_cast<std::size_t>(c)], size[a], originLps[a], spacingMm[a]);
  }
  // The first pass reads int16 directly.
  std::vector<float> cur;
  std::size_t p = 0;
  if (order[2] == 2) {
    // Both in-plane passes first (the usual case): slice by slice, so that the first pass's output stays
    // one slice (in cache) instead of a whole volume.
    std::array<int, 3> d1 = dims, d2{};
    d1[static_cast<std::size_t>(order[0])] = static_cast<int>(rows[0].size());
    d2 = d1;
    d2[static_cast<std::size_t>(order[1])] = static_cast<int>(rows[1].size());
    const std::size_t plane0 = static_cast<std::size_t>(dims[0]) * dims[1],
                      plane1 = static_cast<std::size_t>(d1[0]) * d1[1], plane2 = static_cast<std::size_t>(d2[0]) * d2[1];
    cur.resize(plane2 * static_cast<std::size_t>(dims[2]));
    parallelFor(dims[2], threads, [&](int b, int e) {
      std::vector<float> slice(plane1);
      for (int k = b; k < e; ++k) {
        passLines(volume.data() + static_cast<std::size_t>(k) * plane0, {dims[0], dims[1], 1}, order[0], rows[0],
                  slice.data(), 0, 1);
        passLines(slice.data(), {d1[0], d1[1], 1}, order[1], rows[1], cur.data() + static_cast<std::size_t>(k) * plane2, 0, 1);
      }
    });
    dims = d2;
    p = 2;
  }
  for (; p < 3; ++p)
    cur = p == 0 ? passAlong(volume.data(), dims, order[p], rows[p], threads)
                 : passAlong(cur.data(), dims, order[p], rows[p], threads);
  // Now dims[c] = size[lpsOf[c]]; reorder so that LPS axis 0 is fastest.
  if (m.volAxis[0] == 0 && m.volAxis[1] == 1 && m.volAxis[2] == 2) return cur;
  std::vector<float> out(cur.size());
  const std::size_t st[3] = {1, static_cast<std::size_t>(dims[0]), static_cast<std::size_t>(dims[0]) * dims[1]};
  for (int k = 0; k < size[2]; ++k)
    for (int j = 0; j < size[1]; ++j)
      for (int i = 0; i < size[0]; ++i) {
        const int idx[3] = {i, j, k};
        std::size_t src = 0;
        for (int a = 0; a < 3; ++a) src += static_cast<std::size_t>(idx[a]) * st[m.volAxis[static_cast<std::size_t>(a)]];
        out[static_cast<std::size_t>(i) + static_cast<std::size_t>(size[0]) * (j + static_cast<std::size_t>(size[1]) * k)] = cur[src];
      }
  return out;
}

namespace {
// resampleToGrid on a LibTorch device: each pass's taps as a dense [out, in] matrix plus its air term,
// applied as a float32 matrix product (TF32 off, LibTorch's default for matmul), so the result equals the
// CPU's up to float rounding. On CUDA the work runs on a stream of its own (when this build has LibTorch's
// CUDA headers), so that a worker thread never waits behind the model's batches; the volume goes up in
// chunks through small page-locked buffers (DMA), the result comes down straight into the returned vector.
// `waitSeconds`: how long the thread waited for the device at the end.
void resampleOnDevice(const imaging::CtVolume& volume, const std::array<int, 3>& size,
                      const std::array<double, 3>& spacingMm, const std::array<double, 3>& originLps,
                      const torch::Device& device, std::vector<float>& result, double& waitSeconds) {
  const auto& g = volume.geometry();
  AxisMap m;
  if (!mapAxes(g, m)) throw ModelError("volume orientation is not axis-aligned (oblique); cannot resample");
  std::array<int, 3> lpsOf{};
  for (int a = 0; a < 3; ++a) lpsOf[static_cast<std::size_t>(m.volAxis[static_cast<std::size_t>(a)])] = a;
#ifdef MEDSEEK_TORCH_CUDA
  // One stream per thread for its whole life: the caching allocator keeps its blocks per stream, so the
  // thread's next volume reuses them (a new pool stream per call meant fresh device allocations).
  thread_local std::optional<c10::cuda::CUDAStream> own;
  std::optional<c10::cuda::CUDAStreamGuard> stream;
  if (device.is_cuda()) {
    const auto index = device.has_index() ? device.index() : c10::cuda::current_device();
    if (!own || own->device_index() != index) own = c10::cuda::getStreamFromPool(false, index);
    stream.emplace(*own);
  }
#endif
  torch::NoGradGuard noGrad;
  // Each pass's taps as a dense [out, in] matrix and its air term, up in one copy before the volume.
  std::array<std::pair<torch::Tensor, torch::Tensor>, 3> passWeights;
  {
    std::array<std::vector<Row>, 3> rows;
    int64_t total = 0;
    for (int c : {0, 1, 2}) {
      const auto a = static_cast<std::size_t>(lpsOf[static_cast<std::size_t>(c)]);
      const auto cc = static_cast<std::size_t>(c);
      rows[cc] = axisWeights(g.size[cc], g.originLps[a], m.sign[a], g.spacingMm[cc], size[a], originLps[a], spacingMm[a]);
      total += static_cast<int64_t>(rows[cc].size()) * (g.size[cc] + 1);
    }
    auto host = torch::zeros({total}, torch::kFloat);
    float* p = host.data_ptr<float>();
    for (const auto& rs : rows)  // the air terms first
      for (const Row& r : rs) *p++ = r.airWeight * static_cast<float>(imaging::CtVolume::kAirHu);
    for (std::size_t c = 0; c < 3; ++c) {  // then the matrices, one after the other
      const auto inN = static_cast<std::size_t>(g.size[c]);
      for (std::size_t o = 0; o < rows[c].size(); ++o)
        for (const Tap& t : rows[c][o].taps) p[o * inN + static_cast<std::size_t>(t.n)] += t.w;
      p += rows[c].size() * inN;
    }
    auto dev = host.to(device);
    int64_t airAt = 0, wAt = 0;
    for (const auto& rs : rows) wAt += static_cast<int64_t>(rs.size());
    for (std::size_t c = 0; c < 3; ++c) {
      const auto outN = static_cast<int64_t>(rows[c].size()), inN = static_cast<int64_t>(g.size[c]);
      passWeights[c] = {dev.narrow(0, wAt, outN * inN).view({outN, inN}), dev.narrow(0, airAt, outN)};
      airAt += outN;
      wAt += outN * inN;
    }
  }
  const auto nIn = static_cast<int64_t>(g.voxelCount());
  const int16_t* voxels = volume.data();
  torch::Tensor up;  // the volume on the device, int16
#ifdef MEDSEEK_TORCH_CUDA
  if (device.is_cuda()) {
    // Up in 8 MB chunks through two page-locked buffers per thread: the copy into one overlaps the DMA
    // from the other. A whole-volume page-locked buffer per thread cost a page-locked allocation of
    // 256 MB per worker (~0.3 s each, and every allocation stalls the CUDA calls of all threads).
    constexpr int64_t kChunk = int64_t{4} << 20;  // int16 voxels
    thread_local std::array<torch::Tensor, 2> chunk;
    thread_local std::array<std::optional<at::cuda::CUDAEvent>, 2> copied;
    up = torch::empty({nIn}, torch::TensorOptions().dtype(torch::kInt16).device(device));
    for (int64_t off = 0, k = 0; off < nIn; off += kChunk, ++k) {
      const auto slot = static_cast<std::size_t>(k & 1);
      const int64_t n = std::min(kChunk, nIn - off);
      if (!chunk[slot].defined())
        chunk[slot] = torch::empty({kChunk}, torch::TensorOptions().dtype(torch::kInt16).pinned_memory(true));
      if (copied[slot]) copied[slot]->synchronize();  // its previous DMA has finished
      std::memcpy(chunk[slot].data_ptr<int16_t>(), voxels + off, static_cast<std::size_t>(n) * sizeof(int16_t));
      up.narrow(0, off, n).copy_(chunk[slot].narrow(0, 0, n), /*non_blocking=*/true);
      if (!copied[slot]) copied[slot].emplace();
      copied[slot]->record(*own);
    }
  }
#endif
  if (!up.defined())  // from pageable memory: the driver stages the copy
    up = torch::from_blob(const_cast<int16_t*>(voxels), {nIn}, torch::kInt16).to(device);
  // [k][j][i]: tensor dim 2 - c is volume axis c.
  auto v = up.view({g.size[2], g.size[1], g.size[0]}).to(torch::kFloat);
  for (int c : {0, 1, 2}) {  // in-plane first: the largest reductions
    const auto [w, air] = passWeights[static_cast<std::size_t>(c)];
    const auto outN = w.size(0), inN = w.size(1);
    if (c == 0) {
      v = torch::matmul(v, w.t()) + air.view({1, 1, outN});
    } else if (c == 1) {
      v = torch::matmul(w, v) + air.view({1, outN, 1});
    } else {
      const auto rest = v.size(1) * v.size(2);
      v = (torch::matmul(w, v.reshape({inN, rest})) + air.view({outN, 1})).reshape({outN, v.size(1), v.size(2)});
    }
  }
  // Tensor dim 2 - c holds LPS axis lpsOf[c]; LPS axis 0 must become the fastest (dim 2).
  std::vector<int64_t> perm(3);
  for (int aIdx = 0; aIdx < 3; ++aIdx)
    perm[static_cast<std::size_t>(2 - aIdx)] = 2 - m.volAxis[static_cast<std::size_t>(aIdx)];
  auto out = v.permute(perm).contiguous().view({-1});
  // Down straight into the result (a blocking copy: it waits for the work above, on this thread's stream).
  result.resize(static_cast<std::size_t>(out.numel()));
  const auto tw = std::chrono::steady_clock::now();
  torch::from_blob(result.data(), {out.numel()}, torch::kFloat).copy_(out);
  waitSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tw).count();
}
}  // namespace

namespace detail {
imaging::MaskComponents enclosedAir(const float* values, const std::array<int, 3>& dims, double threshold) {
  const int nx = dims[0], ny = dims[1];
  const std::size_t n = static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny) * static_cast<std::size_t>(dims[2]);
  thread_local std::vector<std::uint8_t> air;
  thread_local imaging::MaskComponents all;
  air.resize(n);
  for (std::size_t v = 0; v < n; ++v) air[v] = static_cast<double>(values[v]) < threshold;
  imaging::labelMaskComponents(air.data(), dims, all);
  // Components with a voxel on a lateral face are outside air; the others keep their raster order.
  std::vector<char> outside(all.voxels.size(), 0);
  for (const auto& r : all.runs)
    if (r.j == 0 || r.j + 1 == ny || r.begin == 0 || r.end == nx - 1) outside[static_cast<std::size_t>(r.component)] = 1;
  std::vector<int> number(all.voxels.size(), -1);
  imaging::MaskComponents out;
  for (std::size_t c = 0; c < all.voxels.size(); ++c)
    if (!outside[c]) {
      number[c] = static_cast<int>(out.voxels.size());
      out.voxels.push_back(all.voxels[c]);
    }
  for (const auto& r : all.runs)
    if (number[static_cast<std::size_t>(r.component)] >= 0)
      out.runs.push_back({r.begin, r.end, r.j, r.k, number[static_cast<std::size_t>(r.component)]});
  return out;
}
}  // namespace detail

PreprocessedVolume preprocessVolume(const imaging::CtVolume& volume, const PreprocessOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  PreprocessedVolume out;
  out.gridSize = opt.gridSize;
  out.spacingMm = opt.spacingMm;
  auto finish = [&](const std::string& reason) {
    out.inScope = reason.empty();
    out.reason = reason;
    if (!out.inScope) out.values.clear();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
  const auto& g = volume.geometry();
  if (volume.empty() || g.size[0] < 8 || g.size[1] < 8 || g.size[2] < 2)
    return finish("not a CT volume (empty or too small: " + std::to_string(g.size[0]) + "x" +
                  std::to_string(g.size[1]) + "x" + std::to_string(g.size[2]) + ")");
  AxisMap m;
  if (!mapAxes(g, m)) return finish("oblique orientation (not axis-aligned) is not supported");
  if (m.volAxis[2] != 2) return finish("not an axial acquisition (slice normal is not the S axis)");
  char buf[200];
  const double sliceMm = g.spacingMm[2];
  if (sliceMm > opt.maxSliceSpacingMm + 1e-6) {
    std::snprintf(buf, sizeof buf, "slices are %.1f mm apart (at most %.1f mm supported)", sliceMm,
                  opt.maxSliceSpacingMm);
    return finish(buf);
  }
  const double zCoverage = g.size[2] * sliceMm;
  if (zCoverage < opt.minZCoverageMm) {
    std::snprintf(buf, sizeof buf, "scan covers only %.0f mm in z (a chest CT needs at least %.0f mm)", zCoverage,
                  opt.minZCoverageMm);
    return finish(buf);
  }
  const int threads = threadCount(opt.threads);

  // ---- one resample onto the absolute LPS lattice (multiples of spacingMm) covering the volume ----
  // Small and full-size scans of one patient then sample the same points, and the crop is a sub-block.
  std::array<double, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    const int c = m.volAxis[static_cast<std::size_t>(a)];
    const double e0 = g.originLps[static_cast<std::size_t>(a)];
    const double e1 = e0 + m.sign[static_cast<std::size_t>(a)] * (g.size[static_cast<std::size_t>(c)] - 1) *
                               g.spacingMm[static_cast<std::size_t>(c)];
    lo[static_cast<std::size_t>(a)] = std::min(e0, e1);
    hi[static_cast<std::size_t>(a)] = std::max(e0, e1);
  }
  const double ms = opt.spacingMm;
  std::array<int, 3> md{};
  std::array<long, 3> first{};
  std::array<double, 3> fovOrigin{};
  for (std::size_t a = 0; a < 3; ++a) {
    first[a] = static_cast<long>(std::ceil(lo[a] / ms - 1e-9));
    const long last = static_cast<long>(std::floor(hi[a] / ms + 1e-9));
    md[a] = static_cast<int>(std::max(3L, last - first[a] + 1));
    fovOrigin[a] = static_cast<double>(first[a]) * ms;
  }
  // The lattice (~10 MB for a chest) is kept per thread for the next call: a batch run preprocesses many
  // studies on each worker, and a fresh buffer meant page faults for every one.
  thread_local std::vector<float> fovBuffer;
  std::vector<float>& fov = fovBuffer;
  if (opt.device == "cpu") {
    fov = resampleToGrid(volume, md, {ms, ms, ms}, fovOrigin, threads);
  } else {
    try {
      resampleOnDevice(volume, md, {ms, ms, ms}, fovOrigin, torch::Device(opt.device), fov, out.deviceWaitSeconds);
    } catch (const c10::Error& e) {
      throw ModelError("resampling on '" + opt.device + "' failed: " + e.what_without_backtrace());
    }
  }
  const std::size_t nx = static_cast<std::size_t>(md[0]), ny = static_cast<std::size_t>(md[1]),
                    nz = static_cast<std::size_t>(md[2]);
  // Lung mask: the air (< airThresholdHu) inside the body, i.e. not connected to the lateral faces; the
  // largest component and the second when it holds at least an eighth as much (the two lungs). Sizes sort
  // descending, equal sizes the later component (raster order) first.
  const imaging::MaskComponents air = detail::enclosedAir(fov.data(), md, opt.airThresholdHu);
  std::vector<std::pair<std::size_t, std::size_t>> comps;  // size, component
  for (std::size_t c = 0; c < air.voxels.size(); ++c) comps.push_back({air.voxels[c], c});
  std::sort(comps.rbegin(), comps.rend());
  const double voxMl = ms * ms * ms / 1000.0;
  std::vector<bool> keep(comps.size(), false);
  double lungVoxels = 0;
  for (std::size_t c = 0; c < comps.size() && c < 2; ++c)
    if (c == 0 || comps[c].first >= comps[0].first / 8) {
      keep[comps[c].second] = true;
      lungVoxels += static_cast<double>(comps[c].first);
    }
  out.lungVolumeMl = lungVoxels * voxMl;
  if (out.lungVolumeMl < opt.minLungVolumeMl) {
    std::snprintf(buf, sizeof buf, "no lungs found (%.0f ml of air inside the body; at least %.0f ml expected)",
                  out.lungVolumeMl, opt.minLungVolumeMl);
    return finish(buf);
  }
  // Centroid and bounding box of the kept voxels, summed in raster order.
  std::array<double, 3> sum{0, 0, 0};
  std::array<double, 3> mn{1e9, 1e9, 1e9}, mx{-1e9, -1e9, -1e9};
  for (const auto& r : air.runs) {
    if (!keep[static_cast<std::size_t>(r.component)]) continue;
    const double pj = fovOrigin[1] + static_cast<double>(r.j) * ms, pk = fovOrigin[2] + static_cast<double>(r.k) * ms;
    for (int i = r.begin; i <= r.end; ++i) {
      const double p[3] = {fovOrigin[0] + static_cast<double>(i) * ms, pj, pk};
      for (std::size_t a = 0; a < 3; ++a) {
        sum[a] += p[a];
        mn[a] = std::min(mn[a], p[a]);
        mx[a] = std::max(mx[a], p[a]);
      }
    }
  }
  for (std::size_t a = 0; a < 3; ++a) out.lungCentroidLps[a] = sum[a] / lungVoxels;
  out.lungMinLps = mn;
  out.lungMaxLps = mx;

  // ---- model grid: a gridSize^3 sub-block of the lattice centred on the lung centroid (air outside) ----
  const int G = opt.gridSize;
  std::array<long, 3> off{};  // lattice index (relative to the FOV grid) of model voxel 0
  for (std::size_t a = 0; a < 3; ++a) {
    const long centre = static_cast<long>(std::lround(out.lungCentroidLps[a] / ms));
    off[a] = centre - G / 2 - first[a];
    out.originLps[a] = static_cast<double>(centre - G / 2) * ms;
  }
  out.values.assign(static_cast<std::size_t>(G) * G * G, static_cast<float>(imaging::CtVolume::kAirHu));
  for (int k = 0; k < G; ++k) {
    const long sk = off[2] + k;
    if (sk < 0 || sk >= static_cast<long>(nz)) continue;
    for (int j = 0; j < G; ++j) {
      const long sj = off[1] + j;
      if (sj < 0 || sj >= static_cast<long>(ny)) continue;
      for (int i = 0; i < G; ++i) {
        const long si = off[0] + i;
        if (si < 0 || si >= static_cast<long>(nx)) continue;
        out.values[static_cast<std::size_t>(i) + static_cast<std::size_t>(G) * (static_cast<std::size_t>(j) + static_cast<std::size_t>(G) * static_cast<std::size_t>(k))] =
            fov[static_cast<std::size_t>(si) + nx * (static_cast<std::size_t>(sj) + ny * static_cast<std::size_t>(sk))];
      }
    }
  }
  const float lowHu = static_cast<float>(opt.windowLowHu), width = static_cast<float>(opt.windowHighHu - opt.windowLowHu);
  for (float& v : out.values) v = std::clamp(2.0f * (v - lowHu) / width - 1.0f, -1.0f, 1.0f);
  return finish("");
}

}  // namespace multimodal
