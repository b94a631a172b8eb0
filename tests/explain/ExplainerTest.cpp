// Explainer end to end on generated phantom cases with a randomly initialised network (trained weights
// are checked by the Slow test when resources/models/medseek-moe-v1.msw exists).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "explain/ExpertStats.h"
#include "explain/Explainer.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "multimodal/Model.h"
#include "phantom/CohortGenerator.h"

namespace {

struct Fixture {
  std::string weights;
  std::unique_ptr<multimodal::Model> model;
  phantom::Case c;
  Fixture() {
    phantom::PhantomOptions po;
    po.language = phantom::LanguageMix::Mixed;
    phantom::CohortGenerator gen(77, po);
    std::vector<std::string> notes;
    for (int i = 0; i < 30; ++i) notes.push_back(gen.generateRecord(i).note);
    weights = (std::filesystem::temp_directory_path() / ("explain_random_" + std::to_string(::getpid()) + ".msw")).string();
    explain::writeRandomModel(weights, notes, 3);
    multimodal::ModelOptions mo;
    mo.device = "cpu";
    model = std::make_unique<multimodal::Model>(multimodal::Model::load(weights, mo));
    for (int i = 0;; ++i) {
      auto r = gen.generateRecord(i);
      if (r.nodules.size() == 1) {
        c = gen.generate(i);
        break;
      }
    }
  }
  ~Fixture() { std::filesystem::remove(weights); }
  const explain::Explanation& base() {
    if (!baseDone) {
      explain::Explainer ex(*model);
      baseExplanation = ex.explain(&c.volume, c.note);
      baseDone = true;
    }
    return baseExplanation;
  }
  explain::Explanation baseExplanation;
  bool baseDone = false;
};
Fixture& fx() {
  static Fixture f;
  return f;
}

}  // namespace

TEST(Explainer, HeatmapLiesOnTheCtGridWithValuesBetweenZeroAndOne) {
  const auto& e = fx().base();
  ASSERT_TRUE(e.usedImage);
  EXPECT_TRUE(e.heatmap.geometry.sameGridAs(fx().c.volume.geometry()));
  ASSERT_EQ(e.heatmap.values.size(), fx().c.volume.geometry().voxelCount());
  const auto [mn, mx] = std::minmax_element(e.heatmap.values.begin(), e.heatmap.values.end());
  EXPECT_GE(*mn, 0.f);
  EXPECT_LE(*mx, 1.f + 1e-6f);
  EXPECT_FLOAT_EQ(*mx, 1.f);
  EXPECT_EQ(e.heatmap.cells, 32);
  EXPECT_DOUBLE_EQ(e.heatmap.cellSpacingMm, 10.0);
  EXPECT_EQ(e.heatmap.lastBlockCells, 16);
  EXPECT_DOUBLE_EQ(e.heatmap.lastBlockCellSpacingMm, 20.0);
  EXPECT_EQ(e.heatmap.lastBlockCellValues.size(), 16u * 16u * 16u);
  EXPECT_EQ(e.heatmap.method, "layercam(block1) x grad-cam(block3)");
}

TEST(Explainer, ScoreMatchesTheModelsOwnPrediction) {
  const auto& e = fx().base();
  multimodal::CaseInput in;
  in.volume = &fx().c.volume;
  in.note = fx().c.note;
  auto p = fx().model->predict(in);
  EXPECT_NEAR(e.probability, p.probability, 1e-4);
  EXPECT_NEAR(e.routing.imageShare, p.imageShare, 1e-4);
  ASSERT_EQ(e.routing.experts.size(), 2u);
  EXPECT_EQ(e.routing.experts[0].expert, p.topExperts[0].expert);
}

TEST(Explainer, EveryNarrativeSentenceIsBackedInBothLanguages) {
  for (const char* lang : {"en", "zh"}) {
    explain::ExplainOptions o;
    o.language = lang;
    explain::Explainer ex(*fx().model, o);
    auto e = ex.explain(&fx().c.volume, fx().c.note);
    EXPECT_FALSE(e.narrative.empty());
    const auto problems = explain::checkNarrative(e);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front());
  }
}

TEST(Explainer, SaysNoStatisticsAvailableWithoutAnExpertStatisticsFile) {
  const auto& e = fx().base();
  EXPECT_FALSE(e.routing.statisticsAvailable);
  for (const auto& x : e.routing.experts) EXPECT_EQ(x.specialty.rfind("no statistics available", 0), 0u);
}

TEST(Explainer, ReadsExpertStatisticsWrittenForTheseWeights) {
  explain::ExpertStatistics s;
  s.cohort = "seed 5, 10 generated cases";
  s.modelSha256 = explain::sha256File(fx().weights);
  s.totalCases = 10;
  for (int i = 0; i < 8; ++i) {
    explain::ExpertProfile p;
    p.expert = i;
    p.cases = 3;
    p.meanWeight = 0.5;
    p.shareCancer = 0.25;
    s.experts[i] = p;
  }
  explain::summarise(s);
  const auto path = fx().weights + ".stats.json";
  {
    std::ofstream o(path);
    o << explain::toJson(s);
  }
  explain::ExplainOptions o;
  o.expertStatsPath = path;
  explain::Explainer ex(*fx().model, o);
  auto e = ex.explain(&fx().c.volume, fx().c.note);
  std::filesystem::remove(path);
  EXPECT_TRUE(e.routing.statisticsAvailable);
  ASSERT_EQ(e.routing.experts.size(), 2u);
  EXPECT_NE(e.routing.experts[0].specialty.find("3 of 10 generated cases"), std::string::npos);
  EXPECT_TRUE(explain::checkNarrative(e).empty());
}

TEST(Explainer, ImageOnlyAndNoteOnlyCasesAreExplainedAndSaidSo) {
  explain::Explainer ex(*fx().model);
  auto img = ex.explain(&fx().c.volume, "");
  EXPECT_TRUE(img.usedImage);
  EXPECT_FALSE(img.usedNote);
  EXPECT_FALSE(img.brock.computed);
  EXPECT_NE(img.narrativeText().find("image only"), std::string::npos);
  EXPECT_TRUE(explain::checkNarrative(img).empty());
  auto txt = ex.explain(nullptr, fx().c.note);
  EXPECT_FALSE(txt.usedImage);
  EXPECT_TRUE(txt.heatmap.values.empty());
  EXPECT_FALSE(txt.note.phrases.empty());
  EXPECT_EQ(txt.recordFactors.size(), 4u);
  EXPECT_TRUE(explain::checkNarrative(txt).empty());
  EXPECT_THROW(ex.explain(nullptr, ""), std::runtime_error);
}

TEST(Explainer, NoteAttributionsCoverTheNoteAndSumToTheTokenScores) {
  const auto& e = fx().base();
  ASSERT_FALSE(e.note.phrases.empty());
  double sumAbs = 0;
  for (const auto& p : e.note.phrases) {
    EXPECT_EQ(fx().c.note.substr(p.begin, p.end - p.begin), p.text);
    sumAbs += std::abs(p.score);
  }
  EXPECT_LE(sumAbs, e.note.totalAbs + 1e-6);
  EXPECT_GT(e.note.totalAbs, 0);
}

TEST(Explainer, OutOfScopeScanIsReportedNotExplained) {
  imaging::VolumeGeometry g;
  g.size = {64, 64, 20};
  g.spacingMm = {5, 5, 5};
  imaging::CtVolume thick(g, -1000);
  explain::Explainer ex(*fx().model);
  auto e = ex.explain(&thick, fx().c.note);
  EXPECT_TRUE(e.outOfScope);
  EXPECT_FALSE(e.outOfScopeReason.empty());
  ASSERT_EQ(e.narrative.size(), 1u);
}

TEST(Explainer, CamChangesWhenTheWeightsAreRandomised) {
  explain::Explainer ex(*fx().model);
  auto pre = multimodal::preprocessVolume(fx().c.volume, fx().model->preprocessOptions());
  auto a = ex.camOnly(pre, fx().c.note, false);
  auto b = ex.camOnly(pre, fx().c.note, true, 99);
  ASSERT_EQ(a.camCells.size(), b.camCells.size());
  EXPECT_LT(explain::spearman(a.camCells, b.camCells), 0.9);
}

TEST(Explainer, GradCamPlusPlusIsAvailable) {
  explain::ExplainOptions o;
  o.gradCamPlusPlus = true;
  o.heatmapOnCtGrid = false;
  explain::Explainer ex(*fx().model, o);
  auto e = ex.explain(&fx().c.volume, fx().c.note);
  EXPECT_EQ(e.heatmap.method, "layercam(block1) x grad-cam++(block3)");
  EXPECT_TRUE(e.heatmap.values.empty());
  EXPECT_EQ(e.heatmap.cellValues.size(), 32u * 32u * 32u);
}
