// Compatibility summary over DicomIndex (the discovery); kept for callers of the first naive scan.
#include "imaging/DicomInfo.h"

#include "imaging/DicomIndex.h"

namespace imaging {

DicomInfo DicomInfo::scan(const std::string& path) {
  const DicomIndex index = DicomIndex::scan(path);
  DicomInfo info;
  info.filesScanned = index.filesScanned;
  info.nonDicomFiles = index.nonDicomFiles + index.problems.size();
  for (const auto* s : index.allSeries()) {
    SeriesSummary summary;
    summary.patientId = s->patientId;
    summary.patientName = s->patientName;
    summary.studyInstanceUid = s->studyInstanceUid;
    summary.studyDate = s->studyDate;
    summary.seriesInstanceUid = s->seriesInstanceUid;
    summary.modality = s->modality;
    summary.seriesDescription = s->seriesDescription;
    summary.instances = s->instances.size();
    summary.rows = s->rows;
    summary.columns = s->columns;
    info.series.push_back(summary);
  }
  return info;
}

}  // namespace imaging
