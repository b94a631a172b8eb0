#include <gtest/gtest.h>
#include <torch/torch.h>

#include <tuple>

#include "multimodal/detail/ModelAccess.h"
#include "multimodal/detail/Network.h"

using namespace multimodal;
using namespace multimodal::detail;

TEST(MoE, RoutesEachCaseToTwoExpertsWithWeightsSummingToOne) {
  torch::manual_seed(1);
  MoE moe(16, 32, 8, 2, 1.25);
  moe->eval();
  auto r = moe->forward(torch::randn({10, 16}), /*applyCapacity=*/false);
  EXPECT_EQ(r.topIdx.sizes(), (std::vector<int64_t>{10, 2}));
  EXPECT_TRUE(torch::allclose(r.topW.sum(1), torch::ones({10}), 1e-5, 1e-6));
  EXPECT_TRUE((r.topIdx.select(1, 0) != r.topIdx.select(1, 1)).all().item<bool>());
  EXPECT_EQ(((r.routing > 0).sum(1) == 2).sum().item<int64_t>(), 10);
  EXPECT_TRUE(torch::allclose(r.routing.sum(1), torch::ones({10}), 1e-5, 1e-6));
  EXPECT_EQ(r.out.sizes(), (std::vector<int64_t>{10, 16}));
}

// The weighted dispatch (every expert on every row, used off the CPU: no host synchronisation) gives the
// gather/scatter dispatch's output and gradients, also with the capacity limit dropping slots in training.
TEST(MoE, WeightedDispatchMatchesTheGatherScatterDispatch) {
  torch::manual_seed(4);
  MoE moe(16, 32, 8, 2, 1.0);
  for (bool training : {false, true}) {
    training ? moe->train() : moe->eval();
    auto x = torch::randn({24, 16});
    x.narrow(0, 12, 12).copy_(x.narrow(0, 0, 1).expand({12, 16}));  // a crowd on the same experts
    std::vector<torch::Tensor> outs, grads, paramGrads;
    for (int mode : {1, 2}) {
      moe->setDispatch(mode);
      moe->zero_grad();
      auto xi = x.clone().requires_grad_(true);
      torch::manual_seed(9);  // the same router noise in training
      auto r = moe->forward(xi, /*applyCapacity=*/training);
      r.out.pow(2).sum().backward();
      outs.push_back(r.out.detach());
      grads.push_back(xi.grad());
      std::vector<torch::Tensor> pg;  // the experts' weights learn the same in both (the trainer's GPU path)
      for (const auto& p : moe->named_parameters())
        if (p.key().find("noise") == std::string::npos)  // an expert no row reached has no gradient
          pg.push_back(p.value().grad().defined() ? p.value().grad().flatten() : torch::zeros({p.value().numel()}));
      paramGrads.push_back(torch::cat(pg));
      if (training) {
        EXPECT_GT(r.dropped.item<float>(), 0.0f);
      }
    }
    moe->setDispatch(0);
    EXPECT_TRUE(torch::allclose(outs[0], outs[1], 1e-5, 1e-6)) << (outs[0] - outs[1]).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(grads[0], grads[1], 1e-5, 1e-6)) << (grads[0] - grads[1]).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(paramGrads[0], paramGrads[1], 1e-5, 1e-6))
        << (paramGrads[0] - paramGrads[1]).abs().max().item<float>();
    EXPECT_GT(outs[0].abs().max().item<float>(), 0.0f);
  }
}

// The network's attention (batch-first, no torch::equal checks) computes what nn::MultiheadAttention
// computes from the same parameters: self-attention with padding, cross-attention with its weights.
TEST(Attention, MatchesTheModulesForward) {
  torch::manual_seed(11);
  torch::nn::MultiheadAttention m(torch::nn::MultiheadAttentionOptions(16, 4));
  m->eval();
  auto x = torch::randn({3, 7, 16}), y = torch::randn({3, 5, 16});
  auto padding = torch::zeros({3, 7}, torch::kBool);
  padding.narrow(1, 4, 3).select(0, 1).fill_(true);  // case 1: its last 3 tokens are padding
  {
    auto ref = std::get<0>(m(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), padding)).transpose(0, 1);
    auto got = multiHeadAttention(m, x, x, padding, /*selfAttention=*/true, /*needWeights=*/false);
    EXPECT_TRUE(torch::allclose(got.first, ref, 1e-5, 1e-6)) << (got.first - ref).abs().max().item<float>();
    EXPECT_FALSE(got.second.defined());
  }
  {
    auto ref = m(y.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), padding);
    auto got = multiHeadAttention(m, y, x, padding, /*selfAttention=*/false, /*needWeights=*/true);
    auto refOut = std::get<0>(ref).transpose(0, 1);
    EXPECT_TRUE(torch::allclose(got.first, refOut, 1e-5, 1e-6)) << (got.first - refOut).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(got.second, std::get<1>(ref), 1e-5, 1e-6));
    EXPECT_EQ(got.second.select(0, 1).narrow(1, 4, 3).abs().max().item<float>(), 0.0f);  // padding gets none
  }
}

TEST(MoE, RespectsTheCapacityLimitInTraining) {
  torch::manual_seed(2);
  MoE moe(16, 32, 8, 2, 1.0);
  moe->train();
  // Identical inputs all prefer the same experts: the capacity limit must drop the overflow.
  auto x = torch::randn({1, 16}).repeat({32, 1});
  {
    torch::NoGradGuard ng;
    for (auto& p : moe->named_parameters())
      if (p.key() == "noise.weight") p.value().zero_();
      else if (p.key() == "noise.bias") p.value().fill_(-40.0f);  // softplus(-40) ~ 0: no noise
  }
  auto r = moe->forward(x, /*applyCapacity=*/true);
  const int cap = moe->capacityFor(32);
  EXPECT_EQ(cap, 8);
  auto perExpert = (r.routing > 0).sum(0);
  EXPECT_LE(perExpert.max().item<int64_t>(), cap);
  EXPECT_GT(r.dropped.item<float>(), 0.5f);
  // Without the limit every case keeps both slots.
  auto r2 = moe->forward(x, /*applyCapacity=*/false);
  EXPECT_EQ(r2.dropped.item<float>(), 0.0f);
}

TEST(MoE, BalanceLossIsOneForAUniformRouterAndHigherWhenCollapsed) {
  MoE moe(16, 32, 8, 2, 1.25);
  moe->eval();
  {
    torch::NoGradGuard ng;
    for (auto& p : moe->named_parameters())
      if (p.key().rfind("router", 0) == 0) p.value().zero_();
  }
  // Uniform router probabilities (1/8): loss = 8 * sum f_e / 8 = 1 whatever the assignment.
  auto r = moe->forward(torch::randn({16, 16}), false);
  EXPECT_NEAR(r.balanceLoss.item<float>(), 1.0f, 1e-5);
  {
    torch::NoGradGuard ng;
    for (auto& p : moe->named_parameters())
      if (p.key() == "router.bias") p.value().copy_(torch::tensor({9.f, 8.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}));
  }
  auto c = moe->forward(torch::randn({16, 16}), false);
  EXPECT_GT(c.balanceLoss.item<float>(), 3.0f);  // all cases on experts 0 and 1
}

namespace {
Batch tinyBatch(const Tokenizer& tok, int64_t B, int G) {
  std::vector<float> img(static_cast<std::size_t>(G) * G * G, -0.5f);
  auto t1 = tokenizeNote(tok, "71 year old woman, denies family history", 64);
  auto t2 = tokenizeNote(tok, "患者男性，62岁", 64);
  std::vector<const float*> imgs;
  std::vector<const TextInput*> txts;
  for (int64_t i = 0; i < B; ++i) {
    imgs.push_back(i == 2 ? nullptr : img.data());  // case 2: text only
    txts.push_back(i == 1 ? nullptr : (i % 2 ? &t2 : &t1));  // case 1: image only
  }
  return makeBatch(imgs, G, txts);
}

/// A freshly initialised network (seeded) for the tokenizer's vocabulary, in eval mode.
MedSeekNet evalNet(const Tokenizer& tok, uint64_t seed) {
  torch::manual_seed(seed);
  NetConfig cfg;
  cfg.vocabSize = tok.size();
  MedSeekNet net(cfg);
  net->eval();
  return net;
}
}  // namespace

TEST(MedSeekNet, ProducesTheDocumentedShapesAndMasksAbsentModalities) {
  Tokenizer tok;
  auto net = evalNet(tok, 3);
  torch::NoGradGuard ng;
  const int64_t B = 3;
  auto out = net->forward(tinyBatch(tok, B, 128));
  EXPECT_EQ(out.cancerLogit.sizes(), (std::vector<int64_t>{B}));
  EXPECT_EQ(out.imageFeatures.sizes(), (std::vector<int64_t>{B, 64, 16, 16, 16}));
  EXPECT_EQ(out.gate.sizes(), (std::vector<int64_t>{B, 2}));
  EXPECT_EQ(out.routing.sizes(), (std::vector<int64_t>{B, 8}));
  EXPECT_EQ(out.textToImageAttention.sizes(), (std::vector<int64_t>{B, 65}));
  EXPECT_EQ(out.typeLogits.sizes(), (std::vector<int64_t>{B, 3}));
  EXPECT_EQ(out.lobeLogits.sizes(), (std::vector<int64_t>{B, 5}));
  EXPECT_EQ(out.smokingLogits.sizes(), (std::vector<int64_t>{B, 3}));
  EXPECT_TRUE(torch::isfinite(out.cancerLogit).all().item<bool>());
  EXPECT_NEAR(out.gate[1][1].item<float>(), 0.0f, 1e-6);  // image only: no text share
  EXPECT_NEAR(out.gate[2][0].item<float>(), 0.0f, 1e-6);  // text only: no image share
  EXPECT_NEAR(out.gate[0].sum().item<float>(), 1.0f, 1e-5);
  // The age pointer reads the number in the note (untrained: a mix of the numbers present).
  EXPECT_NEAR(out.ageYears[0].item<float>(), 71.0f, 1e-3);
}

// The explainer's occlusion forwards read the note heads through textHeadsOnly: they must be exactly the
// heads of a full forward, and nothing of the image or fusion part is computed.
TEST(MedSeekNet, TextHeadsOnlyGivesTheFullForwardsNoteHeads) {
  Tokenizer tok;
  auto net = evalNet(tok, 5);
  torch::NoGradGuard ng;
  const auto batch = tinyBatch(tok, 3, 32);
  auto full = net->forward(batch);
  ForwardOptions o;
  o.textHeadsOnly = true;
  auto text = net->forward(batch, o);
  for (const auto& [name, a, b] : std::vector<std::tuple<std::string, torch::Tensor, torch::Tensor>>{
           {"sex", full.sexFemaleLogit, text.sexFemaleLogit},
           {"family history", full.familyHistoryLogit, text.familyHistoryLogit},
           {"smoking", full.smokingLogits, text.smokingLogits},
           {"age", full.ageYears, text.ageYears}})
    EXPECT_TRUE(torch::equal(a, b)) << name;
  EXPECT_FALSE(text.cancerLogit.defined());
  EXPECT_FALSE(text.imageFeatures.defined());
}

TEST(MedSeekNet, RunsGradientsOnlyAfterBlock1ForTheCam) {
  Tokenizer tok;
  auto net = evalNet(tok, 4);
  ForwardOptions fo;
  fo.gradToBlock1Features = true;
  fo.gradToTextEmbeddings = true;
  auto out = net->forward(tinyBatch(tok, 1, 128), fo);
  auto g = torch::autograd::grad({out.cancerLogit.sum()}, {out.imageFeatures, out.textEmbeddings});
  EXPECT_EQ(g[0].sizes(), out.imageFeatures.sizes());
  EXPECT_GT(g[0].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(g[1].sizes(), out.textEmbeddings.sizes());
  // The trunk ran without autograd: its parameters get no gradient.
  out = net->forward(tinyBatch(tok, 1, 128), fo);
  out.cancerLogit.sum().backward();
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("stem", 0) == 0 || p.key().rfind("block1", 0) == 0) EXPECT_FALSE(p.value().grad().defined()) << p.key();
    if (p.key() == "block3.0.weight") EXPECT_TRUE(p.value().grad().defined());
  }
}

TEST(MedSeekNet, GivesGradientsToBlock1sOutputWithoutParameterGradientsForTheFineCam) {
  Tokenizer tok;
  auto net = evalNet(tok, 5);
  ForwardOptions fo;
  fo.gradToBlock1Features = true;
  auto out = net->forward(tinyBatch(tok, 1, 128), fo);
  ASSERT_TRUE(out.block1Features.defined());
  EXPECT_EQ(out.block1Features.sizes(), (std::vector<int64_t>{1, 32, 32, 32, 32}));
  auto g = torch::autograd::grad({out.cancerLogit.sum()}, {out.block1Features, out.imageFeatures});
  EXPECT_GT(g[0].abs().sum().item<float>(), 0.0f);
  EXPECT_GT(g[1].abs().sum().item<float>(), 0.0f);
  for (const auto& p : net->named_parameters()) EXPECT_FALSE(p.value().grad().defined()) << p.key();
  // The same prediction as a plain forward.
  torch::NoGradGuard ng;
  auto plain = net->forward(tinyBatch(tok, 1, 128), {});
  EXPECT_NEAR(plain.cancerLogit[0].item<float>(), out.cancerLogit[0].item<float>(), 1e-4);
}

TEST(MedSeekNet, OneCaseOnTheCpuGivesWhatTheSameCaseGivesInABatch) {
  // A batch of one runs the image encoder's convolutions through oneDNN directly (LibTorch's own choice for
  // that shape is ~60x slower); a batch of two takes LibTorch's path. Both must agree.
  Tokenizer tok;
  auto net = evalNet(tok, 6);
  torch::NoGradGuard ng;
  auto x = torch::rand({2, 1, 128, 128, 128}) * 2 - 1;
  auto both = net->lastImageBlock(net->imageTrunk(x));
  auto one = net->lastImageBlock(net->imageTrunk(x.narrow(0, 0, 1)));
  EXPECT_LT((both.narrow(0, 0, 1) - one).abs().max().item<float>(),
            1e-4 * (1 + both.abs().max().item<float>()));
}

TEST(MedSeekNet, InputGradientOfTheOneDnnPathMatchesLibTorchs) {
  Tokenizer tok;
  auto net = evalNet(tok, 7);
  auto h = torch::rand({2, 64, 16, 16, 16});
  auto h2 = h.clone().requires_grad_(true);
  auto g2 = torch::autograd::grad({net->lastImageBlock(h2).narrow(0, 0, 1).sum()}, {h2})[0].narrow(0, 0, 1);
  auto h1 = h.narrow(0, 0, 1).clone().requires_grad_(true);
  auto g1 = torch::autograd::grad({net->lastImageBlock(h1).sum()}, {h1})[0];
  EXPECT_LT((g1 - g2).abs().max().item<float>(), 1e-4 * (1 + g2.abs().max().item<float>()));
}
