// The only translation unit of explain that includes torch: runs the network with gradients to the last
// image block and the note embeddings, and assembles the Explanation from plain-type helpers.
#include "explain/Explainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "clinical/Brock.h"
#include "clinical/LungRads.h"
#include "explain/ExpertStats.h"
#include "explain/ExplainError.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "explain/NoteAttribution.h"
#include "multimodal/Model.h"
#include "multimodal/detail/ModelAccess.h"

namespace explain {
namespace {
namespace md = multimodal::detail;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

torch::Tensor cpuF(const torch::Tensor& t) {
  if (!t.defined()) return t;
  auto d = t.detach().to(torch::kCPU);
  return d.scalar_type() == torch::kLong ? d : d.to(torch::kFloat);
}

std::vector<float> toVector(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Divides the values by their maximum (unchanged when the maximum is not positive).
void normaliseToMax(std::vector<float>& v) {
  const float mx = v.empty() ? 0.f : *std::max_element(v.begin(), v.end());
  if (mx > 0)
    for (float& x : v) x /= mx;
}

std::vector<float> normalisedVector(const torch::Tensor& t) {
  auto v = toVector(t);
  normaliseToMax(v);
  return v;
}

std::string heatmapMethod(bool plusPlus) {
  return std::string("layercam(block1) x ") + (plusPlus ? "grad-cam++" : "grad-cam") + "(block3)";
}

// Grad-CAM (Selvaraju et al., ICCV 2017) or Grad-CAM++ (Chattopadhay et al., WACV 2018) on the cell grid
// [n,n,n] from activations A [C,n,n,n] and gradients G [C,n,n,n]; relu'ed.
torch::Tensor gradCam(const torch::Tensor& A, const torch::Tensor& G, bool plusPlus) {
  torch::Tensor w;
  if (plusPlus) {
    auto g2 = G * G, g3 = g2 * G;
    auto sumA = A.sum(at::IntArrayRef{1, 2, 3}, /*keepdim=*/true);
    auto denom = 2.0 * g2 + sumA * g3;
    denom = torch::where(denom.abs() > 1e-12, denom, torch::ones_like(denom));
    auto alpha = g2 / denom;
    w = (alpha * torch::relu(G)).sum(at::IntArrayRef{1, 2, 3});
  } else {
    w = G.mean(at::IntArrayRef{1, 2, 3});
  }
  return torch::relu((w.view({-1, 1, 1, 1}) * A).sum(0));
}

torch::Tensor normalisedToMax(const torch::Tensor& m) {
  const float mx = m.max().item<float>();
  return mx > 0 ? m / mx : m;
}

// The heatmap, on block1's 32^3 grid (10 mm cells): LayerCAM (Jiang et al., "LayerCAM: Exploring
// Hierarchical Class Activation Maps for Localization", IEEE TIP 2021) at block1's output,
// relu(sum_c relu(dy/dA1_c) * A1_c) - element-wise gradient weights, which keep a shallow layer's
// localisation where Grad-CAM's global channel weights do not - multiplied by the last block's Grad-CAM
// (or Grad-CAM++) resized onto that grid (trilinear, half-cell convention as an image resize), so that the
// fine map shows only where the last block also sees the class evidence. Both are normalised to max 1
// first. A1, G1: block1's activation and gradient [32,m,m,m]; A3, G3: the last block's [64,n,n,n].
// Returns {fused [m,m,m], last block's CAM [n,n,n]}.
std::pair<torch::Tensor, torch::Tensor> fusedCam(const torch::Tensor& A1, const torch::Tensor& G1,
                                                 const torch::Tensor& A3, const torch::Tensor& G3,
                                                 bool plusPlus) {
  auto last = gradCam(A3, G3, plusPlus);
  auto layer = torch::relu((torch::relu(G1) * A1).sum(0));
  const auto m = A1.size(1);
  auto lastOnFine = torch::upsample_trilinear3d(normalisedToMax(last).unsqueeze(0).unsqueeze(0),
                                                std::vector<int64_t>{m, m, m}, /*align_corners=*/false)
                        .squeeze(0)
                        .squeeze(0);
  return {normalisedToMax(layer) * lastOnFine, last};
}

// fusedCam for a pass run with ForwardOptions::gradToBlock1Features and the gradients of the logit to
// block1's output (g1) and the last block's output (g3).
std::pair<torch::Tensor, torch::Tensor> camFromPass(const md::NetOutput& out, const torch::Tensor& g1,
                                                    const torch::Tensor& g3, bool plusPlus) {
  auto A1 = out.block1Features[0].detach().to(torch::kFloat);
  auto A3 = out.imageFeatures[0].detach().to(torch::kFloat);
  auto G1 = g1.defined() ? g1[0].to(torch::kFloat) : torch::zeros_like(A1);
  auto G3 = g3.defined() ? g3[0].to(torch::kFloat) : torch::zeros_like(A3);
  return fusedCam(A1, G1, A3, G3, plusPlus);
}

std::array<double, 3> cellOrigin(const multimodal::PreprocessedVolume& pre, int cells,
                                 bool receptiveFieldCentre) {
  // Last block (16^3): cell a covers model voxels [s*a, s*a + s) (s = grid/cells), centre s*a + (s-1)/2: the
  // convention the trainer's nodule-centre map uses (multimodal/src/Training.cpp), so the CAM is read in the
  // frame the features were supervised in. Block1 (32^3, never supervised directly): cell a sits at the
  // centre of its receptive field, model voxel s*a (the centre taps of two stride-2, pad-1 convolutions).
  const double s = static_cast<double>(pre.gridSize) / cells;
  std::array<double, 3> o = pre.originLps;
  if (!receptiveFieldCentre)
    for (auto& v : o) v += 0.5 * (s - 1) * pre.spacingMm;
  return o;
}

const char* kTypes[3] = {"solid", "part_solid", "non_solid"};
clinical::NoduleType noduleType(const std::string& t) {
  if (t == "part_solid") return clinical::NoduleType::PartSolid;
  if (t == "non_solid") return clinical::NoduleType::NonSolid;
  return clinical::NoduleType::Solid;
}
bool upperLobe(const std::string& l) { return l == "RUL" || l == "LUL"; }

}  // namespace

struct Explainer::Impl {
  multimodal::Model* model = nullptr;
  md::LoadedNetwork* ln = nullptr;
  md::MedSeekNet randomNet{nullptr};
  unsigned randomSeed = 0;
  ExpertStatistics stats;
  bool statsLoaded = false;
  std::string statsNote;
  std::string modelSha;

  struct Pass {
    md::NetOutput out;        // CPU copies of the heads
    torch::Tensor cam;        // [m,m,m] CPU: the heatmap (block1 LayerCAM x last block's CAM)
    torch::Tensor lastBlockCam;  // [n,n,n] CPU: the last block's Grad-CAM (or ++) alone
    torch::Tensor tokenScores;  // [T] CPU (cancer logit), empty without note
    std::map<std::string, torch::Tensor> factorScores;  // [T] per note head
    double forwardSeconds = 0, camSeconds = 0;
  };

  md::MedSeekNet& net(bool randomised) { return randomised ? randomNet : ln->net; }

  /// The note heads for several notes at once, text only (no image): [familyHistory, female, age, smoking...].
  std::vector<std::vector<double>> noteHeads(const std::vector<std::string>& notes) {
    torch::NoGradGuard ng;
    std::vector<md::TextInput> inputs;
    inputs.reserve(notes.size());
    for (const auto& n : notes) inputs.push_back(md::tokenizeNote(ln->tokenizer, n, ln->net->config().maxTokens));
    std::vector<const float*> images(notes.size(), nullptr);
    std::vector<const md::TextInput*> texts;
    for (const auto& t : inputs) texts.push_back(&t);
    auto out = ln->net->forward(md::makeBatch(images, ln->net->config().gridSize, texts).to(ln->device), {});
    auto fh = cpuF(out.familyHistoryLogit), female = cpuF(out.sexFemaleLogit), smoking = cpuF(out.smokingLogits);
    std::vector<std::vector<double>> rows(notes.size());
    for (std::size_t i = 0; i < notes.size(); ++i) {
      const auto k = static_cast<int64_t>(i);
      rows[i] = {fh[k].item<double>(), female[k].item<double>()};
      for (int64_t c = 0; c < smoking.size(1); ++c) rows[i].push_back(smoking[k][c].item<double>());
    }
    return rows;
  }

  Pass run(const multimodal::PreprocessedVolume* pre, const md::TextInput* text, bool plusPlus, bool factorGrads,
           bool randomised, int igSteps) {
    Pass p;
    torch::AutoGradMode grad(true);
    const auto t0 = Clock::now();
    auto& n = net(randomised);
    auto batch = md::makeBatch({pre ? pre->values.data() : nullptr}, n->config().gridSize, {text}).to(ln->device);
    md::ForwardOptions fo;
    fo.gradToBlock1Features = pre != nullptr;
    fo.gradToTextEmbeddings = text != nullptr;
    fo.autocastCuda = ln->autocast && ln->device.is_cuda();
    auto out = n->forward(batch, fo);
    p.forwardSeconds = since(t0);
    const auto t1 = Clock::now();
    std::vector<torch::Tensor> inputs;
    if (pre) {
      inputs.push_back(out.block1Features);
      inputs.push_back(out.imageFeatures);
    }
    if (text) inputs.push_back(out.textEmbeddings);
    // Gradients to these activations only (autograd::grad computes no parameter gradients).
    auto grads = torch::autograd::grad({out.cancerLogit.sum()}, inputs, {}, /*retain_graph=*/true,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    if (pre) {
      auto [fused, last] = camFromPass(out, grads[0], grads[1], plusPlus);
      p.cam = fused.to(torch::kCPU);
      p.lastBlockCam = last.to(torch::kCPU);
    }
    p.camSeconds = since(t1);
    if (text) {
      auto emb = out.textEmbeddings[0].detach();
      auto g = grads.back();
      if (igSteps > 0) {
        // Integrated gradients from a zero embedding (the image input stays as it is).
        auto sum = torch::zeros_like(emb);
        for (int s = 1; s <= igSteps; ++s) {
          md::ForwardOptions fi = fo;
          fi.gradToBlock1Features = false;
          fi.gradToTextEmbeddings = false;
          auto x = (emb * (static_cast<double>(s) / igSteps)).unsqueeze(0).requires_grad_(true);
          fi.textEmbeddingsOverride = x;
          torch::Tensor gi;
          {
            auto o2 = n->forward(batch, fi);
            gi = torch::autograd::grad({o2.cancerLogit.sum()}, {x}, {}, false, false, true)[0];
          }
          if (gi.defined()) sum += gi[0];
        }
        p.tokenScores = ((sum / igSteps) * emb).sum(-1).to(torch::kCPU).to(torch::kFloat);
      } else {
        p.tokenScores = g.defined() ? (g[0] * emb).sum(-1).to(torch::kCPU).to(torch::kFloat)
                                    : torch::zeros({emb.size(0)});
      }
      if (factorGrads) {
        auto smokingIdx = out.smokingLogits[0].argmax().item<int64_t>();
        std::vector<std::pair<std::string, torch::Tensor>> heads = {
            {"family_history", out.familyHistoryLogit.sum()},
            {"sex", out.sexFemaleLogit.sum()},
            {"age", out.ageYears.sum()},
            {"smoking", out.smokingLogits[0][smokingIdx]}};
        for (auto& [name, y] : heads) {
          auto gg = torch::autograd::grad({y}, {out.textEmbeddings}, {}, true, false, true)[0];
          p.factorScores[name] = gg.defined() ? (gg[0] * emb).sum(-1).to(torch::kCPU).to(torch::kFloat)
                                              : torch::zeros({emb.size(0)});
        }
      }
    }
    md::NetOutput& c = p.out;
    c.cancerLogit = cpuF(out.cancerLogit);
    c.gate = cpuF(out.gate);
    c.routing = cpuF(out.routing);
    c.topExperts = cpuF(out.topExperts);
    c.topWeights = cpuF(out.topWeights);
    c.noduleLogit = cpuF(out.noduleLogit);
    c.diameterCm = cpuF(out.diameterCm);
    c.typeLogits = cpuF(out.typeLogits);
    c.lobeLogits = cpuF(out.lobeLogits);
    c.spiculationLogit = cpuF(out.spiculationLogit);
    c.emphysemaLogit = cpuF(out.emphysemaLogit);
    c.countLogits = cpuF(out.countLogits);
    c.ageYears = cpuF(out.ageYears);
    c.ageAttention = cpuF(out.ageAttention);
    c.sexFemaleLogit = cpuF(out.sexFemaleLogit);
    c.familyHistoryLogit = cpuF(out.familyHistoryLogit);
    c.smokingLogits = cpuF(out.smokingLogits);
    c.priorCancerLogit = cpuF(out.priorCancerLogit);
    return p;
  }
};

Explainer::Explainer(multimodal::Model& model, ExplainOptions options)
    : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  impl_->model = &model;
  impl_->ln = &model.network();
  try {
    impl_->modelSha = sha256File(model.info().path);
  } catch (const std::exception&) {
    impl_->modelSha.clear();
  }
  std::string statsPath = options_.expertStatsPath;
  if (statsPath.empty()) {
    statsPath = (std::filesystem::path(model.info().path).parent_path() / "expert_stats.json").string();
  }
  std::error_code ec;
  if (std::filesystem::exists(statsPath, ec)) {
    try {
      auto s = readExpertStatistics(statsPath);
      if (!s.modelSha256.empty() && !impl_->modelSha.empty() && s.modelSha256 != impl_->modelSha) {
        impl_->statsNote = "no statistics available (" + statsPath + " was computed for other weights)";
      } else {
        impl_->stats = std::move(s);
        impl_->statsLoaded = true;
      }
    } catch (const std::exception& e) {
      impl_->statsNote = std::string("no statistics available (") + e.what() + ")";
    }
  } else {
    impl_->statsNote = "no statistics available";
  }
}
Explainer::~Explainer() = default;
Explainer::Explainer(Explainer&&) noexcept = default;
Explainer& Explainer::operator=(Explainer&&) noexcept = default;

Explanation Explainer::explain(const imaging::CtVolume* volume, const std::string& note) {
  return explain(volume, nullptr, note);
}

Explanation Explainer::explain(const imaging::CtVolume* volume, const multimodal::PreprocessedVolume* preIn,
                               const std::string& note) {
  const auto t0 = Clock::now();
  if (!volume && note.empty()) throw ExplainError("nothing to explain: the case has neither an image nor a note");
  auto& ln = *impl_->ln;
  Explanation e;
  e.language = options_.language == "zh" ? "zh" : "en";
  e.modelSha256 = impl_->modelSha;
  multimodal::PreprocessedVolume own;
  const multimodal::PreprocessedVolume* pre = nullptr;
  if (volume) {
    if (preIn) {
      pre = preIn;
    } else {
      own = multimodal::preprocessVolume(*volume, ln.preprocess);
      pre = &own;
    }
    e.preprocessSeconds = pre->seconds;
    if (!pre->inScope) {
      e.outOfScope = true;
      e.outOfScopeReason = pre->reason;
      e.probability = e.logit = std::nan("");
      e.narrative = composeNarrative(e, e.language);
      e.totalSeconds = since(t0);
      return e;
    }
  }
  md::TextInput text;
  if (!note.empty()) text = md::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
  e.usedImage = pre != nullptr;
  e.usedNote = !note.empty();
  Impl::Pass pass;
  try {
    pass = impl_->run(pre, e.usedNote ? &text : nullptr, options_.gradCamPlusPlus, e.usedNote, false,
                      options_.integratedGradientSteps);
  } catch (const c10::Error& err) {
    throw ExplainError(std::string("the model failed while explaining: ") + err.what_without_backtrace());
  }
  e.forwardSeconds = pass.forwardSeconds;
  e.camSeconds = pass.camSeconds;
  multimodal::Prediction pred;
  md::fillPrediction(pass.out, 0, ln.temperature, pred);
  e.probability = pred.probability;
  e.logit = pred.logit;

  // Routing.
  e.routing.imageShare = pred.imageShare;
  e.routing.textShare = pred.textShare;
  e.routing.statisticsAvailable = impl_->statsLoaded;
  e.routing.statisticsSource = impl_->statsLoaded ? impl_->stats.source + " (" + impl_->stats.cohort + ")" : "";
  if (!ln.net->config().dense) {
    for (const auto& c : pred.topExperts) {
      ExpertSummary s;
      s.expert = c.expert;
      s.weight = c.weight;
      if (impl_->statsLoaded) {
        auto it = impl_->stats.experts.find(c.expert);
        s.specialty = it != impl_->stats.experts.end() ? it->second.summary
                                                       : "no statistics available for this expert (never routed in the evaluation cohort)";
      } else {
        s.specialty = impl_->statsNote;
      }
      e.routing.experts.push_back(s);
    }
  }

  // Heatmap and findings.
  const auto tf = Clock::now();
  if (e.usedImage) {
    e.headNoduleProbability = pred.image.noduleProbability;
    e.headSpiculationProbability = pred.image.spiculationProbability;
    e.headEmphysemaProbability = pred.image.emphysemaProbability;
    e.headNoduleCount = pred.image.noduleCount;
    const int cells = static_cast<int>(pass.cam.size(0));
    auto& h = e.heatmap;
    h.method = heatmapMethod(options_.gradCamPlusPlus);
    h.cells = cells;
    h.cellSpacingMm = pre->spacingMm * pre->gridSize / cells;
    h.cellOriginLps = cellOrigin(*pre, cells, /*receptiveFieldCentre=*/true);
    h.cellValues = normalisedVector(pass.cam);
    h.lastBlockCells = static_cast<int>(pass.lastBlockCam.size(0));
    h.lastBlockCellSpacingMm = pre->spacingMm * pre->gridSize / h.lastBlockCells;
    h.lastBlockCellOriginLps = cellOrigin(*pre, h.lastBlockCells, /*receptiveFieldCentre=*/false);
    h.lastBlockCellValues = normalisedVector(pass.lastBlockCam);
    const float fusedMax = pass.cam.max().item<float>();
    h.rawMax = fusedMax > 0 ? pass.lastBlockCam.max().item<float>() : 0.0;
    h.geometry = volume->geometry();
    if (options_.heatmapOnCtGrid) {
      h.values = camToCtGrid(h.cellValues, cells, h.cellSpacingMm, h.cellOriginLps, h.geometry, options_.threads);
      normaliseToMax(h.values);  // the B-spline can over- or undershoot the cells' maximum of 1
    }
    if (h.rawMax <= 0) e.warnings.push_back("the image part of the model shows no positive evidence (CAM is zero)");
    auto comps = camComponents(h.cellValues, cells, h.cellSpacingMm, h.cellOriginLps, options_.camThreshold);
    for (const auto& c : comps) {
      if (static_cast<int>(e.findings.size()) >= options_.maxFindings) break;
      Finding f = measureNoduleNear(*volume, c, h.values);
      bool dup = false;
      for (const auto& o : e.findings)
        if (f.measured && o.measured) {
          double d2 = 0;
          for (int a = 0; a < 3; ++a) d2 += std::pow(f.centerLps[static_cast<std::size_t>(a)] - o.centerLps[static_cast<std::size_t>(a)], 2);
          if (d2 < 25) dup = true;
        }
      if (dup) continue;
      f.rank = static_cast<int>(e.findings.size()) + 1;
      auto [lobe, dist] = lobeFromPosition(f.centerLps, pre->lungCentroidLps);
      f.lobe = lobe;
      f.fissureDistanceMm = dist;
      f.lobeRule = lobeRuleDescription();
      if (f.rank == 1) {
        f.headType = pred.image.type;
        f.headLobe = pred.image.lobe;
        f.headDiameterMm = pred.image.diameterMm;
        f.typeAgrees = f.measured && f.type == f.headType;
        f.lobeAgrees = f.lobe == f.headLobe;
        f.diameterAgrees = f.measured && std::abs(f.diameterMm - f.headDiameterMm) <= 3.0;
      }
      e.findings.push_back(f);
    }
  }
  e.findingsSeconds = since(tf);

  // Note attributions and record factors.
  if (e.usedNote) {
    std::vector<TokenScore> ts;
    auto acc = pass.tokenScores.accessor<float, 1>();
    for (std::size_t t = 0; t < text.pieces.size(); ++t)
      ts.push_back({text.pieces[t].begin, text.pieces[t].end, static_cast<double>(acc[static_cast<int64_t>(t + 1)])});
    e.note = aggregateNote(note, ts);
    if (options_.integratedGradientSteps > 0)
      e.note.method = "integrated gradients (" + std::to_string(options_.integratedGradientSteps) + " steps, zero baseline)";
    e.note.truncated = ln.tokenizer.encode(note).size() + 1 > text.ids.size();
    auto phrasesFor = [&](const std::string& head) {
      std::vector<TokenScore> fs;
      auto a = pass.factorScores[head].accessor<float, 1>();
      for (std::size_t t = 0; t < text.pieces.size(); ++t)
        fs.push_back({text.pieces[t].begin, text.pieces[t].end, static_cast<double>(a[static_cast<int64_t>(t + 1)])});
      return aggregateNote(note, fs).phrases;
    };
    auto evidence = [&](RecordFactor& f, const std::vector<NoteSpan>& phrases) {
      const NoteSpan* best = nullptr;
      for (const auto& p : phrases)
        if (!best || std::abs(p.score) > std::abs(best->score)) best = &p;
      if (best && std::abs(best->score) > 0) {
        f.evidencePhrase = best->text;
        f.evidenceBegin = best->begin;
        f.evidenceEnd = best->end;
        f.evidenceNegated = best->negated;
      }
    };
    // Sex, family history and smoking: the evidence is the phrase whose removal moves the head furthest
    // away from the value it read (occlusion on text-only forwards, one batch). Gradient x input on these
    // heads pointed at the opening sentence whatever stated the factor, so it is not used for evidence.
    std::vector<std::string> occluded{note};
    for (const auto& p : e.note.phrases) {
      std::string n = note;
      for (std::size_t b = p.begin; b < p.end && b < n.size(); ++b) n[b] = ' ';
      occluded.push_back(std::move(n));
    }
    const auto heads = impl_->noteHeads(occluded);
    // A phrase is cited only when removing it moves the head by at least 1 logit (2 for a negative reading
    // such as "no family history": the model reads "no" by default, so small moves there are diffuse).
    auto occlusionEvidence = [&](RecordFactor& f, std::size_t head, double sign) {
      double bestDrop = sign > 0 ? 1.0 : 2.0;
      for (std::size_t i = 0; i < e.note.phrases.size(); ++i) {
        const double drop = sign * (heads[0][head] - heads[i + 1][head]);
        if (drop > bestDrop) {
          bestDrop = drop;
          const auto& p = e.note.phrases[i];
          f.evidencePhrase = p.text;
          f.evidenceBegin = p.begin;
          f.evidenceEnd = p.end;
          f.evidenceNegated = p.negated;
        }
      }
    };
    char buf[64];
    {
      RecordFactor f;
      f.name = "age";
      std::snprintf(buf, sizeof buf, "%.0f", pred.note.ageYears);
      f.value = buf;
      f.probability = 1;
      // The age head points at a number token: its phrase is the evidence.
      auto att = pass.out.ageAttention[0];
      const int64_t t = att.argmax().item<int64_t>();
      if (t >= 1 && static_cast<std::size_t>(t) <= text.pieces.size() && text.isNumber[static_cast<std::size_t>(t)]) {
        const auto& piece = text.pieces[static_cast<std::size_t>(t - 1)];
        for (const auto& p : e.note.phrases)
          if (piece.begin >= p.begin && piece.end <= p.end) {
            f.evidencePhrase = p.text;
            f.evidenceBegin = p.begin;
            f.evidenceEnd = p.end;
            f.evidenceNegated = p.negated;
          }
      } else {
        evidence(f, phrasesFor("age"));
      }
      e.recordFactors.push_back(f);
    }
    {
      RecordFactor f;
      f.name = "sex";
      const bool female = pred.note.femaleProbability >= 0.5;
      f.value = female ? "female" : "male";
      f.probability = female ? pred.note.femaleProbability : 1 - pred.note.femaleProbability;
      occlusionEvidence(f, 1, female ? 1.0 : -1.0);
      e.recordFactors.push_back(f);
    }
    {
      RecordFactor f;
      f.name = "family_history";
      const bool yes = pred.note.familyHistoryProbability >= 0.5;
      f.value = yes ? "yes" : "no";
      f.probability = yes ? pred.note.familyHistoryProbability : 1 - pred.note.familyHistoryProbability;
      occlusionEvidence(f, 0, yes ? 1.0 : -1.0);
      e.recordFactors.push_back(f);
    }
    {
      RecordFactor f;
      f.name = "smoking";
      f.value = pred.note.smoking;
      f.probability = *std::max_element(pred.note.smokingProbabilities.begin(), pred.note.smokingProbabilities.end());
      const auto smokingClass = std::max_element(pred.note.smokingProbabilities.begin(),
                                                 pred.note.smokingProbabilities.end()) -
                                pred.note.smokingProbabilities.begin();
      occlusionEvidence(f, 2 + static_cast<std::size_t>(smokingClass), 1.0);
      e.recordFactors.push_back(f);
    }
  }

  // Lung-RADS from the measured nodules.
  std::vector<clinical::LungRadsNodule> nods;
  for (const auto& f : e.findings)
    if (f.measured) nods.push_back({noduleType(f.type), f.diameterMm, f.solidDiameterMm, false});
  if (e.usedImage) {
    const auto cat = clinical::lungRadsExamCategory(nods);
    e.lungRadsCategory = clinical::toString(cat);
    e.lungRadsManagement = clinical::management(cat);
    e.lungRadsBasis = nods.empty() ? "no nodule measured in the CAM regions" : "most suspicious measured nodule";
  }

  // Brock from measured image factors + note factors.
  const Finding* culprit = nullptr;
  for (const auto& f : e.findings)
    if (f.measured) {
      culprit = &f;
      break;
    }
  if (!e.usedNote) {
    e.brock.reason = "no note: age, sex and family history are unknown";
  } else if (!culprit) {
    e.brock.reason = "no nodule was measured";
  } else {
    clinical::BrockInput in;
    in.ageYears = pred.note.ageYears;
    in.female = pred.note.femaleProbability >= 0.5;
    in.familyHistory = pred.note.familyHistoryProbability >= 0.5;
    in.emphysema = pred.image.emphysemaProbability >= 0.5;
    in.diameterMm = std::max(1.0, culprit->diameterMm);
    in.type = noduleType(culprit->type);
    in.upperLobe = upperLobe(culprit->lobe);
    int measuredCount = 0;
    for (const auto& f : e.findings) measuredCount += f.measured ? 1 : 0;
    in.noduleCount = std::max({1, measuredCount, pred.image.noduleCount});
    in.spiculated = pred.image.spiculationProbability >= 0.5;
    auto& b = e.brock;
    b.computed = true;
    b.probability = clinical::brockProbability(in);
    b.ageYears = in.ageYears;
    b.female = in.female;
    b.familyHistory = in.familyHistory;
    b.emphysema = in.emphysema;
    b.upperLobe = in.upperLobe;
    b.spiculated = in.spiculated;
    b.diameterMm = in.diameterMm;
    b.type = culprit->type;
    b.noduleCount = in.noduleCount;
    auto flipped = in;
    flipped.familyHistory = !in.familyHistory;
    b.withoutFamilyHistory = clinical::brockProbability(flipped);
    auto at62 = in;
    at62.ageYears = 62;
    b.ageAt62 = clinical::brockProbability(at62);
  }
  e.narrative = composeNarrative(e, e.language);
  e.totalSeconds = since(t0);
  (void)kTypes;
  return e;
}

RawExplanation Explainer::camOnly(const multimodal::PreprocessedVolume& pre, const std::string& note,
                                  bool randomised, unsigned seed) {
  auto& ln = *impl_->ln;
  if (randomised && (!impl_->randomNet || impl_->randomSeed != seed)) {
    torch::manual_seed(seed);
    impl_->randomNet = md::MedSeekNet(ln.net->config());
    impl_->randomNet->to(ln.device);
    impl_->randomNet->eval();
    impl_->randomSeed = seed;
  }
  md::TextInput text;
  if (!note.empty()) text = md::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
  auto pass = impl_->run(&pre, note.empty() ? nullptr : &text, options_.gradCamPlusPlus, false, randomised, 0);
  RawExplanation r;
  r.logit = pass.out.cancerLogit[0].item<float>() / ln.temperature;
  r.probability = sigmoid(r.logit);
  r.cells = static_cast<int>(pass.cam.size(0));
  r.camCells = toVector(pass.cam);
  return r;
}

double Explainer::score(const multimodal::PreprocessedVolume& pre, const std::string& note) {
  multimodal::CaseInput in;
  in.preprocessed = &pre;
  in.note = note;
  return impl_->model->predict(in).probability;
}

std::pair<double, double> Explainer::timeForwardVersusCam(const multimodal::PreprocessedVolume& pre,
                                                          const std::string& note, int repeats) {
  auto& ln = *impl_->ln;
  md::TextInput text;
  if (!note.empty()) text = md::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
  auto batch = md::makeBatch({pre.values.data()}, ln.net->config().gridSize, {note.empty() ? nullptr : &text}).to(ln.device);
  std::vector<double> fwd, cam;
  for (int r = 0; r < repeats + 1; ++r) {
    {
      torch::NoGradGuard ng;
      const auto t0 = Clock::now();
      auto o = ln.net->forward(batch, {});
      (void)o.cancerLogit.sum().item<float>();
      if (r > 0) fwd.push_back(since(t0));
    }
    {
      torch::AutoGradMode g(true);
      const auto t0 = Clock::now();
      md::ForwardOptions fo;
      fo.gradToBlock1Features = true;
      auto o = ln.net->forward(batch, fo);
      auto gr = torch::autograd::grad({o.cancerLogit.sum()}, {o.block1Features, o.imageFeatures}, {}, false,
                                      false, true);
      auto c = camFromPass(o, gr[0], gr[1], options_.gradCamPlusPlus).first;
      (void)c.sum().item<float>();
      if (r > 0) cam.push_back(since(t0));
    }
  }
  std::sort(fwd.begin(), fwd.end());
  std::sort(cam.begin(), cam.end());
  return {fwd[fwd.size() / 2], cam[cam.size() / 2]};
}

}  // namespace explain

namespace explain {
void writeRandomModel(const std::string& path, const std::vector<std::string>& notes, unsigned seed) {
  try {
    torch::manual_seed(seed);
    auto tok = multimodal::Tokenizer::learn(notes, 1);
    multimodal::detail::NetConfig cfg;
    cfg.vocabSize = tok.size();
    multimodal::detail::MedSeekNet net(cfg);
    net->eval();
    multimodal::detail::saveNetwork(path, net, tok, 1.0, multimodal::PreprocessOptions{},
                                    {{"purpose", "randomly initialised (explain sanity checks / tests)"}});
  } catch (const std::exception& e) {
    throw ExplainError("cannot write a random model to '" + path + "': " + e.what());
  }
}
}  // namespace explain
