// Training on CPU with a tiny cohort: the weights it writes load and predict, the cohort cache is reused
// only for the same cohort, and a warm start copies what matches (a dense run keeps all but the FFN).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "TestSupport.h"
#include "multimodal/Model.h"
#include "multimodal/ModelError.h"
#include "multimodal/Training.h"

using namespace multimodal;
namespace fs = std::filesystem;

namespace {
struct TrainingTest : ::testing::Test {
  fs::path dir;
  std::string log;
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) / ("medseek-train-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  TrainOptions tiny(const std::string& out) {
    TrainOptions o;
    o.trainCases = 4;
    o.valCases = 3;
    o.epochs = 1;
    o.batchSize = 2;
    o.maxSteps = 1;
    o.textVariants = 1;
    o.device = "cpu";
    o.threads = 2;
    o.outputPath = (dir / out).string();
    o.log = [this](const std::string& s) { log += s + "\n"; };
    return o;
  }
  Prediction predict(const std::string& weights) {
    auto m = Model::load(weights, {"cpu", 1});
    const auto chest = mmtest::makeChest(160, 2.2, 120, 2.5);
    CaseInput in;
    in.volume = &chest;
    in.note = "68 year old man, former smoker, no family history of lung cancer.";
    auto p = m.predict(in);
    EXPECT_FALSE(p.outOfScope) << p.outOfScopeReason;
    return p;
  }
};

TEST_F(TrainingTest, WritesWeightsThatLoadAndPredict) {
  auto o = tiny("a.msw");
  o.vocabPath = (dir / "vocab.txt").string();
  const auto r = train(o);
  EXPECT_EQ(r.trainCases + r.valCases + r.skippedOutOfScope, 7);
  EXPECT_EQ(r.steps, 1);
  EXPECT_GT(fs::file_size(dir / "vocab.txt"), 100u);
  const double p = predict(o.outputPath).probability;
  EXPECT_TRUE(std::isfinite(p));
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1.0);
}

TEST_F(TrainingTest, CohortCacheIsReusedOnlyForTheSameCohort) {
  auto o = tiny("first.msw");
  o.cohortCache = (dir / "cohort.bin").string();
  train(o);
  ASSERT_TRUE(fs::exists(o.cohortCache));
  EXPECT_EQ(log.find("read "), std::string::npos) << "the first run generates";
  log.clear();

  auto again = tiny("second.msw");
  again.cohortCache = o.cohortCache;
  train(again);
  EXPECT_NE(log.find("from the cohort cache"), std::string::npos) << log;
  // Same seed, same cases, same initialisation: the same model (CPU is deterministic here).
  EXPECT_NEAR(predict(o.outputPath).rawLogit, predict(again.outputPath).rawLogit, 1e-5);

  auto other = tiny("other.msw");
  other.cohortCache = o.cohortCache;
  other.valCases = 4;
  try {
    train(other);
    FAIL() << "a cache of another cohort must be refused";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("holds another cohort"), std::string::npos) << e.what();
  }

  fs::resize_file(o.cohortCache, fs::file_size(o.cohortCache) / 2);
  try {
    train(again);
    FAIL() << "a truncated cache must be refused";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST_F(TrainingTest, WarmStartCopiesMatchingTensors) {
  auto base = tiny("base.msw");
  train(base);
  log.clear();

  auto moe = tiny("moe.msw");
  moe.initPath = base.outputPath;
  moe.maxSteps = 0;
  moe.epochs = 0;  // no step: the result must be the initial weights
  train(moe);
  EXPECT_NE(log.find("tensors copied, 0 fresh"), std::string::npos) << log;
  EXPECT_NEAR(predict(base.outputPath).rawLogit, predict(moe.outputPath).rawLogit, 1e-4)
      << "only the temperature is refitted, the network is the one loaded";
  log.clear();

  auto dense = tiny("dense.msw");
  dense.initPath = base.outputPath;
  dense.dense = true;
  train(dense);
  EXPECT_NE(log.find("4 fresh"), std::string::npos) << "the dense FFN (2 layers x weight + bias) starts fresh: " << log;
  EXPECT_TRUE(std::isfinite(predict(dense.outputPath).probability));

  auto missing = tiny("x.msw");
  missing.initPath = (dir / "nope.msw").string();
  EXPECT_THROW(train(missing), ModelError);
}
}  // namespace
