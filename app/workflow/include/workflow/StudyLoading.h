#pragma once
/// StudyLoading: open a study folder / DICOMDIR / file and load the series the analysis would use.
/// The one entry point the GUI, the CLI and the batch share (no Qt, no VTK).
///
///   auto study = workflow::loadStudy("/data/case0001", [](double f) { return true; });
///   study.volume->geometry().size;  // int16 HU, LPS
///   study.seriesInstanceUid;        // what the volume (and any later result) is bound to
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"

namespace imaging {
struct LoadedSeries;
}

namespace workflow {

struct LoadedStudy {
  std::string path;
  std::string patientId, patientName, patientSex, patientAge;
  std::string studyInstanceUid, studyDate, studyDescription, seriesInstanceUid, seriesDescription;
  std::string convolutionKernel, additionalPatientHistory, frameOfReferenceUid;
  int seriesNumber = 0;
  std::shared_ptr<const imaging::CtVolume> volume;
  std::vector<std::string> warnings;
};

/// Progress in [0,1]; return false to cancel (loadStudy then throws imaging::LoadCancelled).
using ProgressFn = std::function<bool(double)>;

/// Discovers the DICOM objects under `path`, picks the best chest-CT series and loads it.
/// Throws imaging::DicomError with a message naming the path/series/slice on any problem.
LoadedStudy loadStudy(const std::string& path, const ProgressFn& progress = {});

/// Loads the series `seriesInstanceUid` found under `path` (any series the user picked, eligible for
/// the analysis or not). Empty UID: as loadStudy. Throws imaging::DicomError when the series is absent.
LoadedStudy loadStudySeries(const std::string& path, const std::string& seriesInstanceUid,
                            const ProgressFn& progress = {});

/// A series loaded by imaging (e.g. from an index the caller already scanned) as a study rooted at `path`.
LoadedStudy toLoadedStudy(const std::string& path, imaging::LoadedSeries series);

}  // namespace workflow
