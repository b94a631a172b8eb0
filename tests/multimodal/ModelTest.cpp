#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "TestSupport.h"
#include "multimodal/Model.h"
#include "multimodal/WeightsFile.h"
#include "multimodal/detail/ModelAccess.h"

using namespace multimodal;

namespace {
// Per process: ctest runs each test in a process of its own, several at a time.
std::string tempPath(const std::string& name) {
  return std::string(MEDSEEK_BINARY_DIR) + "/mm_test_" + std::to_string(::getpid()) + "_" + name;
}

// A randomly initialised model written in the shipped format (temperature 1.5).
const std::string& randomModelPath() {
  static const std::string path = [] {
    torch::manual_seed(11);
    auto tok = Tokenizer::learn({"woman man denies family history smoker 岁 患者", "woman man denies family history smoker 岁 患者"}, 2);
    multimodal::detail::NetConfig cfg;
    cfg.vocabSize = tok.size();
    multimodal::detail::MedSeekNet net(cfg);
    net->eval();
    const auto p = tempPath("random.msw");
    multimodal::detail::saveNetwork(p, net, tok, 1.5, PreprocessOptions{}, {{"purpose", "test"}});
    return p;
  }();
  static const struct Remover {
    ~Remover() { std::remove(path.c_str()); }  // at the process's exit
  } remover;
  (void)remover;
  return path;
}
}  // namespace

TEST(Model, LoadsItsOwnWeightsAndReproducesTheNetworkWithinHalfPrecision) {
  torch::manual_seed(12);
  Tokenizer tok;
  multimodal::detail::NetConfig cfg;
  cfg.vocabSize = tok.size();
  multimodal::detail::MedSeekNet net(cfg);
  net->eval();
  const auto p = tempPath("roundtrip-net.msw");
  multimodal::detail::saveNetwork(p, net, tok, 1.25, PreprocessOptions{}, {});
  auto ln = multimodal::detail::loadNetwork(p, torch::Device(torch::kCPU));
  EXPECT_DOUBLE_EQ(ln.temperature, 1.25);
  EXPECT_EQ(ln.tokenizer.hash(), tok.hash());
  std::vector<float> img(128u * 128u * 128u, -0.6f);
  auto text = multimodal::detail::tokenizeNote(tok, "65 year old", 32);
  auto batch = multimodal::detail::makeBatch({img.data()}, 128, {&text});
  torch::NoGradGuard ng;
  const float a = net->forward(batch).cancerLogit.item<float>();
  const float b = ln.net->forward(batch).cancerLogit.item<float>();
  EXPECT_NEAR(a, b, 2e-2 * (1 + std::abs(a)));
  std::remove(p.c_str());
}

TEST(Model, RefusesWrongVersionAndTruncatedWeightsWithAClearError) {
  auto f = readWeightsFile(randomModelPath());
  f.metadata["model_version"] = "medseek-moe-0";
  const auto wrong = tempPath("wrong-version.msw");
  writeWeightsFile(wrong, f);
  try {
    Model::load(wrong);
    FAIL() << "wrong version accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("medseek-moe-0"), std::string::npos) << e.what();
  }
  std::ifstream in(randomModelPath(), std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = tempPath("cut.msw");
  {
    std::ofstream out(cut, std::ios::binary);
    out << raw.substr(0, raw.size() * 2 / 3);
  }
  EXPECT_THROW(Model::load(cut), ModelError);
  f = readWeightsFile(randomModelPath());
  f.tensors.pop_back();
  writeWeightsFile(wrong, f);
  EXPECT_THROW(Model::load(wrong), ModelError);
  EXPECT_THROW(Model::load(randomModelPath(), ModelOptions{"tpu"}), ModelError);
  std::remove(wrong.c_str());
  std::remove(cut.c_str());
}

TEST(Model, ReportsOutOfScopeVolumesInsteadOfScoringThem) {
  auto model = Model::load(randomModelPath(), ModelOptions{"cpu"});
  const auto thick = mmtest::makeChest(64, 5.5, 60, 5.0);
  CaseInput in;
  in.volume = &thick;
  in.note = "71 year old woman";
  const auto p = model.predict(in);
  EXPECT_TRUE(p.outOfScope);
  EXPECT_NE(p.outOfScopeReason.find("5.0 mm"), std::string::npos);
  EXPECT_TRUE(std::isnan(p.probability));
  EXPECT_THROW(model.predict(CaseInput{}), ModelError);
}

TEST(Model, ScoresImageOnlyTextOnlyAndFusedCasesIndependentlyOfTheBatch) {
  auto model = Model::load(randomModelPath(), ModelOptions{"cpu"});
  EXPECT_DOUBLE_EQ(model.info().temperature, 1.5);
  const auto ct = mmtest::makeChest(160, 2.2, 120, 2.5);
  const auto pre = preprocessVolume(ct, model.preprocessOptions());
  ASSERT_TRUE(pre.inScope);
  CaseInput fused, image, text;
  fused.preprocessed = image.preprocessed = &pre;
  fused.note = text.note = "患者女性，68岁，否认家族史。";
  const auto batch = model.predict({fused, image, text});
  EXPECT_TRUE(batch[0].usedImage && batch[0].usedText);
  EXPECT_TRUE(batch[1].usedImage && !batch[1].usedText);
  EXPECT_TRUE(!batch[2].usedImage && batch[2].usedText);
  EXPECT_DOUBLE_EQ(batch[1].textShare, 0.0);
  EXPECT_DOUBLE_EQ(batch[2].imageShare, 0.0);
  for (const auto& p : batch) {
    EXPECT_GT(p.probability, 0.0);
    EXPECT_LT(p.probability, 1.0);
    EXPECT_NEAR(p.logit, p.rawLogit / 1.5, 1e-9);
    EXPECT_NEAR(p.topExperts[0].weight + p.topExperts[1].weight, 1.0, 1e-5);
    EXPECT_NE(p.topExperts[0].expert, p.topExperts[1].expert);
    EXPECT_EQ(p.routing.size(), 8u);
  }
  EXPECT_NEAR(batch[0].note.ageYears, 68.0, 1e-3);  // the only number in the note
  const auto single = model.predict(text);
  EXPECT_NEAR(single.probability, batch[2].probability, 1e-5);
  const auto viaVolume = model.predict(CaseInput{&ct, nullptr, fused.note});
  EXPECT_NEAR(viaVolume.probability, batch[0].probability, 1e-5);
}
