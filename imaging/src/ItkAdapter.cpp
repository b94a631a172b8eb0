// The one file of the imaging library that includes ITK (slow headers): writers, readers, resampler,
// and the reference GDCM series reader.
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>
#include <itkImportImageFilter.h>
#include <itkLinearInterpolateImageFunction.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "imaging/DicomError.h"
#include "imaging/VolumeIo.h"

namespace imaging {
namespace {

using ImageType = itk::Image<int16_t, 3>;
using FloatImageType = itk::Image<float, 3>;

bool endsWith(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

itk::ImageIOBase::Pointer ioFor(const std::string& path) {
  if (endsWith(path, ".nrrd") || endsWith(path, ".nhdr")) return itk::NrrdImageIO::New().GetPointer();
  if (endsWith(path, ".nii") || endsWith(path, ".nii.gz")) return itk::NiftiImageIO::New().GetPointer();
  if (endsWith(path, ".mha") || endsWith(path, ".mhd")) return itk::MetaImageIO::New().GetPointer();
  throw DicomError(path + ": unknown volume format (use .nrrd, .nii, .nii.gz, .mha or .mhd)");
}

/// Borrows the CtVolume buffer: no copy, the ITK image never frees it.
ImageType::Pointer wrap(const CtVolume& volume) {
  const auto& g = volume.geometry();
  using Import = itk::ImportImageFilter<int16_t, 3>;
  auto import = Import::New();
  Import::SizeType size;
  Import::IndexType start;
  start.Fill(0);
  double origin[3], spacing[3];
  for (int a = 0; a < 3; ++a) {
    size[a] = static_cast<itk::SizeValueType>(g.size[a]);
    origin[a] = g.originLps[a];
    spacing[a] = g.spacingMm[a];
  }
  Import::RegionType region(start, size);
  import->SetRegion(region);
  import->SetOrigin(origin);
  import->SetSpacing(spacing);
  Import::DirectionType direction;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) direction(r, c) = g.directionLps[r * 3 + c];
  import->SetDirection(direction);
  import->SetImportPointer(const_cast<int16_t*>(volume.data()), volume.valuesHu().size(), false);
  import->Update();
  ImageType::Pointer image = import->GetOutput();
  image->DisconnectPipeline();
  return image;
}

template <typename TImage>
VolumeGeometry geometryOf(const TImage* image) {
  VolumeGeometry g;
  const auto region = image->GetLargestPossibleRegion();
  for (int a = 0; a < 3; ++a) {
    g.size[a] = static_cast<int>(region.GetSize()[a]);
    g.spacingMm[a] = image->GetSpacing()[a];
    g.originLps[a] = image->GetOrigin()[a];
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) g.directionLps[r * 3 + c] = image->GetDirection()(r, c);
  return g;
}

}  // namespace

void writeVolume(const CtVolume& volume, const std::string& path) {
  if (volume.empty()) throw DicomError(path + ": cannot write an empty volume");
  auto io = ioFor(path);
  try {
    auto image = wrap(volume);
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetImageIO(io);
    writer->SetFileName(path);
    writer->SetInput(image);
    writer->SetUseCompression(true);
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw DicomError(path + ": cannot write the volume (" + std::string(e.GetDescription()) + ")");
  }
}

CtVolume readVolume(const std::string& path) {
  auto io = ioFor(path);
  try {
    auto reader = itk::ImageFileReader<ImageType>::New();
    reader->SetImageIO(io);
    reader->SetFileName(path);
    reader->Update();
    const ImageType* image = reader->GetOutput();
    VolumeGeometry g = geometryOf(image);
    CtVolume::Values values(image->GetBufferPointer(), image->GetBufferPointer() + g.voxelCount());
    return CtVolume(g, std::move(values));
  } catch (const itk::ExceptionObject& e) {
    throw DicomError(path + ": cannot read the volume (" + std::string(e.GetDescription()) + ")");
  }
}

CtVolume resampleIsotropic(const CtVolume& volume, double spacingMm) {
  if (volume.empty()) throw DicomError("resampleIsotropic: empty volume");
  if (!(spacingMm > 0)) throw DicomError("resampleIsotropic: spacing must be positive");
  const auto& g = volume.geometry();
  VolumeGeometry out = g;
  for (int a = 0; a < 3; ++a) {
    const double extent = (g.size[a] - 1) * g.spacingMm[a];
    out.size[a] = std::max(1, static_cast<int>(std::floor(extent / spacingMm + 1e-6)) + 1);
    out.spacingMm[a] = spacingMm;
  }
  try {
    auto image = wrap(volume);
    using Resample = itk::ResampleImageFilter<ImageType, FloatImageType>;
    auto resample = Resample::New();
    resample->SetInput(image);
    resample->SetInterpolator(itk::LinearInterpolateImageFunction<ImageType, double>::New());
    resample->SetDefaultPixelValue(CtVolume::kAirHu);
    resample->SetOutputOrigin(image->GetOrigin());
    resample->SetOutputDirection(image->GetDirection());
    FloatImageType::SpacingType spacing;
    spacing.Fill(spacingMm);
    resample->SetOutputSpacing(spacing);
    FloatImageType::SizeType size;
    for (int a = 0; a < 3; ++a) size[a] = static_cast<itk::SizeValueType>(out.size[a]);
    resample->SetSize(size);
    resample->Update();
    const float* p = resample->GetOutput()->GetBufferPointer();
    CtVolume result(out);
    int16_t* dst = result.data();
    const std::size_t n = out.voxelCount();
    for (std::size_t i = 0; i < n; ++i) {
      const float v = std::nearbyint(p[i]);
      dst[i] = static_cast<int16_t>(std::clamp(v, -32768.0f, 32767.0f));
    }
    return result;
  } catch (const itk::ExceptionObject& e) {
    throw DicomError("resampleIsotropic: " + std::string(e.GetDescription()));
  }
}

ItkSeriesLoad loadSeriesWithItk(const std::string& directory, CtVolume* volumeOut) {
  ItkSeriesLoad result;
  try {
    const auto start = std::chrono::steady_clock::now();
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(directory);
    const auto& uids = names->GetSeriesUIDs();
    if (uids.empty()) throw DicomError(directory + ": ITK/GDCM found no DICOM series");
    const auto files = names->GetFileNames(uids.front());
    auto reader = itk::ImageSeriesReader<ImageType>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(files);
    reader->Update();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const ImageType* image = reader->GetOutput();
    result.slices = files.size();
    const VolumeGeometry g = geometryOf(image);
    result.size = g.size;
    if (volumeOut) {
      CtVolume::Values values(image->GetBufferPointer(), image->GetBufferPointer() + g.voxelCount());
      *volumeOut = CtVolume(g, std::move(values));
    }
  } catch (const itk::ExceptionObject& e) {
    throw DicomError(directory + ": ITK could not read the series (" + std::string(e.GetDescription()) + ")");
  }
  return result;
}

}  // namespace imaging
