#pragma once
/// DicomInfo: a cheap, header-only summary of the DICOM objects found under a path.
/// Superseded by imaging::DicomIndex (DicomIndex.h), which it wraps; kept for existing callers.
///
///   auto summary = imaging::DicomInfo::scan("/data/study");   // file or folder (recursive)
///   for (const auto& s : summary.series) std::cout << s.seriesInstanceUid << " " << s.instances;
///
/// Pixel data is never read. Files that are not DICOM are counted and skipped.
#include <cstddef>
#include <string>
#include <vector>

namespace imaging {

struct SeriesSummary {
  std::string patientId, patientName, studyInstanceUid, studyDate, seriesInstanceUid, modality,
      seriesDescription;
  std::size_t instances = 0;
  int rows = 0, columns = 0;
};

struct DicomInfo {
  std::size_t filesScanned = 0;
  std::size_t nonDicomFiles = 0;
  std::vector<SeriesSummary> series;
  static DicomInfo scan(const std::string& path);
};

}  // namespace imaging
