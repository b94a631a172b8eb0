#pragma once
/// CtVolume: a 3-D CT volume in Hounsfield units with its DICOM LPS geometry.
///
/// The one value type every layer exchanges (phantom generator, DICOM loader, model preprocessing,
/// Grad-CAM mapping, viewers). It has no third-party dependency, so it builds on the GPU machine too.
///
///   imaging::VolumeGeometry g;
///   g.size = {512, 512, 300};             // columns (i), rows (j), slices (k)
///   g.spacingMm = {0.7, 0.7, 1.25};
///   g.originLps = {-179.2, -179.2, -300}; // centre of voxel (0,0,0)
///   imaging::CtVolume ct(g);              // filled with -1024 HU (air)
///   ct.at(256, 256, 150) = 40;
///   auto p = g.lpsFromIjk({256, 256, 150}); // patient position in mm
///
/// Memory layout: index = i + size[0] * (j + size[1] * k), i fastest (DICOM column order).
/// Storage: `CtVolume::Values`, a std::vector whose resize() does not zero new voxels, so a loader can
/// allocate the buffer and write every voxel exactly once (`CtVolume::uninitialized`).
/// Limitations: int16 only (values outside [-32768, 32767] HU do not occur in CT).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace imaging {

namespace detail {
void* allocateVoxels(std::size_t bytes);
void freeVoxels(void* p, std::size_t bytes) noexcept;
}  // namespace detail

/// Voxel-buffer recycling for batch work: while on, freed voxel buffers of 16 MB or more are kept (up to
/// `maxBytes` in all) and handed to the next allocation of exactly the same size, so a run over many
/// same-sized studies reuses memory the kernel has already mapped instead of faulting in and zeroing fresh
/// pages for every volume. Off by default (a single load must not look faster than it is, and memory goes
/// back to the system); `setVoxelBufferRecycling(0)` turns it off and frees what is kept. Thread-safe.
void setVoxelBufferRecycling(std::size_t maxBytes);

/// How the recyclable voxel buffers (16 MB or more) were served since the process started: `fresh` from the
/// system (new pages, faulted in on first touch), `reused` from the recycling pool. Thread-safe.
struct VoxelBufferCounts {
  std::size_t fresh = 0, reused = 0;
};
VoxelBufferCounts voxelBufferCounts();

/// std::allocator whose value-less construct() default-initialises: `resize(n)` of an int16 vector
/// leaves the new elements indeterminate instead of writing zeros over hundreds of MB. Large buffers may
/// be recycled (setVoxelBufferRecycling).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::allocateVoxels(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { detail::freeVoxels(p, n * sizeof(T)); }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// Voxel grid in DICOM patient coordinates (LPS, millimetres).
struct VolumeGeometry {
  std::array<int, 3> size{0, 0, 0};           ///< columns (i), rows (j), slices (k)
  std::array<double, 3> spacingMm{1.0, 1.0, 1.0};
  std::array<double, 3> originLps{0.0, 0.0, 0.0};  ///< LPS position of voxel (0,0,0) centre
  /// Direction cosines: column c of this row-major 3x3 matrix is the LPS direction of axis c
  /// (axis 0 = along a row = DICOM IOP first triplet, axis 1 = IOP second triplet, axis 2 = normal).
  std::array<double, 9> directionLps{1, 0, 0, 0, 1, 0, 0, 0, 1};

  std::size_t voxelCount() const {
    return static_cast<std::size_t>(size[0]) * static_cast<std::size_t>(size[1]) *
           static_cast<std::size_t>(size[2]);
  }
  std::array<double, 3> lpsFromIjk(const std::array<double, 3>& ijk) const;
  std::array<double, 3> ijkFromLps(const std::array<double, 3>& lps) const;
  /// Physical extent (mm) along each axis, voxel centre to voxel centre plus one spacing.
  std::array<double, 3> extentMm() const {
    return {size[0] * spacingMm[0], size[1] * spacingMm[1], size[2] * spacingMm[2]};
  }
  bool sameGridAs(const VolumeGeometry& other, double toleranceMm = 1e-3) const;
};

/// int16 HU voxels + geometry. Copyable value type; moves are cheap.
class CtVolume {
 public:
  static constexpr int16_t kAirHu = -1024;
  /// The voxel buffer: int16 HU, index() order. Only resize() without a value differs from
  /// std::vector<int16_t> (it does not zero).
  using Values = std::vector<int16_t, DefaultInitAllocator<int16_t>>;

  CtVolume() = default;
  explicit CtVolume(const VolumeGeometry& geometry, int16_t fillHu = kAirHu)
      : geometry_(geometry), valuesHu_(geometry.voxelCount(), fillHu) {}
  /// Takes the buffer (moved, never copied by the constructor); its size must be geometry.voxelCount().
  CtVolume(const VolumeGeometry& geometry, Values valuesHu);
  /// A volume whose voxels are NOT initialised (no page is touched): for loaders that write every voxel
  /// before anyone reads one.
  static CtVolume uninitialized(const VolumeGeometry& geometry);

  const VolumeGeometry& geometry() const { return geometry_; }
  const Values& valuesHu() const { return valuesHu_; }
  Values& valuesHu() { return valuesHu_; }
  int16_t* data() { return valuesHu_.data(); }
  const int16_t* data() const { return valuesHu_.data(); }
  bool empty() const { return valuesHu_.empty(); }

  std::size_t index(int i, int j, int k) const {
    return static_cast<std::size_t>(i) +
           static_cast<std::size_t>(geometry_.size[0]) *
               (static_cast<std::size_t>(j) + static_cast<std::size_t>(geometry_.size[1]) * k);
  }
  int16_t& at(int i, int j, int k) { return valuesHu_[index(i, j, k)]; }
  int16_t at(int i, int j, int k) const { return valuesHu_[index(i, j, k)]; }
  bool contains(int i, int j, int k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < geometry_.size[0] && j < geometry_.size[1] &&
           k < geometry_.size[2];
  }

 private:
  VolumeGeometry geometry_;
  Values valuesHu_;
};

}  // namespace imaging
