#pragma once
/// VolumeIo: CtVolume to and from research volume formats through ITK (NRRD, NIfTI, MetaImage), plus the
/// isotropic resampler and the ITK reference DICOM reader used by `medseek-cli bench load`.
///
///   imaging::writeVolume(loaded.volume, "case.nii.gz");          // .nrrd .nhdr .nii .nii.gz .mha .mhd
///   auto iso = imaging::resampleIsotropic(loaded.volume, 1.0);   // trilinear, 1 mm voxels
///
/// The volume is wrapped as itk::Image<int16_t,3> without copying (the ITK image borrows the buffer).
/// Geometry (origin, spacing, direction) is LPS, as in ITK; the NIfTI writer converts to RAS itself.
/// ITK errors become imaging::DicomError naming the file.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"

namespace imaging {

/// Writes the volume; the format follows the extension. Throws DicomError.
void writeVolume(const CtVolume& volume, const std::string& path);

/// Reads a scalar volume written by writeVolume (or any ITK-readable NRRD/NIfTI/MetaImage), cast to int16.
CtVolume readVolume(const std::string& path);

/// Trilinear resampling to cubic voxels of `spacingMm` over the same physical extent (same origin and
/// direction; outside the input: -1024 HU). Values are rounded to the nearest HU.
CtVolume resampleIsotropic(const CtVolume& volume, double spacingMm);

/// The 3D Slicer path, for benchmarks and cross-checks: itk::GDCMSeriesFileNames on `directory` (first
/// series UID) + ImageSeriesReader with GDCMImageIO. `seconds` times exactly that; the optional copy into
/// `volumeOut` happens after the clock stopped.
struct ItkSeriesLoad {
  double seconds = 0;
  std::size_t slices = 0;
  std::array<int, 3> size{0, 0, 0};
};
ItkSeriesLoad loadSeriesWithItk(const std::string& directory, CtVolume* volumeOut = nullptr);

}  // namespace imaging
