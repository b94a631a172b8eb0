#pragma once
/// StudyInfo: what a path holds, shared by `medseek-cli info` (text) and the GUI's study browser
/// (one SeriesSummary per series, with the analysis's choice and every exclusion reason).
#include <string>
#include <vector>

namespace workflow {
/// Human-readable listing of the DICOM series found under `path`. Throws imaging::DicomError.
std::string describePath(const std::string& path);

/// One series of a study as the browser lists it.
struct SeriesSummary {
  std::string seriesInstanceUid, studyInstanceUid, modality, description;
  std::string patientId, patientName, studyDate /* YYYYMMDD */, studyDescription;
  int seriesNumber = 0;
  int images = 0;               ///< frames (slices)
  double sliceThicknessMm = 0;  ///< 0: not given
  int rows = 0, columns = 0;
  bool eligible = false;   ///< may be analysed
  bool selected = false;   ///< the series the analysis uses by default (first eligible one)
  std::string reasons;     ///< why selected / ranked / excluded ("; "-separated)
  std::string middleFile;  ///< the middle instance by InstanceNumber (for a thumbnail); empty if none
};

/// Every series under `path`, in the order of the index (patient, study, series number).
/// Throws imaging::DicomError.
std::vector<SeriesSummary> listSeries(const std::string& path);
}  // namespace workflow
