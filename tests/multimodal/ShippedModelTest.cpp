// Tests on phantom cases: preprocessing consistency across phantom sizes, and -- once the shipped
// weights exist -- the shipped model's discrimination and note reading on held-out generated cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "multimodal/Model.h"
#include "multimodal/detail/ModelAccess.h"
#include "phantom/CohortGenerator.h"

using namespace multimodal;

namespace {
bool shippedModelExists() { return std::ifstream(Model::defaultPath()).good(); }

double aucOf(const std::vector<double>& s, const std::vector<int>& y) {
  double num = 0, pos = 0, neg = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (y[i] && !y[j]) num += s[i] > s[j] ? 1 : (s[i] == s[j] ? 0.5 : 0);
  for (int v : y) (v ? pos : neg) += 1;
  return num / (pos * neg);
}

double meanAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]);
  return s / static_cast<double>(a.size());
}
}  // namespace

TEST(PhantomPreprocessingSlow, GivesNearlyTheSameTensorForTheFullAndSmallPhantomOfOneCase) {
  phantom::PhantomOptions s, f;
  s.size = phantom::SizePreset::Small;
  f.size = phantom::SizePreset::Full;
  const auto small = phantom::CohortGenerator(99, s).generate(3);
  const auto full = phantom::CohortGenerator(99, f).generate(3);
  const auto a = preprocessVolume(small.volume), b = preprocessVolume(full.volume);
  ASSERT_TRUE(a.inScope) << a.reason;
  ASSERT_TRUE(b.inScope) << b.reason;
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.lungCentroidLps[static_cast<std::size_t>(k)], b.lungCentroidLps[static_cast<std::size_t>(k)], 2.5);
  EXPECT_LT(meanAbsDiff(a.values, b.values), 0.05);
  if (!shippedModelExists()) return;
  auto model = Model::load(Model::defaultPath(), ModelOptions{"cpu"});
  const auto pa = model.predict(CaseInput{nullptr, &a, small.note});
  const auto pb = model.predict(CaseInput{nullptr, &b, full.note});
  EXPECT_NEAR(pa.probability, pb.probability, 0.05);
}

TEST(ShippedModel, ReadsAgeAndSexFromGeneratedEnglishAndChineseNotes) {
  if (!shippedModelExists()) GTEST_SKIP() << "no shipped weights at " << Model::defaultPath();
  auto model = Model::load(Model::defaultPath(), ModelOptions{"cpu"});
  phantom::PhantomOptions po;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(31337, po);  // never used for training (seed 20261129)
  std::vector<phantom::Case> cases;
  std::vector<CaseInput> in;
  for (int i = 0; i < 60; ++i) cases.push_back(gen.generateRecord(i));
  for (const auto& c : cases) in.push_back(CaseInput{nullptr, nullptr, c.note});
  const auto preds = model.predict(in);  // text only: fast
  int ageOk = 0, sexOk = 0, smokingOk = 0;
  static const char* smoking[3] = {"never", "former", "current"};
  for (std::size_t i = 0; i < preds.size(); ++i) {
    EXPECT_TRUE(preds[i].usedText && !preds[i].usedImage);
    ageOk += std::abs(preds[i].note.ageYears - cases[i].record.ageYears) <= 1.0;
    sexOk += (preds[i].note.femaleProbability > 0.5) == (cases[i].record.sex == phantom::Sex::Female);
    smokingOk += preds[i].note.smoking == smoking[static_cast<int>(cases[i].record.smoking)];
  }
  EXPECT_GE(ageOk, 57);  // 95 %
  EXPECT_GE(sexOk, 58);
  EXPECT_GE(smokingOk, 57);
}

// 200 held-out small phantoms (about 4 CPU minutes). Thresholds are regression guards set below the
// measured v1 figures (fusion 0.66, image-only 0.81 on 1000 cases); the targets are higher.
TEST(ShippedModelSlow, SeparatesCancerFromBenignOnHeldOutSmallPhantoms) {
  if (!shippedModelExists()) GTEST_SKIP() << "no shipped weights at " << Model::defaultPath();
  auto model = Model::load(Model::defaultPath(), ModelOptions{"cpu"});
  phantom::PhantomOptions po;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(31337, po);
  std::vector<double> fused, image, oracle;
  std::vector<int> label;
  for (int s = 0; s < 200; s += 20) {
    std::vector<phantom::Case> cases;
    std::vector<CaseInput> in, imgOnly;
    for (int i = s; i < s + 20; ++i) cases.push_back(gen.generate(i));
    for (const auto& c : cases) {
      in.push_back(CaseInput{&c.volume, nullptr, c.note});
      imgOnly.push_back(CaseInput{&c.volume, nullptr, ""});
    }
    const auto pf = model.predict(in), pi = model.predict(imgOnly);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      ASSERT_FALSE(pf[i].outOfScope) << pf[i].outOfScopeReason;
      fused.push_back(pf[i].probability);
      image.push_back(pi[i].probability);
      oracle.push_back(cases[i].brockProbability);
      label.push_back(cases[i].cancer);
    }
  }
  const double oracleAuc = aucOf(oracle, label);
  EXPECT_GT(aucOf(image, label), 0.70) << "oracle AUC on the same cases: " << oracleAuc;
  EXPECT_GT(aucOf(fused, label), 0.55) << "oracle AUC on the same cases: " << oracleAuc;
}

TEST(ModelGpu, CpuAndCudaPredictionsAgree) {
  ASSERT_TRUE(torch::cuda::is_available());
  if (!shippedModelExists()) GTEST_SKIP() << "no shipped weights";
  phantom::CohortGenerator gen(5, {});
  std::vector<phantom::Case> cases;
  std::vector<CaseInput> in;
  for (int i = 0; i < 8; ++i) cases.push_back(gen.generate(i));
  for (const auto& c : cases) in.push_back(CaseInput{&c.volume, nullptr, c.note});
  auto cpu = Model::load(Model::defaultPath(), ModelOptions{"cpu"});
  ModelOptions fp32{"cuda"};
  fp32.autocast = false;
  auto gpu32 = Model::load(Model::defaultPath(), fp32);
  auto gpuBf16 = Model::load(Model::defaultPath(), ModelOptions{"cuda"});
  const auto a = cpu.predict(in), b = gpu32.predict(in), c = gpuBf16.predict(in);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i].probability, b[i].probability, 1e-3) << "fp32 CUDA vs CPU, case " << i;
    EXPECT_NEAR(a[i].probability, c[i].probability, 0.03) << "bf16 autocast CUDA vs CPU, case " << i;
  }
}
