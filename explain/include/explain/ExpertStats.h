#pragma once
/// ExpertStats: what each mixture-of-experts expert tends to specialise in, from evaluation statistics
/// computed over a generated cohort (`medseek-cli evaluate-explain --write-expert-stats FILE`) and stored
/// as a small JSON beside the weights. Never invented: without a file, "no statistics available".
#include <map>
#include <string>
#include <vector>

namespace explain {

struct ExpertProfile {
  int expert = -1;
  int cases = 0;             ///< cases where this expert was among the top-2
  double meanWeight = 0;
  double shareCancer = 0, shareWithNodule = 0, shareChinese = 0, meanImageShare = 0;
  double meanDiameterMm = 0;  ///< of the largest true nodule, over cases with one
  double shareSolid = 0, sharePartSolid = 0, shareNonSolid = 0;  ///< of the largest true nodule
  std::string summary;        ///< one line, e.g. "routed 31% of 400 generated cases; 62% with cancer..."
};

struct ExpertStatistics {
  std::string source;     ///< file path
  std::string cohort;     ///< e.g. "seed 7, 400 generated cases"
  std::string modelSha256;
  int totalCases = 0;
  std::map<int, ExpertProfile> experts;
};

/// Reads the JSON written by toJson(). Throws ExplainError on a malformed file.
ExpertStatistics readExpertStatistics(const std::string& path);
std::string toJson(const ExpertStatistics& s);
/// Fills `summary` of each profile from its numbers.
void summarise(ExpertStatistics& s);

/// SHA-256 of a file, lower-case hex (identity of the weights in results). Throws ExplainError.
std::string sha256File(const std::string& path);
std::string sha256(const std::string& bytes);

}  // namespace explain
