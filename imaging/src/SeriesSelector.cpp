#include "imaging/SeriesSelector.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace imaging {
namespace {

const char* kCtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
const char* kEnhancedCtImageStorage = "1.2.840.10008.5.1.4.1.1.2.1";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::vector<std::string> splitValues(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '\\')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string mm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g mm", v);
  return buf;
}

}  // namespace

std::vector<SeriesCandidate> rankSeriesForChestCt(const DicomIndex& index,
                                                  const SelectionCriteria& criteria) {
  std::vector<SeriesCandidate> out;
  for (const SeriesEntry* s : index.allSeries()) {
    SeriesCandidate c;
    c.series = s;
    auto& r = c.reasons;
    if (s->modality != "CT")
      r.push_back("modality " + (s->modality.empty() ? std::string("(none)") : s->modality) + ", not CT");
    if (s->sopClassUid == kEnhancedCtImageStorage) {
      r.push_back("enhanced multi-frame CT is not supported (export the series as classic CT images)");
    } else if (startsWith(s->sopClassUid, "1.2.840.10008.5.1.4.1.1.88.")) {
      r.push_back("structured report (e.g. a dose report), not images");
    } else if (startsWith(s->sopClassUid, "1.2.840.10008.5.1.4.1.1.7")) {
      r.push_back("secondary capture (screenshots / dose sheet), not original CT images");
    } else if (s->sopClassUid != kCtImageStorage) {
      r.push_back("SOP class " + s->sopClassUid + " is not CT Image Storage");
    }
    const auto type = splitValues(upper(s->imageType));
    const std::string description = upper(s->seriesDescription);
    if (std::find(type.begin(), type.end(), "LOCALIZER") != type.end() ||
        description.find("SCOUT") != std::string::npos || description.find("TOPO") != std::string::npos ||
        description.find("LOCALIZER") != std::string::npos ||
        description.find("SURVIEW") != std::string::npos) {
      r.push_back("localizer / scout image");
    } else if (description.find("DOSE") != std::string::npos) {
      r.push_back("dose report (by its description \"" + s->seriesDescription + "\")");
    }
    if (!s->imageType.empty()) {
      if (type[0] != "ORIGINAL")
        r.push_back("ImageType " + s->imageType + ": derived images (reformat, MIP, ...)");
      if (type.size() > 1 && type[1] != "PRIMARY") r.push_back("ImageType " + s->imageType + ": not PRIMARY");
      if (type.size() > 2 && !type[2].empty() && type[2] != "AXIAL" && type[2] != "LOCALIZER")
        r.push_back("ImageType " + s->imageType + ": not AXIAL");
    }
    // Orientation and coverage from the header positions.
    const InstanceRecord* first = nullptr;
    for (const auto& i : s->instances)
      if (i.hasOrientation) {
        first = &i;
        break;
      }
    if (!first) {
      r.push_back("no ImageOrientationPatient");
    } else {
      const auto& o = first->orientation;
      const double n[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
      const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      if (len < 0.5) {
        r.push_back("ImageOrientationPatient rows and columns are not orthogonal");
      } else {
        if (std::fabs(n[2] / len) < 0.8) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "not axial (slice normal %.2f, %.2f, %.2f)", n[0] / len, n[1] / len,
                        n[2] / len);
          r.push_back(buf);
        }
        double lo = 1e300, hi = -1e300;
        for (const auto& i : s->instances)
          if (i.hasPosition) {
            const double d =
                (i.positionLps[0] * n[0] + i.positionLps[1] * n[1] + i.positionLps[2] * n[2]) / len;
            lo = std::min(lo, d);
            hi = std::max(hi, d);
          }
        c.coverageMm = hi >= lo ? hi - lo : 0;
      }
    }
    const std::size_t frames = s->frameCount();
    if (static_cast<int>(frames) < criteria.minSlices)
      r.push_back("only " + std::to_string(frames) + " image(s) (at least " +
                  std::to_string(criteria.minSlices) + " needed)");
    if (s->sliceThicknessMm > criteria.maxSliceThicknessMm)
      r.push_back("slices " + mm(s->sliceThicknessMm) + " thick (at most " +
                  mm(criteria.maxSliceThicknessMm) + ")");
    if (first && c.coverageMm < criteria.minCoverageMm && static_cast<int>(frames) >= criteria.minSlices)
      r.push_back("covers only " + mm(c.coverageMm) + " along the patient axis (at least " +
                  mm(criteria.minCoverageMm) + ")");
    c.eligible = r.empty();
    if (c.eligible) {
      const double t = s->sliceThicknessMm > 0 ? s->sliceThicknessMm : criteria.preferredSliceThicknessMm;
      c.score = c.coverageMm / 10.0 + (t <= criteria.preferredSliceThicknessMm ? 50.0 : 0.0) - 5.0 * t +
                static_cast<double>(frames) / 100.0;
      r.push_back("eligible: " + std::to_string(frames) + " axial slices, " + mm(t) + " thick, " +
                  mm(c.coverageMm) + " coverage");
    }
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const SeriesCandidate& a, const SeriesCandidate& b) {
    if (a.eligible != b.eligible) return a.eligible;
    return a.score > b.score;
  });
  return out;
}

}  // namespace imaging
