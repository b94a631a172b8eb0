// Faithfulness with the trained weights (skipped when resources/models/medseek-moe-v1.msw is absent):
// on held-out generated cases with one malignant nodule, the culprit finding is the true nodule and the
// narrative's lobe, type and diameter match the truth; the heatmap points into the true nodule; the CAM
// depends on the weights.
// The full figures come from `medseek-cli evaluate-explain`. The target is 90 % for both; measured
// (30 cases each) 100 % culprit inside the nodule and 93 % narrative agreement on seed 9002, 93 % and 90 %
// on seed 7003, and on these 16 cases 14 and 14: the two misses are nodules that touch the hilum or the
// mediastinum, which the measurement cannot separate (one not measured, one measured on a neighbour).
// Pointing game (the heatmap's maximum on the CT grid inside the true nodule; block1 LayerCAM x the last
// block's Grad-CAM, B-spline mapped): 96.7 % on seed 9002, 90.0 % on seed 7003, 15 of these 16.
// The thresholds below guard today's level with one case of margin; they are not the target.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "explain/Explainer.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "multimodal/Model.h"
#include "phantom/CohortGenerator.h"

namespace {
/// The shipped weights on the CPU, loaded once for all tests of this file.
multimodal::Model& trainedModel() {
  static multimodal::Model model = [] {
    multimodal::ModelOptions mo;
    mo.device = "cpu";
    return multimodal::Model::load(multimodal::Model::defaultPath(), mo);
  }();
  return model;
}
}  // namespace

TEST(Faithfulness, CulpritIsTheTrueNoduleAndNarrativeMatchesTruthOnTrainedWeightsSlow) {
  if (!std::filesystem::exists(multimodal::Model::defaultPath()))
    GTEST_SKIP() << "no trained weights at " << multimodal::Model::defaultPath();
  explain::Explainer ex(trainedModel());
  phantom::PhantomOptions po;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(424242, po);  // a seed the trainer does not use
  int n = 0, inside = 0, agree = 0, problems = 0, pointing = 0;
  double rho = 0;
  for (int i = 0; n < 16 && i < 800; ++i) {
    auto rec = gen.generateRecord(i);
    if (rec.nodules.size() != 1 || !rec.nodules[0].malignant) continue;
    const auto& t = rec.nodules[0];
    auto vol = gen.generateVolume(rec);
    auto pre = multimodal::preprocessVolume(vol, trainedModel().preprocessOptions());
    auto e = ex.explain(&vol, &pre, rec.note);
    ++n;
    problems += static_cast<int>(explain::checkNarrative(e).size());
    // Pointing game: the heatmap's maximum on the CT grid lies inside the true nodule.
    const auto& hv = e.heatmap.values;
    const auto p = static_cast<std::size_t>(std::max_element(hv.begin(), hv.end()) - hv.begin());
    const auto& g = vol.geometry();
    const auto peak = g.lpsFromIjk({double(p % g.size[0]), double((p / g.size[0]) % g.size[1]),
                                    double(p / (static_cast<std::size_t>(g.size[0]) * g.size[1]))});
    double dp = 0;
    for (int a = 0; a < 3; ++a) dp += std::pow(peak[a] - t.centerLps[a], 2);
    pointing += std::sqrt(dp) <= 0.5 * t.diameterMm;
    if (e.findings.empty() || !e.findings[0].measured) continue;
    const auto& f = e.findings[0];
    double d = 0;
    for (int a = 0; a < 3; ++a) d += std::pow(f.centerLps[a] - t.centerLps[a], 2);
    inside += std::sqrt(d) <= 0.5 * t.diameterMm;
    agree += f.lobe == phantom::toString(t.lobe) && f.type == phantom::toString(t.type) &&
             std::abs(f.diameterMm - t.diameterMm) <= 2.0;
    if (n <= 3) rho += explain::spearman(ex.camOnly(pre, rec.note).camCells, ex.camOnly(pre, rec.note, true, 7).camCells) / 3;
  }
  ASSERT_EQ(n, 16);
  EXPECT_EQ(problems, 0);
  EXPECT_GE(inside, 13) << "culprit finding inside the true nodule in " << inside << " of " << n;
  EXPECT_GE(agree, 13) << "lobe, type and diameter match in " << agree << " of " << n;
  EXPECT_GE(pointing, 14) << "heatmap peak inside the true nodule in " << pointing << " of " << n;
  EXPECT_LT(rho, 0.3);
}

namespace {
bool containsAny(const std::string& s, std::initializer_list<const char*> words) {
  std::string lower = s;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* w : words)
    if (lower.find(w) != std::string::npos) return true;
  return false;
}
}  // namespace

// The phrase cited for a factor read from the note is the one that states it (English and Chinese); a
// negated family history is read as "no", and a phrase cited for it is the negated family statement.
TEST(Faithfulness, NoteFactorEvidenceIsThePhraseThatStatesItOnTrainedWeightsSlow) {
  if (!std::filesystem::exists(multimodal::Model::defaultPath()))
    GTEST_SKIP() << "no trained weights at " << multimodal::Model::defaultPath();
  explain::Explainer ex(trainedModel());
  phantom::PhantomOptions po;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(515151, po);
  const std::initializer_list<const char*> family = {"famil", "fhx", "father", "mother", "brother", "sister",
                                                     "relative", "家族", "父亲", "母亲", "哥哥", "弟弟", "姐姐", "妹妹"};
  const std::initializer_list<const char*> smoking = {"smok", "tobacco", "pack", "pk", " py", "current", "former", "never", "quit", "吸烟", "包年", "戒烟"};
  int fhCases = 0, fhStated = 0, noCases = 0, noRead = 0, noCited = 0, noNegated = 0, smokeCases = 0, smokeStated = 0;
  for (int i = 0; i < 40; ++i) {
    const auto rec = gen.generateRecord(i);
    const auto e = ex.explain(nullptr, rec.note);  // note only: the note heads do not look at the image
    SCOPED_TRACE(rec.note);
    for (const auto& f : e.recordFactors) {
      if (f.name == "family_history") {
        if (rec.record.familyHistory) {
          ++fhCases;
          fhStated += f.value == "yes" && containsAny(f.evidencePhrase, family);
        } else {
          ++noCases;
          noRead += f.value == "no";
          if (!f.evidencePhrase.empty()) {
            ++noCited;
            noNegated += f.evidenceNegated && containsAny(f.evidencePhrase, family);
          }
        }
      } else if (f.name == "smoking") {
        ++smokeCases;
        smokeStated += containsAny(f.evidencePhrase, smoking);
      }
    }
  }
  ASSERT_GE(fhCases, 5);
  EXPECT_GE(fhStated, fhCases - 1) << "family history yes: the cited phrase states it in " << fhStated << " of " << fhCases;
  EXPECT_GE(noRead, noCases * 9 / 10) << "family history no: read as no in " << noRead << " of " << noCases;
  // A "no" is the model's default, so a phrase is cited only when it moved the head clearly; when one is
  // cited it must be the negated family-history statement.
  EXPECT_GE(noNegated, noCited * 8 / 10) << "family history no: the cited phrase is a negated family statement in "
                                         << noNegated << " of " << noCited;
  EXPECT_GE(smokeStated, smokeCases * 9 / 10) << "smoking: the cited phrase states it in " << smokeStated << " of " << smokeCases;
}
