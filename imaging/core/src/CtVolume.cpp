#include "imaging/CtVolume.h"

#include <cmath>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace imaging {

namespace {
constexpr std::size_t kRecycleMinBytes = std::size_t{16} << 20;
struct VoxelPool {
  std::mutex m;
  std::size_t maxBytes = 0, heldBytes = 0;
  std::multimap<std::size_t, void*> held;  // by size
  VoxelBufferCounts counts;
};
VoxelPool& pool() {
  static VoxelPool* p = new VoxelPool;  // never destroyed: buffers may be freed during static destruction
  return *p;
}
}  // namespace

namespace detail {
void* allocateVoxels(std::size_t bytes) {
  if (bytes >= kRecycleMinBytes) {
    auto& p = pool();
    std::lock_guard<std::mutex> lock(p.m);
    auto it = p.held.find(bytes);
    if (it != p.held.end()) {
      void* b = it->second;
      p.held.erase(it);
      p.heldBytes -= bytes;
      ++p.counts.reused;
      return b;
    }
    ++p.counts.fresh;
  }
  return ::operator new(bytes);
}

void freeVoxels(void* b, std::size_t bytes) noexcept {
  if (bytes >= kRecycleMinBytes) {
    auto& p = pool();
    std::lock_guard<std::mutex> lock(p.m);
    if (p.heldBytes + bytes <= p.maxBytes) {
      try {
        p.held.emplace(bytes, b);
        p.heldBytes += bytes;
        return;
      } catch (...) {  // no memory for the map node: free the buffer instead
      }
    }
  }
  ::operator delete(b);
}
}  // namespace detail

VoxelBufferCounts voxelBufferCounts() {
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.m);
  return p.counts;
}

void setVoxelBufferRecycling(std::size_t maxBytes) {
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.m);
  p.maxBytes = maxBytes;
  while (p.heldBytes > maxBytes) {  // drop the largest buffers first
    auto it = std::prev(p.held.end());
    p.heldBytes -= it->first;
    ::operator delete(it->second);
    p.held.erase(it);
  }
}

std::array<double, 3> VolumeGeometry::lpsFromIjk(const std::array<double, 3>& ijk) const {
  std::array<double, 3> out = originLps;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r] += directionLps[r * 3 + c] * spacingMm[c] * ijk[c];
  return out;
}

std::array<double, 3> VolumeGeometry::ijkFromLps(const std::array<double, 3>& lps) const {
  // Direction matrix is orthonormal for every grid we build or accept, so its inverse is its transpose.
  std::array<double, 3> d{lps[0] - originLps[0], lps[1] - originLps[1], lps[2] - originLps[2]};
  std::array<double, 3> out{};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += directionLps[r * 3 + c] * d[r];
    out[c] = s / spacingMm[c];
  }
  return out;
}

bool VolumeGeometry::sameGridAs(const VolumeGeometry& o, double tol) const {
  if (size != o.size) return false;
  for (int a = 0; a < 3; ++a) {
    if (std::abs(spacingMm[a] - o.spacingMm[a]) > tol) return false;
    if (std::abs(originLps[a] - o.originLps[a]) > tol) return false;
  }
  for (int e = 0; e < 9; ++e)
    if (std::abs(directionLps[e] - o.directionLps[e]) > 1e-6) return false;
  return true;
}

CtVolume::CtVolume(const VolumeGeometry& geometry, Values valuesHu)
    : geometry_(geometry), valuesHu_(std::move(valuesHu)) {
  if (valuesHu_.size() != geometry_.voxelCount())
    throw std::invalid_argument("CtVolume: " + std::to_string(valuesHu_.size()) +
                                " voxels given for a grid of " +
                                std::to_string(geometry_.voxelCount()));
}

CtVolume CtVolume::uninitialized(const VolumeGeometry& geometry) {
  CtVolume v;
  v.geometry_ = geometry;
  v.valuesHu_.resize(geometry.voxelCount());  // default-initialised: no write, no page touched
  return v;
}

}  // namespace imaging
