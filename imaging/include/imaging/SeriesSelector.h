#pragma once
/// SeriesSelector: ranks the series of a DicomIndex for chest-CT analysis, with a readable reason for
/// every exclusion (the CLI and GUI show them; batch logs them so nothing is skipped silently).
///
///   auto ranked = imaging::rankSeriesForChestCt(index);
///   if (!ranked.empty() && ranked.front().eligible) load(*ranked.front().series);
///   for (const auto& c : ranked) if (!c.eligible) std::cout << c.series->label() << ": " << c.reasons[0];
///
/// Limitations: header-only judgement; geometry problems (gaps, tilt) are found by SeriesLoader.
#include <string>
#include <vector>

#include "imaging/DicomIndex.h"

namespace imaging {

struct SelectionCriteria {
  double maxSliceThicknessMm = 5.0;  ///< thicker series are excluded
  double preferredSliceThicknessMm = 2.5;
  int minSlices = 10;           ///< fewer images: excluded (scout, key images)
  double minCoverageMm = 10.0;  ///< z extent from the header positions
};

struct SeriesCandidate {
  const SeriesEntry* series = nullptr;  ///< points into the DicomIndex (keep it alive)
  bool eligible = false;
  double score = 0;                  ///< higher is better; only meaningful among eligible ones
  double coverageMm = 0;             ///< extent of positions along the slice normal
  std::vector<std::string> reasons;  ///< exclusion reasons (eligible: why it ranks where it does)
};

/// Every series of the index, eligible ones first by descending score.
std::vector<SeriesCandidate> rankSeriesForChestCt(const DicomIndex& index,
                                                  const SelectionCriteria& criteria = {});

}  // namespace imaging
