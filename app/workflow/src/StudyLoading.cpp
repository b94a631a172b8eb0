#include "workflow/StudyLoading.h"

#include "imaging/SeriesLoader.h"

namespace workflow {

LoadedStudy loadStudy(const std::string& path, const ProgressFn& progress) {
  imaging::LoadOptions options;
  options.progress = progress;
  imaging::LoadedSeries s = imaging::loadBestSeries(path, options);
  LoadedStudy study;
  study.path = path;
  study.patientId = s.patientId;
  study.patientName = s.patientName;
  study.patientSex = s.patientSex;
  study.patientAge = s.patientAge;
  study.studyInstanceUid = s.studyInstanceUid;
  study.studyDate = s.studyDate;
  study.studyDescription = s.studyDescription;
  study.seriesInstanceUid = s.seriesInstanceUid;
  study.seriesDescription = s.seriesDescription;
  study.convolutionKernel = s.convolutionKernel;
  study.additionalPatientHistory = s.additionalPatientHistory;
  study.frameOfReferenceUid = s.frameOfReferenceUid;
  study.seriesNumber = s.seriesNumber;
  study.warnings = std::move(s.warnings);
  study.volume = std::make_shared<const imaging::CtVolume>(std::move(s.volume));
  return study;
}

}  // namespace workflow
