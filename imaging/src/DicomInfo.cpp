#include "imaging/DicomInfo.h"

#include <dcmtk/dcmdata/dctk.h>

#include <filesystem>
#include <map>

#include "imaging/DicomError.h"

namespace imaging {
namespace fs = std::filesystem;

namespace {
std::string str(DcmDataset* ds, const DcmTagKey& key) {
  OFString v;
  if (ds->findAndGetOFString(key, v).good()) return v.c_str();
  return {};
}
}  // namespace

DicomInfo DicomInfo::scan(const std::string& path) {
  if (!fs::exists(path)) throw DicomError(path + ": no such file or folder");
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file()) files.push_back(e.path());
  } else {
    files.push_back(path);
  }
  DicomInfo info;
  std::map<std::string, SeriesSummary> bySeries;
  for (const auto& f : files) {
    ++info.filesScanned;
    DcmFileFormat ff;
    if (ff.loadFile(f.c_str(), EXS_Unknown, EGL_noChange, 0, ERM_autoDetect).bad()) {
      ++info.nonDicomFiles;
      continue;
    }
    DcmDataset* ds = ff.getDataset();
    std::string uid = str(ds, DCM_SeriesInstanceUID);
    auto& s = bySeries[uid];
    if (s.instances == 0) {
      s.seriesInstanceUid = uid;
      s.patientId = str(ds, DCM_PatientID);
      s.patientName = str(ds, DCM_PatientName);
      s.studyInstanceUid = str(ds, DCM_StudyInstanceUID);
      s.studyDate = str(ds, DCM_StudyDate);
      s.modality = str(ds, DCM_Modality);
      s.seriesDescription = str(ds, DCM_SeriesDescription);
      Uint16 r = 0, c = 0;
      ds->findAndGetUint16(DCM_Rows, r);
      ds->findAndGetUint16(DCM_Columns, c);
      s.rows = r;
      s.columns = c;
    }
    ++s.instances;
  }
  for (auto& [uid, s] : bySeries) info.series.push_back(s);
  return info;
}

}  // namespace imaging
