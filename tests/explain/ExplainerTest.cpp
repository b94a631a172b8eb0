// Explainer end to end on generated phantom cases with a randomly initialised network (trained weights
// are checked by the Slow test when resources/models/medseek-moe-v1.msw exists).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "explain/ExpertStats.h"
#include "explain/ExplainError.h"
#include "explain/Explainer.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "multimodal/Model.h"
#include "multimodal/Runtime.h"
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

// The screening pipeline runs the model part of several studies as one batch and finishes each on a
// worker: every case must come out as if it had been explained alone, whatever its batch-mates (an image
// with a note, the same image without one, a note without an image, an out-of-scope image).
TEST(Explainer, BatchedModelPassGivesEachCaseItsOwnExplanation) {
  auto& f = fx();
  explain::Explainer ex(*f.model);
  const auto pre = multimodal::preprocessVolume(f.c.volume, f.model->preprocessOptions());
  imaging::VolumeGeometry thick = f.c.volume.geometry();
  thick.spacingMm[2] = 5.0;  // slices too far apart: out of scope
  const imaging::CtVolume outOfScope(thick, f.c.volume.valuesHu());
  const std::vector<explain::ExplainInput> cases{{&f.c.volume, &pre, f.c.note},
                                                 {&f.c.volume, &pre, ""},
                                                 {nullptr, nullptr, f.c.note},
                                                 {&outOfScope, nullptr, f.c.note}};
  const auto passes = ex.runModel(cases);
  ASSERT_EQ(passes.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const auto batched = ex.finish(cases[i], *passes[i]);
    const auto alone = ex.explain(cases[i].volume, cases[i].note);
    ASSERT_EQ(batched.outOfScope, alone.outOfScope);
    if (alone.outOfScope) {
      EXPECT_EQ(batched.outOfScopeReason, alone.outOfScopeReason);
      continue;
    }
    EXPECT_NEAR(batched.probability, alone.probability, 1e-4);
    EXPECT_EQ(batched.usedImage, alone.usedImage);
    EXPECT_EQ(batched.usedNote, alone.usedNote);
    ASSERT_EQ(batched.heatmap.cellValues.size(), alone.heatmap.cellValues.size());
    for (std::size_t v = 0; v < alone.heatmap.cellValues.size(); ++v)
      ASSERT_NEAR(batched.heatmap.cellValues[v], alone.heatmap.cellValues[v], 1e-3) << "cell " << v;
    ASSERT_EQ(batched.findings.size(), alone.findings.size());
    for (std::size_t k = 0; k < alone.findings.size(); ++k) {
      EXPECT_EQ(batched.findings[k].sliceFirst, alone.findings[k].sliceFirst);
      EXPECT_EQ(batched.findings[k].sliceLast, alone.findings[k].sliceLast);
      EXPECT_NEAR(batched.findings[k].diameterMm, alone.findings[k].diameterMm, 1e-6);
    }
    ASSERT_EQ(batched.note.phrases.size(), alone.note.phrases.size());
    for (std::size_t k = 0; k < alone.note.phrases.size(); ++k)
      EXPECT_NEAR(batched.note.phrases[k].score, alone.note.phrases[k].score,
                  1e-3 * std::max(1.0, std::abs(alone.note.phrases[k].score)));
    ASSERT_EQ(batched.recordFactors.size(), alone.recordFactors.size());
    for (std::size_t k = 0; k < alone.recordFactors.size(); ++k) {
      EXPECT_EQ(batched.recordFactors[k].value, alone.recordFactors[k].value);
      EXPECT_EQ(batched.recordFactors[k].evidencePhrase, alone.recordFactors[k].evidencePhrase);
    }
    EXPECT_EQ(batched.narrativeText(), alone.narrativeText());
  }
  EXPECT_THROW(ex.runModel({{nullptr, nullptr, ""}}), explain::ExplainError);
}

namespace {
// Two runs of the same case read it alike: the score (within `probabilityTolerance`), the culprit's centre
// (within 2 mm) and the factors read from the note.
void expectSameReading(const explain::Explanation& a, const explain::Explanation& b, double probabilityTolerance) {
  EXPECT_NEAR(a.probability, b.probability, probabilityTolerance);
  ASSERT_EQ(a.findings.empty(), b.findings.empty());
  if (!a.findings.empty()) {
    double d2 = 0;
    for (std::size_t k = 0; k < 3; ++k) d2 += std::pow(a.findings[0].centerLps[k] - b.findings[0].centerLps[k], 2);
    EXPECT_LT(std::sqrt(d2), 2.0);
  }
  ASSERT_EQ(a.recordFactors.size(), b.recordFactors.size());
  for (std::size_t k = 0; k < a.recordFactors.size(); ++k) EXPECT_EQ(a.recordFactors[k].value, b.recordFactors[k].value);
}
}  // namespace

// The screening pipeline's batched pass on CUDA (fp32) explains like the CPU: same score, same culprit.
TEST(ExplainerGpu, BatchedCudaAndCpuExplanationsAgree) {
  ASSERT_TRUE(multimodal::runtimeInfo().cudaAvailable);
  if (!std::filesystem::exists(multimodal::Model::defaultPath())) GTEST_SKIP() << "no shipped weights";
  phantom::CohortGenerator gen(9002, {});
  std::vector<phantom::Case> cases;
  for (int i = 0; i < 4; ++i) cases.push_back(gen.generate(i));
  multimodal::ModelOptions cpuOptions{"cpu"}, cudaOptions{"cuda"};
  cudaOptions.autocast = false;
  auto cpuModel = multimodal::Model::load(multimodal::Model::defaultPath(), cpuOptions);
  auto cudaModel = multimodal::Model::load(multimodal::Model::defaultPath(), cudaOptions);
  explain::Explainer cpu(cpuModel), cuda(cudaModel);
  std::vector<explain::ExplainInput> in;
  for (const auto& c : cases) in.push_back({&c.volume, nullptr, c.note});
  const auto a = cpu.runModel(in), b = cuda.runModel(in);
  for (std::size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const auto ea = cpu.finish(in[i], *a[i]), eb = cuda.finish(in[i], *b[i]);
    ASSERT_NO_FATAL_FAILURE(expectSameReading(ea, eb, 1e-3));
  }
}

// analyze's batch-1 pass on CUDA replays a captured graph (ExplainOptions::cudaGraphs): case after case,
// with notes of other lengths, an image alone and a note alone, and back to the first case, it explains like
// the eager pass on the same device (same score, culprit, note factors and phrase scores).
TEST(ExplainerGpu, GraphReplaysExplainLikeTheEagerPass) {
  ASSERT_TRUE(multimodal::runtimeInfo().cudaAvailable);
  if (!std::filesystem::exists(multimodal::Model::defaultPath())) GTEST_SKIP() << "no shipped weights";
  phantom::CohortGenerator gen(9002, {});
  std::vector<phantom::Case> cases;
  for (int i = 0; i < 3; ++i) cases.push_back(gen.generate(i));
  multimodal::ModelOptions mo{"cuda"};
  auto model = multimodal::Model::load(multimodal::Model::defaultPath(), mo);
  explain::ExplainOptions eagerOptions;
  eagerOptions.cudaGraphs = false;
  explain::Explainer graphed(model), eager(model, eagerOptions);
  std::vector<explain::ExplainInput> in;
  for (const auto& c : cases) in.push_back({&c.volume, nullptr, c.note});
  in.push_back({&cases[1].volume, nullptr, ""});
  in.push_back({nullptr, nullptr, cases[2].note});
  in.push_back(in.front());
  std::vector<double> probabilities;
  for (std::size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const auto g = graphed.explain(in[i].volume, in[i].note), e = eager.explain(in[i].volume, in[i].note);
    probabilities.push_back(g.probability);
    ASSERT_NO_FATAL_FAILURE(expectSameReading(e, g, 2e-3));
    ASSERT_EQ(g.note.phrases.size(), e.note.phrases.size());
    for (std::size_t k = 0; k < e.note.phrases.size(); ++k)
      EXPECT_NEAR(g.note.phrases[k].score, e.note.phrases[k].score, 2e-2 * std::max(1.0, std::abs(e.note.phrases[k].score)));
  }
  // The replays read each case's own input: different cases, different scores; the same case, its score.
  EXPECT_NE(probabilities[0], probabilities[1]);
  EXPECT_NEAR(probabilities[0], probabilities.back(), 1e-6);
}

// Integrated gradients run per case inside a batch: each case gets the attributions it gets alone.
TEST(Explainer, IntegratedGradientsInABatchMatchEachCaseAlone) {
  auto& f = fx();
  explain::ExplainOptions opt;
  opt.integratedGradientSteps = 8;
  explain::Explainer ex(*f.model, opt);
  const std::string other = "58-year-old woman, never smoker; her mother had lung cancer.";
  const std::vector<explain::ExplainInput> cases{{nullptr, nullptr, f.c.note}, {nullptr, nullptr, other}};
  const auto passes = ex.runModel(cases);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const auto batched = ex.finish(cases[i], *passes[i]);
    const auto alone = ex.explain(nullptr, cases[i].note);
    EXPECT_NE(batched.note.method.find("integrated gradients (8 steps"), std::string::npos) << batched.note.method;
    ASSERT_EQ(batched.note.phrases.size(), alone.note.phrases.size());
    double total = 0;
    for (std::size_t k = 0; k < alone.note.phrases.size(); ++k) {
      EXPECT_NEAR(batched.note.phrases[k].score, alone.note.phrases[k].score,
                  1e-3 * std::max(1.0, std::abs(alone.note.phrases[k].score)));
      total += std::abs(alone.note.phrases[k].score);
    }
    EXPECT_GT(total, 0.0);
  }
}
