// Series assembly: geometry validation, then parallel decode of every slice straight into the volume.
#include "imaging/SeriesLoader.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dctk.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>

#include "Internal.h"

namespace imaging {
namespace fs = std::filesystem;

namespace {

const char* kEnhancedCt = "1.2.840.10008.5.1.4.1.1.2.1";

std::string fileName(const InstanceRecord& r) {
  return fs::path(r.path).filename().string();
}

std::string num(double v, int precision = 4) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

using Vec3 = std::array<double, 3>;
double dot(const Vec3& a, const Vec3& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double norm(const Vec3& a) {
  return std::sqrt(dot(a, a));
}

/// Stored values (raw 16-bit words) -> HU, in place (int16 and uint16 share the buffer).
/// Branch-free inner loops so the compiler vectorises them.
template <bool Signed>
void toHuInteger(const std::uint16_t* raw, int16_t* dst, std::size_t n, int shift, int bitsStored,
                 int intercept, bool padding, int padLo, int padHi) {
  const std::uint32_t mask = bitsStored >= 16 ? 0xFFFFu : ((1u << bitsStored) - 1u);
  const int up = 32 - bitsStored;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t u = (static_cast<std::uint32_t>(raw[i]) >> shift) & mask;
    const std::int32_t v = Signed ? (static_cast<std::int32_t>(u << up) >> up) : static_cast<std::int32_t>(u);
    std::int32_t hu = v + intercept;
    hu = hu < -32768 ? -32768 : (hu > 32767 ? 32767 : hu);
    if (padding) hu = (v >= padLo && v <= padHi) ? CtVolume::kAirHu : hu;
    dst[i] = static_cast<int16_t>(hu);
  }
}

template <bool Signed>
void toHuScaled(const std::uint16_t* raw, int16_t* dst, std::size_t n, int shift, int bitsStored,
                double slope, double intercept, bool padding, int padLo, int padHi) {
  const std::uint32_t mask = bitsStored >= 16 ? 0xFFFFu : ((1u << bitsStored) - 1u);
  const int up = 32 - bitsStored;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t u = (static_cast<std::uint32_t>(raw[i]) >> shift) & mask;
    const std::int32_t v = Signed ? (static_cast<std::int32_t>(u << up) >> up) : static_cast<std::int32_t>(u);
    double hu = std::nearbyint(v * slope + intercept);
    hu = hu < -32768.0 ? -32768.0 : (hu > 32767.0 ? 32767.0 : hu);
    if (padding && v >= padLo && v <= padHi) hu = CtVolume::kAirHu;
    dst[i] = static_cast<int16_t>(hu);
  }
}

// The common case (unsigned stored values, no shift, no padding, slope 1, integer intercept) in 16-bit
// lanes: HU = min(stored & mask, limit) + intercept. Built twice: AVX2 (chosen at run time) and baseline.
#define MEDSEEK_UNSIGNED16_BODY                                                                           \
  for (std::size_t i = 0; i < n; ++i) {                                                                   \
    std::uint16_t u = static_cast<std::uint16_t>(raw[i] & mask);                                          \
    u = u < limit ? u : limit;                                                                            \
    dst[i] = static_cast<int16_t>(static_cast<std::uint16_t>(u + static_cast<std::uint16_t>(intercept))); \
  }
__attribute__((target("avx2"))) void unsigned16Avx2(const std::uint16_t* raw, int16_t* dst, std::size_t n,
                                                    std::uint16_t mask, std::uint16_t limit, int intercept) {
  MEDSEEK_UNSIGNED16_BODY
}
void unsigned16Baseline(const std::uint16_t* raw, int16_t* dst, std::size_t n, std::uint16_t mask,
                        std::uint16_t limit, int intercept) {
  MEDSEEK_UNSIGNED16_BODY
}
#undef MEDSEEK_UNSIGNED16_BODY

void convertSlice(const InstanceRecord& r, const std::uint16_t* raw, int16_t* dst, std::size_t n) {
  if (r.pixelRepresentation == 0 && r.highBit + 1 == r.bitsStored && !r.hasPixelPadding &&
      r.rescaleSlope == 1.0 && std::nearbyint(r.rescaleIntercept) == r.rescaleIntercept &&
      r.rescaleIntercept >= -32768 && r.rescaleIntercept <= 32767) {
    const int icpt = static_cast<int>(r.rescaleIntercept);
    const std::uint16_t mask =
        static_cast<std::uint16_t>(r.bitsStored >= 16 ? 0xFFFFu : ((1u << r.bitsStored) - 1u));
    const int maxStored = 32767 - icpt;  // largest stored value whose HU fits int16
    const std::uint16_t limit = static_cast<std::uint16_t>(std::min(maxStored, 65535));
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2)
      unsigned16Avx2(raw, dst, n, mask, limit, icpt);
    else
      unsigned16Baseline(raw, dst, n, mask, limit, icpt);
    return;
  }
  const int shift = r.highBit + 1 - r.bitsStored;
  const bool isSigned = r.pixelRepresentation == 1;
  if (static_cast<const void*>(raw) == dst && isSigned && r.bitsStored == 16 && shift == 0 &&
      !r.hasPixelPadding && r.rescaleSlope == 1.0 && r.rescaleIntercept == 0.0)
    return;  // stored values are HU already, and in place: no pass over the slice
  int padLo = 1, padHi = 0;
  if (r.hasPixelPadding) {
    padLo = padHi = r.pixelPaddingValue;
    if (r.hasPixelPaddingRange) {
      padLo = std::min(r.pixelPaddingValue, r.pixelPaddingRangeLimit);
      padHi = std::max(r.pixelPaddingValue, r.pixelPaddingRangeLimit);
    }
  }
  const bool integral = r.rescaleSlope == 1.0 && std::nearbyint(r.rescaleIntercept) == r.rescaleIntercept &&
                        std::fabs(r.rescaleIntercept) < 1e6;
  if (integral) {
    const int icpt = static_cast<int>(r.rescaleIntercept);
    if (isSigned)
      toHuInteger<true>(raw, dst, n, shift, r.bitsStored, icpt, r.hasPixelPadding, padLo, padHi);
    else
      toHuInteger<false>(raw, dst, n, shift, r.bitsStored, icpt, r.hasPixelPadding, padLo, padHi);
  } else if (isSigned) {
    toHuScaled<true>(raw, dst, n, shift, r.bitsStored, r.rescaleSlope, r.rescaleIntercept, r.hasPixelPadding,
                     padLo, padHi);
  } else {
    toHuScaled<false>(raw, dst, n, shift, r.bitsStored, r.rescaleSlope, r.rescaleIntercept, r.hasPixelPadding,
                      padLo, padHi);
  }
}

/// MADV_HUGEPAGE on the 2-MiB-aligned interior of a fresh buffer (before its first touch).
void adviseHugePages(void* data, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t huge = 2u << 20;
  const std::uintptr_t alignedBegin = (begin + huge - 1) & ~(huge - 1);
  const std::uintptr_t end = begin + bytes;
  if (end > alignedBegin + huge)
    ::madvise(reinterpret_cast<void*>(alignedBegin), (end - alignedBegin) & ~(huge - 1), MADV_HUGEPAGE);
}

struct Fd {
  int fd;
  explicit Fd(const std::string& p) : fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool isJ2k(E_TransferSyntax x) {
  return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000 || x == EXS_JPEG2000MulticomponentLosslessOnly ||
         x == EXS_JPEG2000Multicomponent;
}

/// Decodes the first frame of `r` into `raw` (rows*columns*bitsAllocated/8 bytes) through DCMTK/OpenJPEG.
void decodeWithDcmtk(const InstanceRecord& r, void* raw, std::size_t bytes, const std::string& where) {
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(r.path.c_str());
  if (c.bad())
    throw DicomError(where + ": cannot read the file (" + std::string(c.text()) +
                     "); the file is damaged or truncated");
  DcmDataset* ds = ff.getDataset();
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, e).bad() || !e)
    throw DicomError(where + ": the file holds no pixel data");
  auto* pixel = dynamic_cast<DcmPixelData*>(e);
  if (!pixel) throw DicomError(where + ": PixelData has an unusable VR");
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  if (isJ2k(xfer)) {
    if (r.bitsAllocated != 16 && r.bitsAllocated != 8)
      throw DicomError(where + ": unsupported JPEG 2000 bit depth");
    DcmPixelSequence* seq = nullptr;
    if (pixel->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || !seq || seq->card() < 2)
      throw DicomError(where + ": JPEG 2000 pixel data has no fragments");
    std::vector<std::uint8_t> code;
    for (unsigned long i = 1; i < seq->card(); ++i) {
      DcmPixelItem* item = nullptr;
      if (seq->getItem(item, i).bad() || !item) continue;
      Uint8* p = nullptr;
      if (item->getUint8Array(p).bad() || !p) continue;
      code.insert(code.end(), p, p + item->getLength());
    }
    std::vector<std::uint16_t> tmp;
    std::uint16_t* out = static_cast<std::uint16_t*>(raw);
    if (r.bitsAllocated == 8) {
      tmp.resize(static_cast<std::size_t>(r.rows) * r.columns);
      out = tmp.data();
    }
    try {
      detail::decodeJ2k(code.data(), code.size(), r.columns, r.rows, out);
    } catch (const std::exception& ex) {
      throw DicomError(where + ": " + ex.what());
    }
    if (r.bitsAllocated == 8)
      for (std::size_t i = 0; i < tmp.size(); ++i)
        static_cast<std::uint8_t*>(raw)[i] = static_cast<std::uint8_t>(tmp[i]);
    return;
  }
  Uint32 frameSize = 0;
  if (pixel->getUncompressedFrameSize(ds, frameSize).bad() || frameSize < bytes)
    throw DicomError(where + ": pixel data size does not match Rows x Columns x BitsAllocated");
  if (xfer == EXS_LittleEndianExplicit || xfer == EXS_LittleEndianImplicit || xfer == EXS_BigEndianExplicit ||
      xfer == EXS_DeflatedLittleEndianExplicit || xfer == EXS_BigEndianImplicit) {
    if (e->getLength() < bytes)
      throw DicomError(where + ": pixel data truncated (" + std::to_string(e->getLength()) + " of " +
                       std::to_string(bytes) + " bytes)");
  }
  std::vector<std::uint8_t> tmp;
  void* target = raw;
  if (frameSize != bytes) {
    tmp.resize(frameSize + (frameSize & 1u));
    target = tmp.data();
  }
  Uint32 startFragment = 0;
  OFString colorModel;
  c = pixel->getUncompressedFrame(ds, 0, startFragment, target,
                                  static_cast<Uint32>(frameSize + (frameSize & 1u)), colorModel);
  if (c.bad())
    throw DicomError(where + ": cannot decode the pixel data (" + std::string(c.text()) +
                     ", transfer syntax " + DcmXfer(xfer).getXferName() + ")");
  if (target != raw) std::memcpy(raw, tmp.data(), bytes);
}

}  // namespace

LoadedSeries loadSeries(const SeriesEntry& series, const LoadOptions& options) {
  const std::string label = series.label();
  auto fail = [&](const std::string& msg) { return DicomError(label + ": " + msg); };
  const auto& inst = series.instances;
  if (inst.empty()) throw fail("the series holds no images");
  detail::ensureDcmtkCodecs();

  // --- per-file header checks -------------------------------------------------------------------
  for (const auto& r : inst) {
    const std::string f = fileName(r);
    if (r.sopClassUid == kEnhancedCt)
      throw fail(f +
                 " is an enhanced multi-frame CT object; it is not supported, export the series as "
                 "classic CT images (one file per slice)");
    if (!r.headerProblem.empty()) throw fail(f + ": " + r.headerProblem);
    if (r.rows <= 0 || r.columns <= 0) throw fail(f + " has no Rows/Columns: not an image");
    if (r.frames != 1)
      throw fail(f + " holds " + std::to_string(r.frames) + " frames; multi-frame objects are not supported");
    if (r.samplesPerPixel != 1 ||
        (r.photometricInterpretation != "MONOCHROME2" && r.photometricInterpretation != "MONOCHROME1"))
      throw fail(f + " is a colour image (" + r.photometricInterpretation + ", " +
                 std::to_string(r.samplesPerPixel) + " samples per pixel), not a CT slice");
    if (r.bitsAllocated != 8 && r.bitsAllocated != 16)
      throw fail(f + ": BitsAllocated " + std::to_string(r.bitsAllocated) + " is not supported (8 or 16)");
    if (r.bitsStored < 1 || r.bitsStored > r.bitsAllocated || r.highBit < r.bitsStored - 1 ||
        r.highBit >= r.bitsAllocated)
      throw fail(f + ": inconsistent BitsStored " + std::to_string(r.bitsStored) + " / HighBit " +
                 std::to_string(r.highBit) + " / BitsAllocated " + std::to_string(r.bitsAllocated));
    if (!r.hasPosition) throw fail(f + " has no ImagePositionPatient; the slice cannot be placed");
    if (!r.hasOrientation) throw fail(f + " has no ImageOrientationPatient; the slice cannot be placed");
    if (!r.hasPixelSpacing || !(r.pixelSpacingMm[0] > 0) || !(r.pixelSpacingMm[1] > 0))
      throw fail(f + " has no valid PixelSpacing");
    if (!std::isfinite(r.rescaleSlope) || r.rescaleSlope == 0 || !std::isfinite(r.rescaleIntercept))
      throw fail(f + ": RescaleSlope " + num(r.rescaleSlope) + " / RescaleIntercept " +
                 num(r.rescaleIntercept) + " are unusable");
  }
  const InstanceRecord& first = inst.front();
  for (const auto& r : inst) {
    if (r.patientId != first.patientId || r.patientName != first.patientName)
      throw fail("images of several patients in one series: \"" + first.patientId + "\" (" + fileName(first) +
                 ") and \"" + r.patientId + "\" (" + fileName(r) + ")");
    if (r.rows != first.rows || r.columns != first.columns)
      throw fail("inconsistent image size: " + fileName(r) + " is " + std::to_string(r.columns) + "x" +
                 std::to_string(r.rows) + ", " + fileName(first) + " is " + std::to_string(first.columns) +
                 "x" + std::to_string(first.rows));
    for (int a = 0; a < 6; ++a)
      if (std::fabs(r.orientation[a] - first.orientation[a]) > 1e-4)
        throw fail("mixed orientation: " + fileName(r) + " differs from " + fileName(first) +
                   " in ImageOrientationPatient (component " + std::to_string(a + 1) + ": " +
                   num(r.orientation[a]) + " vs " + num(first.orientation[a]) + ")");
    for (int a = 0; a < 2; ++a)
      if (std::fabs(r.pixelSpacingMm[a] - first.pixelSpacingMm[a]) > 1e-4 * first.pixelSpacingMm[a])
        throw fail("inconsistent PixelSpacing: " + fileName(r) + " has " + num(r.pixelSpacingMm[a]) +
                   " mm, " + fileName(first) + " " + num(first.pixelSpacingMm[a]) + " mm");
  }
  // Size limits: 2^31 voxels (4 GiB of int16) and no overflow in the products.
  const std::uint64_t sliceVoxels64 =
      static_cast<std::uint64_t>(first.rows) * static_cast<std::uint64_t>(first.columns);
  const std::uint64_t voxels64 = sliceVoxels64 * static_cast<std::uint64_t>(inst.size());
  if (voxels64 > (1ull << 31))
    throw fail(std::to_string(first.columns) + "x" + std::to_string(first.rows) + "x" +
               std::to_string(inst.size()) + " voxels exceed the 2^31 voxel limit");
  const std::size_t sliceVoxels = static_cast<std::size_t>(sliceVoxels64);

  // --- geometry: order along the normal, spacing, duplicates, tilt --------------------------------
  const Vec3 rowDir{first.orientation[0], first.orientation[1], first.orientation[2]};
  const Vec3 colDir{first.orientation[3], first.orientation[4], first.orientation[5]};
  if (std::fabs(norm(rowDir) - 1) > 1e-3 || std::fabs(norm(colDir) - 1) > 1e-3 ||
      std::fabs(dot(rowDir, colDir)) > 1e-3)
    throw fail("ImageOrientationPatient of " + fileName(first) + " is not two orthogonal unit vectors");
  Vec3 normal = cross(rowDir, colDir);
  const double nlen = norm(normal);
  for (auto& v : normal) v /= nlen;
  const std::size_t n = inst.size();
  std::vector<std::size_t> order(n);
  std::vector<double> dist(n);
  for (std::size_t i = 0; i < n; ++i) {
    order[i] = i;
    dist[i] = dot(inst[i].positionLps, normal);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return dist[a] < dist[b]; });
  auto sliceName = [&](std::size_t k) {
    return "slice " + std::to_string(k + 1) + " (" + fileName(inst[order[k]]) + ")";
  };
  LoadedSeries out;
  double spacingZ = 0;
  if (n == 1) {
    spacingZ = first.sliceThicknessMm > 0 ? first.sliceThicknessMm : 1.0;
    out.warnings.push_back(label + ": a single slice; its thickness " + num(spacingZ) +
                           " mm is used as z spacing");
  } else {
    std::vector<double> gaps(n - 1);
    for (std::size_t k = 0; k + 1 < n; ++k) {
      gaps[k] = dist[order[k + 1]] - dist[order[k]];
      if (gaps[k] < 1e-3)
        throw fail("duplicate slice position " + num(dist[order[k]], 6) +
                   " mm along the normal: " + sliceName(k) + " and " + sliceName(k + 1));
    }
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    spacingZ = sorted[sorted.size() / 2];
    for (std::size_t k = 0; k + 1 < n; ++k) {
      if (std::fabs(gaps[k] - spacingZ) > options.spacingTolerance * spacingZ) {
        const std::string what = gaps[k] > spacingZ
                                     ? (gaps[k] > 1.5 * spacingZ ? "missing slice(s)?" : "irregular spacing")
                                     : "irregular spacing";
        throw fail("slice spacing jumps from " + num(spacingZ) + " to " + num(gaps[k]) + " mm between " +
                   sliceName(k) + " and " + sliceName(k + 1) + " (" + what + "; tolerance " +
                   num(100 * options.spacingTolerance) + " %)");
      }
      // Gantry tilt: consecutive positions move sideways (along the rows/columns) as well.
      const InstanceRecord& a = inst[order[k]];
      const InstanceRecord& b = inst[order[k + 1]];
      Vec3 d{b.positionLps[0] - a.positionLps[0], b.positionLps[1] - a.positionLps[1],
             b.positionLps[2] - a.positionLps[2]};
      const double along = dot(d, normal);
      const Vec3 side{d[0] - along * normal[0], d[1] - along * normal[1], d[2] - along * normal[2]};
      const double angle = std::atan2(norm(side), along) * 180.0 / M_PI;
      if (angle > options.maxTiltDegrees)
        throw fail("gantry tilt or sheared stack: positions move " + num(norm(side), 3) +
                   " mm sideways per " + num(along, 3) + " mm between " + sliceName(k) + " and " +
                   sliceName(k + 1) + " (tilt " + num(angle, 3) +
                   " degrees); tilted series are refused, not resampled");
    }
  }

  VolumeGeometry g;
  g.size = {first.columns, first.rows, static_cast<int>(n)};
  g.spacingMm = {first.pixelSpacingMm[1], first.pixelSpacingMm[0], spacingZ};
  g.originLps = inst[order[0]].positionLps;
  g.directionLps = {rowDir[0], colDir[0], normal[0], rowDir[1], colDir[1],
                    normal[1], rowDir[2], colDir[2], normal[2]};

  // Fresh voxel buffer, not initialised: the decode below writes every voxel once, so the pages are first
  // touched by the decoding threads (page faults in parallel, no zero-fill pass). Transparent huge pages
  // are asked for before that first touch (page faults dominate on VMs: ~38k 4-KiB faults for 512x512x300).
  out.volume = CtVolume::uninitialized(g);
  adviseHugePages(out.volume.data(), g.voxelCount() * sizeof(int16_t));
  int16_t* base = out.volume.data();
  out.sliceFiles.resize(n);
  for (std::size_t k = 0; k < n; ++k) out.sliceFiles[k] = inst[order[k]].path;

  std::atomic<std::size_t> done{0};
  std::atomic<bool> cancelled{false};
  std::mutex progressMutex;
  detail::parallelFor(
      n, options.threads,
      [&](std::size_t k) {
        const InstanceRecord& r = inst[order[k]];
        auto where = [&] { return label + ", " + sliceName(k); };  // built only for a message
        int16_t* dst = base + k * sliceVoxels;
        const std::size_t bytes = sliceVoxels * static_cast<std::size_t>(r.bitsAllocated / 8);
        thread_local std::vector<std::uint16_t> buffer8;
        std::uint16_t* raw = reinterpret_cast<std::uint16_t*>(dst);
        void* target = dst;
        if (r.bitsAllocated == 8) {
          buffer8.resize(sliceVoxels);
          target = buffer8.data();
        }
        bool read = false;
        if (r.pixelDataOffset >= 0) {
          Fd f(r.path);
          if (f.fd < 0) throw DicomError(where() + ": cannot open the file");
          std::size_t got = 0;
          while (got < bytes) {
            const ssize_t m = ::pread(f.fd, static_cast<char*>(target) + got, bytes - got,
                                      static_cast<off_t>(r.pixelDataOffset + static_cast<std::int64_t>(got)));
            if (m <= 0) break;
            got += static_cast<std::size_t>(m);
          }
          if (got != bytes)
            throw DicomError(where() + ": pixel data truncated (" + std::to_string(got) + " of " +
                             std::to_string(bytes) + " bytes)");
          read = true;
        }
        if (!read) decodeWithDcmtk(r, target, bytes, where());
        if (r.bitsAllocated == 8) {
          const auto* p8 = reinterpret_cast<const std::uint8_t*>(buffer8.data());
          for (std::size_t i = 0; i < sliceVoxels; ++i) raw[i] = p8[i];
        }
        convertSlice(r, raw, dst, sliceVoxels);
        const std::size_t finished = ++done;
        if (options.progress) {
          std::lock_guard<std::mutex> lock(progressMutex);
          if (!cancelled && !options.progress(static_cast<double>(finished) / static_cast<double>(n)))
            cancelled = true;
        }
      },
      [&] { return cancelled.load(); });
  if (cancelled) throw LoadCancelled(label + ": loading cancelled");

  out.patientId = series.patientId;
  out.patientName = series.patientName;
  out.patientSex = series.patientSex;
  out.patientAge = series.patientAge;
  out.patientBirthDate = series.patientBirthDate;
  out.studyInstanceUid = series.studyInstanceUid;
  out.studyDate = series.studyDate;
  out.studyDescription = series.studyDescription;
  out.seriesInstanceUid = series.seriesInstanceUid;
  out.seriesDescription = series.seriesDescription;
  out.modality = series.modality;
  out.convolutionKernel = series.convolutionKernel;
  out.additionalPatientHistory = series.additionalPatientHistory;
  out.frameOfReferenceUid = series.frameOfReferenceUid;
  out.seriesNumber = series.seriesNumber;
  if (series.modality != "CT")
    out.warnings.push_back(label + ": modality " + series.modality + "; values are not Hounsfield units");
  if (first.photometricInterpretation == "MONOCHROME1")
    out.warnings.push_back(label + ": MONOCHROME1; HU taken from the modality rescale, not inverted");
  return out;
}

namespace {
std::string listSeries(const DicomIndex& index) {
  std::string s;
  for (const auto* e : index.allSeries())
    s += std::string(s.empty() ? " " : " | ") + e->label() + ": " +
         (e->modality.empty() ? "?" : e->modality) + ", " + std::to_string(e->instances.size()) + " file(s)";
  return s;
}
}  // namespace

LoadedSeries loadSeries(const std::string& path, const LoadOptions& options) {
  ScanOptions so;
  so.threads = options.threads;
  const DicomIndex index = DicomIndex::scan(path, so);
  const auto all = index.allSeries();
  std::vector<const SeriesEntry*> images;
  for (const auto* s : all)
    if (std::any_of(s->instances.begin(), s->instances.end(),
                    [](const InstanceRecord& r) { return r.rows > 0; }))
      images.push_back(s);
  if (images.empty()) {
    if (index.filesScanned > 0 && index.nonDicomFiles == index.filesScanned)
      throw DicomError(path + ": not DICOM (no 'DICM' marker at byte 128 and no DICOM dataset start)");
    std::string why = index.problems.empty() ? std::string() : " (" + index.problems.front() + ")";
    throw DicomError(path + ": no DICOM image series found" + why);
  }
  if (images.size() > 1)
    throw DicomError(path + ": holds " + std::to_string(images.size()) +
                     " image series; choose one:" + listSeries(index));
  return loadSeries(*images.front(), options);
}

LoadedSeries loadBestSeries(const std::string& path, const LoadOptions& options) {
  ScanOptions so;
  so.threads = options.threads;
  const DicomIndex index = DicomIndex::scan(path, so);
  const auto ranked = rankSeriesForChestCt(index, options.selection);
  std::vector<std::string> skipped;
  std::string firstError;
  for (const auto& c : ranked) {
    if (c.eligible) continue;
    std::string reasons;
    for (const auto& r : c.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    skipped.push_back("skipped " + c.series->label() + ": " + reasons);
  }
  for (const auto& c : ranked) {
    if (!c.eligible) continue;
    try {
      LoadedSeries loaded = loadSeries(*c.series, options);
      loaded.warnings.insert(loaded.warnings.begin(), skipped.begin(), skipped.end());
      return loaded;
    } catch (const LoadCancelled&) {
      throw;
    } catch (const DicomError& e) {
      if (firstError.empty()) firstError = e.what();
      skipped.push_back(std::string("could not load ") + e.what());
    }
  }
  std::string msg = path + ": no loadable chest-CT series";
  if (ranked.empty())
    msg += " (no DICOM series found" +
           (index.problems.empty() ? std::string() : "; " + index.problems.front()) + ")";
  for (std::size_t i = 0; i < skipped.size(); ++i) msg += (i ? " | " : ": ") + skipped[i];
  throw DicomError(msg);
}

}  // namespace imaging
