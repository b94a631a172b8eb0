#include "workflow/StudyLoading.h"

#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"

namespace workflow {

LoadedStudy toLoadedStudy(const std::string& path, imaging::LoadedSeries s) {
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

LoadedStudy loadStudy(const std::string& path, const ProgressFn& progress) {
  imaging::LoadOptions options;
  options.progress = progress;
  return toLoadedStudy(path, imaging::loadBestSeries(path, options));
}

LoadedStudy loadStudySeries(const std::string& path, const std::string& seriesInstanceUid,
                            const ProgressFn& progress) {
  if (seriesInstanceUid.empty()) return loadStudy(path, progress);
  const auto index = imaging::DicomIndex::scan(path);
  for (const auto& p : index.patients)
    for (const auto& st : p.studies)
      for (const auto& se : st.series)
        if (se.seriesInstanceUid == seriesInstanceUid) {
          imaging::LoadOptions options;
          options.progress = progress;
          return toLoadedStudy(path, imaging::loadSeries(se, options));
        }
  throw imaging::DicomError(path + ": no series with UID " + seriesInstanceUid);
}

}  // namespace workflow
