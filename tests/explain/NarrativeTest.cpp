#include <gtest/gtest.h>

#include "explain/Narrative.h"

namespace {
explain::Explanation sample() {
  explain::Explanation e;
  e.usedImage = e.usedNote = true;
  e.probability = 0.412;
  e.routing.imageShare = 0.63;
  e.routing.textShare = 0.37;
  e.routing.experts = {{3, 0.71, "no statistics available"}, {5, 0.29, "no statistics available"}};
  explain::Finding f;
  f.rank = 1;
  f.measured = true;
  f.camPeak = 1.0;
  f.centerLps = {-61.25, 12.0, -88.4};
  f.sliceFirst = 160;
  f.sliceLast = 171;
  f.diameterMm = 12.34;
  f.longAxisMm = 13.1;
  f.shortAxisMm = 11.6;
  f.solidDiameterMm = 12.34;
  f.meanHu = 21.6;
  f.type = "solid";
  f.lobe = "RUL";
  f.fissureDistanceMm = 22;
  f.headType = "solid";
  f.headLobe = "RUL";
  f.headDiameterMm = 11.2;
  f.typeAgrees = f.lobeAgrees = f.diameterAgrees = true;
  e.findings.push_back(f);
  e.lungRadsCategory = "4A";
  e.lungRadsManagement = "3-month LDCT; PET/CT may be used when there is a >= 8 mm solid component";
  e.brock.computed = true;
  e.brock.probability = 0.1234;
  e.brock.ageYears = 67;
  e.brock.familyHistory = true;
  e.brock.female = true;
  e.brock.diameterMm = 12.34;
  e.brock.type = "solid";
  e.brock.withoutFamilyHistory = 0.0951;
  e.brock.ageAt62 = 0.11;
  e.note.phrases = {{"67-year-old woman", 0, 17, 0.2, false},
                    {"father had lung cancer", 19, 41, 0.8, false},
                    {"denies smoking", 43, 57, -0.3, true}};
  e.recordFactors = {{"age", "67", 1, "67-year-old woman", 0, 17, false},
                     {"family_history", "yes", 0.9, "father had lung cancer", 19, 41, false}};
  return e;
}
bool contains(const std::vector<explain::Sentence>& s, const std::string& part) {
  for (const auto& x : s)
    if (x.text.find(part) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(Narrative, EverySentenceIsBackedByTheStructuredFindingsInEnglishAndChinese) {
  for (const char* lang : {"en", "zh"}) {
    auto e = sample();
    e.language = lang;
    e.narrative = explain::composeNarrative(e, lang);
    ASSERT_FALSE(e.narrative.empty());
    const auto problems = explain::checkNarrative(e);
    EXPECT_TRUE(problems.empty()) << lang << ": " << (problems.empty() ? "" : problems.front());
  }
}

TEST(Narrative, CitesSliceRangeDiameterHuProbabilityAndTheNotePhrase) {
  auto e = sample();
  e.narrative = explain::composeNarrative(e, "en");
  EXPECT_TRUE(contains(e.narrative, "images 161-172"));
  EXPECT_TRUE(contains(e.narrative, "12.3 mm"));
  EXPECT_TRUE(contains(e.narrative, "22 HU"));
  EXPECT_TRUE(contains(e.narrative, "41.2%"));
  EXPECT_TRUE(contains(e.narrative, "RUL"));
  EXPECT_TRUE(contains(e.narrative, "Lung-RADS 4A"));
  EXPECT_TRUE(contains(e.narrative, "\"father had lung cancer\""));
  EXPECT_TRUE(contains(e.narrative, "from 9.5% to 12.3%"));  // family history moves Brock
  EXPECT_TRUE(contains(e.narrative, "is uncertain"));          // 41 % is said to be uncertain
}

TEST(Narrative, CheckerCatchesASentenceThatNoLongerMatchesTheFindings) {
  auto e = sample();
  e.narrative = explain::composeNarrative(e, "en");
  e.findings[0].diameterMm = 20.0;  // structure changed after the text was written
  EXPECT_FALSE(explain::checkNarrative(e).empty());
  auto f = sample();
  f.narrative = explain::composeNarrative(f, "en");
  f.narrative[0].text += " It is 99% certain.";  // an invented number
  EXPECT_FALSE(explain::checkNarrative(f).empty());
}

TEST(Narrative, SaysDisagreementAndNegationPlainly) {
  auto e = sample();
  e.findings[0].headType = "non_solid";
  e.findings[0].typeAgrees = false;
  e.narrative = explain::composeNarrative(e, "en");
  EXPECT_TRUE(contains(e.narrative, "disagree with the measurement on type"));
  EXPECT_TRUE(contains(e.narrative, "\"denies smoking\" (attribution -0.30), a negated statement"));
  EXPECT_TRUE(explain::checkNarrative(e).empty());
}

TEST(Narrative, ImageOnlyCaseSaysThereWasNoNoteAndNoBrock) {
  auto e = sample();
  e.usedNote = false;
  e.note = {};
  e.recordFactors.clear();
  e.brock = {};
  e.brock.reason = "no note: age, sex and family history are unknown";
  e.narrative = explain::composeNarrative(e, "en");
  EXPECT_TRUE(contains(e.narrative, "image only: no note was available"));
  EXPECT_TRUE(contains(e.narrative, "No Brock probability: no note"));
  EXPECT_TRUE(explain::checkNarrative(e).empty());
}

TEST(Narrative, UnmeasuredRegionIsNotDescribedAsANodule) {
  auto e = sample();
  e.findings[0].measured = false;
  e.lungRadsCategory = "1";
  e.lungRadsManagement = "Continue annual screening with LDCT in 12 months";
  e.brock = {};
  e.brock.reason = "no nodule was measured";
  e.narrative = explain::composeNarrative(e, "en");
  EXPECT_TRUE(contains(e.narrative, "contains no structure this tool could measure as a nodule"));
  EXPECT_FALSE(contains(e.narrative, "mean diameter"));
  EXPECT_TRUE(explain::checkNarrative(e).empty());
}

TEST(Narrative, OutOfScopeScanGetsOneSentenceWithTheReason) {
  explain::Explanation e;
  e.outOfScope = true;
  e.outOfScopeReason = "slices are 5.0 mm apart (at most 3.0 mm supported)";
  e.narrative = explain::composeNarrative(e, "en");
  ASSERT_EQ(e.narrative.size(), 1u);
  EXPECT_TRUE(contains(e.narrative, "5.0 mm apart"));
  EXPECT_TRUE(explain::checkNarrative(e).empty());
}
