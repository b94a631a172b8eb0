#pragma once
/// SeriesLoader: assembles one DICOM series into an imaging::CtVolume (int16 HU, LPS geometry) after
/// validating its geometry, and `loadBestSeries` = discover + select + load, the one call GUI, CLI and
/// batch use.
///
///   imaging::LoadOptions opt;
///   opt.progress = [](double f) { std::cout << f << "\n"; return true; };  // false cancels
///   auto loaded = imaging::loadBestSeries("/data/case0001", opt);
///   loaded.volume.geometry().spacingMm;   // i, j, k spacing in mm
///   loaded.patientId; loaded.seriesInstanceUid; loaded.warnings;
///
/// Slices are ordered by ImagePositionPatient projected on the normal (row x column cosines), never by
/// file name or InstanceNumber. Refused (DicomError naming series and slice): mixed orientation, gantry
/// tilt (not resampled; the message gives the angle), gaps or spacing deviating more than
/// `spacingTolerance` (default 10 %) from the median spacing, duplicate positions, differing
/// rows/columns/pixel spacing, missing IPP/IOP/PixelSpacing, several patients, truncated pixel data,
/// unsupported encodings, enhanced multi-frame CT and other multi-frame objects.
/// Pixels: per-slice rescale, signed/unsigned, BitsStored masking, Pixel Padding Value -> -1024 HU.
/// MONOCHROME1: HU come from the modality rescale of the stored values, which does not depend on the
/// photometric interpretation, so values are NOT inverted (a warning says so).
/// Slices are decoded in parallel straight into the volume buffer. Native little-endian files are read
/// with one pread per slice at the offset found during discovery; compressed ones through DCMTK
/// (JPEG, JPEG-LS, RLE) or OpenJPEG (JPEG 2000).
#include <functional>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"
#include "imaging/DicomError.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesSelector.h"

namespace imaging {

/// Thrown when the progress callback returned false.
class LoadCancelled : public DicomError {
 public:
  using DicomError::DicomError;
};

/// Progress in [0,1], called from loader threads (one call at a time); return false to cancel.
using ProgressCallback = std::function<bool(double fraction)>;

struct LoadOptions {
  int threads = 0;                 ///< 0: hardware concurrency
  double spacingTolerance = 0.10;  ///< allowed deviation of each slice gap from the median gap (fraction)
  double maxTiltDegrees = 0.05;    ///< larger shear of the stack along the rows/columns is refused
  ProgressCallback progress;
  SelectionCriteria selection;  ///< loadBestSeries only
};

/// A loaded series: the volume and the identifying metadata that results must be bound to.
struct LoadedSeries {
  CtVolume volume;
  std::string patientId, patientName, patientSex, patientAge, patientBirthDate;
  std::string studyInstanceUid, studyDate, studyDescription, seriesInstanceUid, seriesDescription;
  std::string modality, convolutionKernel, additionalPatientHistory, frameOfReferenceUid;
  int seriesNumber = 0;
  std::vector<std::string> sliceFiles;  ///< file of each k (volume order)
  std::vector<std::string> warnings;
};

/// Validates and loads one series of a DicomIndex.
LoadedSeries loadSeries(const SeriesEntry& series, const LoadOptions& options = {});

/// Scans `path` (file, folder or DICOMDIR); it must hold exactly one image series (else DicomError
/// listing them); loads it.
LoadedSeries loadSeries(const std::string& path, const LoadOptions& options = {});

/// Scans `path`, ranks its series for chest CT, loads the best eligible one. Exclusions of the other
/// series are added to the warnings. Throws DicomError listing every series and why it was excluded
/// when none is eligible.
LoadedSeries loadBestSeries(const std::string& path, const LoadOptions& options = {});

}  // namespace imaging
