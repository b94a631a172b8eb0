#include "workflow/StudyInfo.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "imaging/DicomIndex.h"
#include "imaging/SeriesSelector.h"

namespace workflow {
namespace {

std::string sopClassName(const std::string& uid) {
  static const std::map<std::string, std::string> names{
      {"1.2.840.10008.5.1.4.1.1.2", "CT Image"},
      {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image"},
      {"1.2.840.10008.5.1.4.1.1.4", "MR Image"},
      {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture"},
      {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR"},
      {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR"},
      {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR"},
      {"1.2.840.10008.5.1.4.1.1.1", "CR Image"},
      {"1.2.840.10008.5.1.4.1.1.481.2", "RT Dose"},
      {"1.2.840.10008.5.1.4.1.1.66.4", "Segmentation"},
      {"1.2.840.10008.1.3.10", "Media Storage Directory"}};
  const auto it = names.find(uid);
  return it != names.end() ? it->second : uid;
}

std::string formatDate(const std::string& da) {
  if (da.size() == 8) return da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2);
  return da.empty() ? "(no date)" : da;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

}  // namespace

std::string describePath(const std::string& path) {
  const auto index = imaging::DicomIndex::scan(path);
  const auto ranked = imaging::rankSeriesForChestCt(index);
  std::map<const imaging::SeriesEntry*, const imaging::SeriesCandidate*> verdict;
  for (const auto& c : ranked) verdict[c.series] = &c;
  const imaging::SeriesCandidate* selected =
      !ranked.empty() && ranked.front().eligible ? &ranked.front() : nullptr;

  std::ostringstream out;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.3f s, %.0f files/s", index.seconds, index.filesPerSecond());
  out << path << ": " << index.filesScanned << " file(s), " << index.dicomFiles << " DICOM, "
      << index.nonDicomFiles << " not DICOM, " << index.problems.size() << " unreadable; "
      << index.seriesCount() << " series (scanned in " << rate << ")\n";
  for (const auto& p : index.patients) {
    out << "Patient " << (p.patientId.empty() ? "(no ID)" : p.patientId) << "  \"" << p.patientName << "\"";
    if (!p.patientSex.empty()) out << "  sex " << p.patientSex;
    if (!p.patientAge.empty()) out << "  age " << p.patientAge;
    if (!p.patientBirthDate.empty()) out << "  born " << formatDate(p.patientBirthDate);
    out << "\n";
    for (const auto& st : p.studies) {
      out << "  Study " << formatDate(st.studyDate) << "  \"" << st.studyDescription << "\"  "
          << st.studyInstanceUid;
      if (!st.accessionNumber.empty()) out << "  accession " << st.accessionNumber;
      out << "\n";
      for (const auto& se : st.series) {
        char thickness[32] = "";
        if (se.sliceThicknessMm > 0)
          std::snprintf(thickness, sizeof thickness, "  %.3g mm", se.sliceThicknessMm);
        out << "    Series " << se.seriesNumber << "  " << (se.modality.empty() ? "?" : se.modality) << "  \""
            << se.seriesDescription << "\"  " << se.instances.size() << " instance(s)";
        if (se.rows > 0) out << "  " << se.columns << "x" << se.rows;
        out << thickness;
        if (!se.convolutionKernel.empty()) out << "  kernel " << se.convolutionKernel;
        if (!se.imageType.empty()) out << "  " << se.imageType;
        out << "  [" << sopClassName(se.sopClassUid) << "]\n";
        out << "      UID " << se.seriesInstanceUid << "\n";
        const auto it = verdict.find(&se);
        if (it != verdict.end()) {
          if (it->second == selected)
            out << "      -> SELECTED for chest-CT analysis (" << join(it->second->reasons) << ")\n";
          else if (it->second->eligible)
            out << "      -> eligible, not first choice (" << join(it->second->reasons) << ")\n";
          else
            out << "      -> excluded: " << join(it->second->reasons) << "\n";
        }
      }
    }
  }
  if (!selected) out << "No series is eligible for chest-CT analysis.\n";
  if (!index.problems.empty()) {
    out << "Problems:\n";
    for (const auto& p : index.problems) out << "  " << p << "\n";
  }
  return out.str();
}

std::vector<SeriesSummary> listSeries(const std::string& path) {
  const auto index = imaging::DicomIndex::scan(path);
  const auto ranked = imaging::rankSeriesForChestCt(index);
  std::map<const imaging::SeriesEntry*, const imaging::SeriesCandidate*> verdict;
  for (const auto& c : ranked) verdict[c.series] = &c;
  const imaging::SeriesCandidate* selected =
      !ranked.empty() && ranked.front().eligible ? &ranked.front() : nullptr;
  std::vector<SeriesSummary> out;
  for (const auto& p : index.patients)
    for (const auto& st : p.studies)
      for (const auto& se : st.series) {
        SeriesSummary s;
        s.seriesInstanceUid = se.seriesInstanceUid;
        s.studyInstanceUid = se.studyInstanceUid;
        s.modality = se.modality;
        s.description = se.seriesDescription;
        s.patientId = se.patientId;
        s.patientName = se.patientName;
        s.studyDate = se.studyDate;
        s.studyDescription = se.studyDescription;
        s.seriesNumber = se.seriesNumber;
        s.images = static_cast<int>(se.frameCount());
        s.sliceThicknessMm = se.sliceThicknessMm;
        s.rows = se.rows;
        s.columns = se.columns;
        if (!se.instances.empty()) {
          std::vector<const imaging::InstanceRecord*> sorted;
          for (const auto& r : se.instances) sorted.push_back(&r);
          std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
            return a->instanceNumber < b->instanceNumber;
          });
          s.middleFile = sorted[sorted.size() / 2]->path;
        }
        const auto it = verdict.find(&se);
        if (it != verdict.end()) {
          s.eligible = it->second->eligible;
          s.selected = it->second == selected;
          s.reasons = join(it->second->reasons);
        }
        out.push_back(std::move(s));
      }
  return out;
}

}  // namespace workflow
