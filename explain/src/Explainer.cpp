// The only translation unit of explain that includes torch: runs the network with gradients to the last
// image block and the note embeddings, and assembles the Explanation from plain-type helpers.
#include "explain/Explainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#include "clinical/Brock.h"
#include "clinical/LungRads.h"
#include "explain/ExpertStats.h"
#include "explain/ExplainError.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "explain/NoteAttribution.h"
#include "multimodal/Model.h"
#include "multimodal/detail/ModelAccess.h"
#ifdef MEDSEEK_TORCH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>
#endif

namespace explain {
namespace {
namespace md = multimodal::detail;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// MEDSEEK_TRACE_MODEL=1: runModel prints the wall time of its phases per batch to stderr, with the device
// synchronised at each phase boundary (so the figures are honest, and the tracing itself costs a little).
bool traceModel() {
  static const bool on = std::getenv("MEDSEEK_TRACE_MODEL") != nullptr;
  return on;
}
void traceMark(const torch::Device& d, Clock::time_point& t, std::string& line, const char* phase) {
  if (!traceModel()) return;
  if (d.is_cuda()) torch::cuda::synchronize();
  char buf[64];
  std::snprintf(buf, sizeof buf, " %s %.1f ms", phase, 1e3 * since(t));
  line += buf;
  t = Clock::now();
}

#ifdef MEDSEEK_TORCH_CUDA
// Captures `pass` into `graph` on the current stream (the caller's side stream) and returns what the captured
// run returned: its tensors are the graph's outputs, rewritten by every replay. `warmUps` eager runs come
// first on that stream, so that library handles, workspaces and the allocator's blocks exist before capture;
// autocast's weight cache stays off throughout, so that no cast made during capture outlives it. Only this
// thread is barred from unsafe CUDA calls during the capture, so other threads' GPU work does not break it.
// Throws c10::Error (capture mode is left first).
template <class Pass>
auto captureGraph(at::cuda::CUDAGraph& graph, int warmUps, Pass&& pass) -> decltype(pass()) {
  struct CacheOff {
    bool was = at::autocast::is_autocast_cache_enabled();
    CacheOff() { at::autocast::set_autocast_cache_enabled(false); }
    ~CacheOff() { at::autocast::set_autocast_cache_enabled(was); }
  } cacheOff;
  for (int w = 0; w < warmUps; ++w) (void)pass();
  c10::cuda::getCurrentCUDAStream().synchronize();
#if TORCH_VERSION_MAJOR >= 2
  graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
  graph.capture_begin();
#endif
  decltype(pass()) out;
  try {
    out = pass();
  } catch (...) {
    try {
      graph.capture_end();  // leaves capture mode; the capture is invalid anyway
    } catch (...) {
    }
    throw;
  }
  graph.capture_end();
  return out;
}
#endif

torch::Tensor cpuF(const torch::Tensor& t) {
  if (!t.defined()) return t;
  auto d = t.detach().to(torch::kCPU);
  return d.scalar_type() == torch::kLong ? d : d.to(torch::kFloat);
}

// Divides the values by their maximum (unchanged when the maximum is not positive).
void normaliseToMax(std::vector<float>& v) {
  const float mx = v.empty() ? 0.f : *std::max_element(v.begin(), v.end());
  if (mx > 0)
    for (float& x : v) x /= mx;
}

std::string heatmapMethod(bool plusPlus) {
  return std::string("layercam(block1) x ") + (plusPlus ? "grad-cam++" : "grad-cam") + "(block3)";
}

// Grad-CAM (Selvaraju et al., ICCV 2017) or Grad-CAM++ (Chattopadhay et al., WACV 2018) per case on the cell
// grid from activations A [B,C,n,n,n] and gradients G [B,C,n,n,n]; relu'ed, [B,n,n,n].
torch::Tensor gradCam(const torch::Tensor& A, const torch::Tensor& G, bool plusPlus) {
  torch::Tensor w;
  if (plusPlus) {
    auto g2 = G * G, g3 = g2 * G;
    auto sumA = A.sum(at::IntArrayRef{2, 3, 4}, /*keepdim=*/true);
    auto denom = 2.0 * g2 + sumA * g3;
    denom = torch::where(denom.abs() > 1e-12, denom, torch::ones_like(denom));
    auto alpha = g2 / denom;
    w = (alpha * torch::relu(G)).sum(at::IntArrayRef{2, 3, 4});
  } else {
    w = G.mean(at::IntArrayRef{2, 3, 4});
  }
  return torch::relu((w.view({A.size(0), A.size(1), 1, 1, 1}) * A).sum(1));
}

// Each case's non-negative map [B,...] divided by its maximum (an all-zero map stays zero: its maximum is
// raised to the smallest normal float, a kernel fewer than choosing 1 for it).
torch::Tensor normalisedToMax(const torch::Tensor& m) {
  auto mx = m.flatten(1).amax(1).clamp_min(std::numeric_limits<float>::min());
  std::vector<int64_t> shape(static_cast<std::size_t>(m.dim()), 1);
  shape[0] = m.size(0);
  return m / mx.view(shape);
}

// The heatmap, on block1's 32^3 grid (10 mm cells): LayerCAM (Jiang et al., "LayerCAM: Exploring
// Hierarchical Class Activation Maps for Localization", IEEE TIP 2021) at block1's output,
// relu(sum_c relu(dy/dA1_c) * A1_c) - element-wise gradient weights, which keep a shallow layer's
// localisation where Grad-CAM's global channel weights do not - multiplied by the last block's Grad-CAM
// (or Grad-CAM++) resized onto that grid (trilinear, half-cell convention as an image resize), so that the
// fine map shows only where the last block also sees the class evidence. Both are normalised to max 1
// first. Per case of the batch: A1, G1: block1's activation and gradient [B,32,m,m,m]; A3, G3: the last
// block's [B,64,n,n,n]. Returns {fused [B,m,m,m], last block's CAM [B,n,n,n]}.
std::pair<torch::Tensor, torch::Tensor> fusedCam(const torch::Tensor& A1, const torch::Tensor& G1,
                                                 const torch::Tensor& A3, const torch::Tensor& G3,
                                                 bool plusPlus) {
  auto last = gradCam(A3, G3, plusPlus);
  // A1 is a ReLU's output (>= 0), so the channel sum is >= 0 without a last relu. G1 goes to float after its
  // relu and A1 is read as it is (bf16 under CUDA autocast): the product is computed in float, exactly.
  auto layer = (torch::relu(G1).to(torch::kFloat) * A1).sum(1);
  const auto m = A1.size(2);
  auto lastOnFine = torch::upsample_trilinear3d(normalisedToMax(last).unsqueeze(1), std::vector<int64_t>{m, m, m},
                                                /*align_corners=*/false)
                        .squeeze(1);
  return {normalisedToMax(layer) * lastOnFine, last};
}

// fusedCam for a pass run with ForwardOptions::gradToBlock1Features and the gradients of the summed logits
// to block1's output (g1) and the last block's output (g3).
std::pair<torch::Tensor, torch::Tensor> camFromPass(const md::NetOutput& out, const torch::Tensor& g1,
                                                    const torch::Tensor& g3, bool plusPlus) {
  auto A1 = out.block1Features.detach();
  auto A3 = out.imageFeatures.detach().to(torch::kFloat);
  auto G1 = g1.defined() ? g1 : torch::zeros_like(A1);
  auto G3 = g3.defined() ? g3.to(torch::kFloat) : torch::zeros_like(A3);
  return fusedCam(A1, G1, A3, G3, plusPlus);
}

// Row r of a [B,...] CPU float tensor as a vector.
std::vector<float> row(const torch::Tensor& t, int64_t r) {
  auto c = t[r].contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
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

clinical::NoduleType noduleType(const std::string& t) {
  if (t == "part_solid") return clinical::NoduleType::PartSolid;
  if (t == "non_solid") return clinical::NoduleType::NonSolid;
  return clinical::NoduleType::Solid;
}
bool upperLobe(const std::string& l) { return l == "RUL" || l == "LUL"; }

}  // namespace

struct ModelPass {
  bool outOfScope = false;
  std::string outOfScopeReason;
  multimodal::PreprocessedVolume ownPreprocessed;  // when runModel preprocessed the volume itself
  bool ownsPreprocessed = false;
  bool usedImage = false, usedNote = false;
  multimodal::Prediction pred;
  int cells = 0, lastBlockCells = 0;
  std::vector<float> cam, lastBlockCam;  // un-normalised: fused (cells^3) and the last block's (lastBlockCells^3)
  md::TextInput text;
  bool truncated = false;
  std::vector<float> tokenScores;  // per token id (0 = [CLS]): cancer logit, gradient x input (or IG)
  std::vector<float> ageScores;    // per token id: the age head, gradient x input
  int64_t ageAttentionToken = -1;  // the token the age head attends to most
  NoteAttributions note;           // tokenScores aggregated to words and phrases
  std::vector<std::vector<double>> occlusion;  // note heads for the note, then with each phrase blanked
  double forwardSeconds = 0, camSeconds = 0;

  const multimodal::PreprocessedVolume* preprocessed(const ExplainInput& in) const {
    return ownsPreprocessed ? &ownPreprocessed : in.preprocessed;
  }
};

namespace {
// A note with the bytes of each of its phrases blanked in turn (occlusion), after the note itself.
std::vector<std::string> occludedNotes(const std::string& note, const std::vector<NoteSpan>& phrases) {
  std::vector<std::string> out{note};
  for (const auto& p : phrases) {
    std::string n = note;
    for (std::size_t b = p.begin; b < p.end && b < n.size(); ++b) n[b] = ' ';
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<TokenScore> tokenScores(const md::TextInput& text, const std::vector<float>& perId) {
  std::vector<TokenScore> ts;
  for (std::size_t t = 0; t < text.pieces.size() && t + 1 < perId.size(); ++t)
    ts.push_back({text.pieces[t].begin, text.pieces[t].end, static_cast<double>(perId[t + 1])});
  return ts;
}
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

  md::MedSeekNet& net(bool randomised) { return randomised ? randomNet : ln->net; }

  /// The note heads for several notes at once, text only (no image): [familyHistory, female, smoking...],
  /// in forwards of at most 256 notes.
  std::vector<std::vector<double>> noteHeads(const std::vector<std::string>& notes) {
    torch::NoGradGuard ng;
    std::vector<std::vector<double>> rows;
    rows.reserve(notes.size());
    constexpr std::size_t kChunk = 256;
    for (std::size_t s = 0; s < notes.size(); s += kChunk) {
      const std::size_t e = std::min(notes.size(), s + kChunk);
      std::vector<md::TextInput> inputs;
      for (std::size_t i = s; i < e; ++i)
        inputs.push_back(md::tokenizeNote(ln->tokenizer, notes[i], ln->net->config().maxTokens));
      std::vector<const float*> images(inputs.size(), nullptr);
      std::vector<const md::TextInput*> texts;
      for (const auto& t : inputs) texts.push_back(&t);
      md::ForwardOptions fo;
      fo.textHeadsOnly = true;
      auto out = ln->net->forward(md::makeBatch(images, ln->net->config().gridSize, texts).to(ln->device), fo);
      auto heads = torch::cat({cpuF(out.familyHistoryLogit).view({-1, 1}), cpuF(out.sexFemaleLogit).view({-1, 1}),
                               cpuF(out.smokingLogits)},
                              1)
                       .to(torch::kDouble)
                       .contiguous();
      const auto* h = heads.data_ptr<double>();
      const auto w = heads.size(1);
      for (int64_t i = 0; i < heads.size(0); ++i) rows.emplace_back(h + i * w, h + (i + 1) * w);
    }
    return rows;
  }

  /// Integrated gradients of the cancer logit on the note's embeddings, from a zero embedding, for case
  /// `r` of `batch` (the image input stays as it is): per token id.
  std::vector<float> integratedGradients(md::MedSeekNet& n, const md::Batch& batch, int64_t r, const torch::Tensor& emb,
                                         const md::ForwardOptions& fo, int steps) {
    md::Batch one;
    one.image = batch.image.narrow(0, r, 1);  // [B,1,G,G,G], or [B,1,1,1,1] when no case has an image
    one.imagePresent = batch.imagePresent.narrow(0, r, 1);
    one.tokens = batch.tokens.narrow(0, r, 1);
    one.tokenValid = batch.tokenValid.narrow(0, r, 1);
    one.numberValue = batch.numberValue.narrow(0, r, 1);
    one.isNumber = batch.isNumber.narrow(0, r, 1);
    one.textPresent = batch.textPresent.narrow(0, r, 1);
    auto sum = torch::zeros_like(emb);
    for (int s = 1; s <= steps; ++s) {
      md::ForwardOptions fi = fo;
      fi.gradToBlock1Features = false;
      fi.gradToTextEmbeddings = false;
      auto x = (emb * (static_cast<double>(s) / steps)).unsqueeze(0).requires_grad_(true);
      fi.textEmbeddingsOverride = x;
      auto o2 = n->forward(one, fi);
      auto gi = torch::autograd::grad({o2.cancerLogit.sum()}, {x}, {}, false, false, true)[0];
      if (gi.defined()) sum += gi[0];
    }
    auto v = ((sum / steps) * emb).sum(-1).to(torch::kCPU).to(torch::kFloat).contiguous();
    return std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
  }

  /// The device half of runBatch's pass, every tensor detached and still on the model's device: the CAM
  /// maps (cases with an image), the note's embeddings with the gradient x input of the cancer logit and of
  /// the age head and the age head's most attended token (cases with a note), and the heads. No host
  /// synchronisation unless `phases` is given (tracing and timing), so that it can be captured as a CUDA graph.
  struct DevicePass {
    torch::Tensor fused, last;                         // [B,m,m,m], [B,n,n,n]
    torch::Tensor emb, scores, ageScores, ageToken;    // [B,T,d], [B,T], [B,T], [B]
    md::NetOutput heads;
  };
  struct Phases {
    Clock::time_point start, mark;
    std::string* trace;
    double forwardSeconds = 0, camSeconds = 0;
  };
  static md::ForwardOptions passOptions(bool anyImage, bool anyText, bool autocast) {
    md::ForwardOptions fo;
    fo.gradToBlock1Features = anyImage;
    fo.gradToTextEmbeddings = anyText;
    fo.autocastCuda = autocast;
    return fo;
  }
  DevicePass devicePass(md::MedSeekNet& n, const md::Batch& batch, const md::ForwardOptions& fo, bool plusPlus,
                        Phases* phases) {
    const bool anyImage = fo.gradToBlock1Features, anyText = fo.gradToTextEmbeddings;
    const auto B = batch.size();
    auto out = n->forward(batch, fo);
    if (phases) {
      traceMark(ln->device, phases->mark, *phases->trace, "forward");
      phases->forwardSeconds = since(phases->start);
    }
    const auto t1 = Clock::now();
    std::vector<torch::Tensor> inputs;
    if (anyImage) {
      inputs.push_back(out.block1Features);
      inputs.push_back(out.imageFeatures);
    }
    if (anyText) inputs.push_back(out.textEmbeddings);
    // Gradients to these activations only (autograd::grad computes no parameter gradients). The summed
    // logits give each case its own gradient: the cases of a batch do not interact in eval mode.
    auto grads = torch::autograd::grad({out.cancerLogit.sum()}, inputs, {}, /*retain_graph=*/anyText,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    DevicePass d;
    if (anyImage) std::tie(d.fused, d.last) = camFromPass(out, grads[0], grads[1], plusPlus);
    if (phases) {
      traceMark(ln->device, phases->mark, *phases->trace, "cam");
      phases->camSeconds = since(t1);
    }
    if (anyText) {
      d.emb = out.textEmbeddings.detach();
      const auto& g = grads.back();
      d.scores = g.defined() ? (g * d.emb).sum(-1) : torch::zeros({B, d.emb.size(1)}, d.emb.options());
      // The age head's gradient x input: its evidence when its attention is not on a number token.
      auto ga = torch::autograd::grad({out.ageYears.sum()}, {out.textEmbeddings}, {}, false, false, true)[0];
      d.ageScores = ga.defined() ? (ga * d.emb).sum(-1) : torch::zeros({B, d.emb.size(1)}, d.emb.options());
      d.ageToken = out.ageAttention.detach().argmax(1);
    }
    if (phases) traceMark(ln->device, phases->mark, *phases->trace, "note-grads");
    d.heads = md::predictionHeads(out, [](const torch::Tensor& t) { return t.detach(); });
    return d;
  }

#ifdef MEDSEEK_TORCH_CUDA
  /// One captured pass: the graph, its static inputs (written before each replay) and outputs (each replay
  /// overwrites them; runBatch copies them to the host at once).
  struct CapturedPass {
    at::cuda::CUDAGraph graph;
    md::Batch input;
    DevicePass output;
  };
  std::map<std::array<int64_t, 5>, std::unique_ptr<CapturedPass>> graphs;  // (B, T, image, note, plusPlus)
  std::unique_ptr<c10::cuda::CUDAStream> graphStream;
  bool graphsFailed = false;

  // Writes `host` (a CPU batch of T tokens) into the static `dst` (T' >= T tokens, the rest padding).
  static void writeInput(md::Batch& dst, const md::Batch& host) {
    const auto T = host.tokens.size(1);
    dst.image.copy_(host.image);
    dst.imagePresent.copy_(host.imagePresent);
    dst.textPresent.copy_(host.textPresent);
    for (auto [to, from] : {std::pair<torch::Tensor*, const torch::Tensor*>{&dst.tokens, &host.tokens},
                            {&dst.tokenValid, &host.tokenValid},
                            {&dst.numberValue, &host.numberValue},
                            {&dst.isNumber, &host.isNumber}}) {
      to->zero_();
      to->narrow(1, 0, T).copy_(*from);
    }
  }

  /// The pass of runBatch as a CUDA graph replay (see ExplainOptions::cudaGraphs): false when it cannot be
  /// (capture failed, now or before), and the caller runs it eagerly.
  bool graphedPass(const std::vector<const float*>& images, const std::vector<const md::TextInput*>& texts,
                   bool anyImage, bool anyText, bool plusPlus, DevicePass& d, Clock::time_point& tt, std::string& trace) {
    if (graphsFailed) return false;
    auto& n = ln->net;
    const auto host = md::makeBatch(images, n->config().gridSize, texts);
    const int64_t B = host.size(), T = host.tokens.size(1);
    const int64_t padded = anyText ? std::max<int64_t>(T, std::min<int64_t>(n->config().maxTokens, (T + 63) / 64 * 64)) : T;
    const std::array<int64_t, 5> key{B, padded, anyImage, anyText, plusPlus};
    try {
      if (!graphStream)
        graphStream = std::make_unique<c10::cuda::CUDAStream>(c10::cuda::getStreamFromPool(false, ln->device.index()));
      c10::cuda::CUDAStreamGuard onStream(*graphStream);
      auto it = graphs.find(key);
      if (it == graphs.end()) {
        auto cp = std::make_unique<CapturedPass>();
        auto& in = cp->input;
        const auto dev = torch::TensorOptions().device(ln->device);
        in.image = torch::zeros(host.image.sizes(), dev.dtype(torch::kFloat));
        in.imagePresent = torch::zeros({B}, dev.dtype(torch::kBool));
        in.textPresent = torch::zeros({B}, dev.dtype(torch::kBool));
        in.tokens = torch::zeros({B, padded}, dev.dtype(torch::kLong));
        in.tokenValid = torch::zeros({B, padded}, dev.dtype(torch::kBool));
        in.numberValue = torch::zeros({B, padded}, dev.dtype(torch::kFloat));
        in.isNumber = torch::zeros({B, padded}, dev.dtype(torch::kBool));
        in.anyImage = anyImage ? 1 : 0;
        writeInput(in, host);
        const auto fo = passOptions(anyImage, anyText, ln->autocast);
        cp->output = captureGraph(cp->graph, 2, [&] { return devicePass(n, in, fo, plusPlus, nullptr); });
        traceMark(ln->device, tt, trace, "graph-capture");
        it = graphs.emplace(key, std::move(cp)).first;
      } else {
        writeInput(it->second->input, host);
        traceMark(ln->device, tt, trace, "batch+copy");
      }
      it->second->graph.replay();
      d = it->second->output;
      // The host copies that follow run on the caller's stream: the replay must be done by then.
      graphStream->synchronize();
      traceMark(ln->device, tt, trace, "graph-replay");
      return true;
    } catch (const c10::Error& e) {
      graphsFailed = true;
      graphs.clear();
      std::fprintf(stderr, "explain: CUDA graph capture failed (%s); the model's passes run eagerly from now on\n",
                   e.what_without_backtrace());
      return false;
    }
  }
#endif

  /// The network with gradients on the cases `ps` (in scope, each with an image and/or a note) as one
  /// batch: heads, CAM (cases with an image), note scores (cases with a note). `pres[i]` is case i's
  /// preprocessed image (nullptr: none); its note is ps[i]->text. Phases go to `trace` (MEDSEEK_TRACE_MODEL).
  void runBatch(const std::vector<ModelPass*>& ps, const std::vector<const multimodal::PreprocessedVolume*>& pres,
                bool plusPlus, bool randomised, int igSteps, bool cudaGraphs, std::string& trace) {
    torch::AutoGradMode grad(true);
    const auto t0 = Clock::now();
    auto tt = t0;
    auto& n = net(randomised);
    const auto B = static_cast<int64_t>(ps.size());
    std::vector<const float*> images;
    std::vector<const md::TextInput*> texts;
    bool anyImage = false, anyText = false;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      images.push_back(pres[i] ? pres[i]->values.data() : nullptr);
      texts.push_back(ps[i]->usedNote ? &ps[i]->text : nullptr);
      anyImage = anyImage || pres[i];
      anyText = anyText || ps[i]->usedNote;
    }
    const bool cuda = ln->device.is_cuda();
    const auto fo = passOptions(anyImage, anyText, ln->autocast && cuda);
    DevicePass d;
    md::Batch batch;  // the eager pass's (integrated gradients run on it)
    double forwardSeconds = 0, camSeconds = 0;
    bool graphed = false;
#ifdef MEDSEEK_TORCH_CUDA
    if (cudaGraphs && cuda && B == 1 && !randomised && igSteps <= 0) {
      graphed = graphedPass(images, texts, anyImage, anyText, plusPlus, d, tt, trace);
      forwardSeconds = since(t0);
    }
#else
    (void)cudaGraphs;
#endif
    if (!graphed) {
      batch = md::makeBatch(images, n->config().gridSize, texts, ln->device).to(ln->device);
      traceMark(ln->device, tt, trace, "batch+copy");
      Phases ph{t0, tt, &trace};
      d = devicePass(n, batch, fo, plusPlus, &ph);
      tt = ph.mark;
      forwardSeconds = ph.forwardSeconds;
      camSeconds = ph.camSeconds;
    }
    if (anyImage) {
      auto fusedCpu = d.fused.to(torch::kCPU).contiguous(), lastCpu = d.last.to(torch::kCPU).contiguous();
      for (int64_t i = 0; i < B; ++i) {
        auto& p = *ps[static_cast<std::size_t>(i)];
        if (!p.usedImage) continue;
        p.cells = static_cast<int>(fusedCpu.size(1));
        p.lastBlockCells = static_cast<int>(lastCpu.size(1));
        p.cam = row(fusedCpu, i);
        p.lastBlockCam = row(lastCpu, i);
      }
    }
    if (anyText) {
      auto scores = d.scores.to(torch::kCPU).to(torch::kFloat).contiguous();
      auto ageScores = d.ageScores.to(torch::kCPU).to(torch::kFloat).contiguous();
      auto attention = d.ageToken.to(torch::kCPU);
      for (int64_t i = 0; i < B; ++i) {
        auto& p = *ps[static_cast<std::size_t>(i)];
        if (!p.usedNote) continue;
        const auto T = static_cast<int64_t>(p.text.ids.size());
        p.tokenScores = igSteps > 0 ? integratedGradients(n, batch, i, d.emb[i], fo, igSteps) : row(scores, i);
        p.tokenScores.resize(static_cast<std::size_t>(T));
        p.ageScores = row(ageScores, i);
        p.ageScores.resize(static_cast<std::size_t>(T));
        p.ageAttentionToken = attention[i].item<int64_t>();
      }
    }
    traceMark(ln->device, tt, trace, "to-host");
    const auto c = md::predictionHeads(d.heads, cpuF);
    for (int64_t i = 0; i < B; ++i) {
      auto& p = *ps[static_cast<std::size_t>(i)];
      md::fillPrediction(c, i, ln->temperature, p.pred);
      p.forwardSeconds = forwardSeconds / static_cast<double>(B);
      p.camSeconds = camSeconds / static_cast<double>(B);
    }
    traceMark(ln->device, tt, trace, "heads");
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
  const ExplainInput in{volume, preIn, note};
  auto passes = runModel({in});
  Explanation e = finish(in, *passes.front());
  e.totalSeconds = since(t0);
  return e;
}

std::vector<std::shared_ptr<const ModelPass>> Explainer::runModel(const std::vector<ExplainInput>& cases) {
  auto& ln = *impl_->ln;
  std::vector<std::shared_ptr<ModelPass>> passes;
  std::vector<ModelPass*> run;
  std::vector<const multimodal::PreprocessedVolume*> runPre;
  for (const auto& in : cases) {
    if (!in.volume && in.note.empty())
      throw ExplainError("nothing to explain: the case has neither an image nor a note");
    auto p = std::make_shared<ModelPass>();
    const multimodal::PreprocessedVolume* pre = nullptr;
    if (in.volume) {
      if (!in.preprocessed) {
        p->ownPreprocessed = multimodal::preprocessVolume(*in.volume, ln.preprocess);
        p->ownsPreprocessed = true;
      }
      pre = p->preprocessed(in);
      if (!pre->inScope) {
        p->outOfScope = true;
        p->outOfScopeReason = pre->reason;
        passes.push_back(std::move(p));
        continue;
      }
    }
    p->usedImage = pre != nullptr;
    p->usedNote = !in.note.empty();
    if (p->usedNote) {
      p->text = md::tokenizeNote(ln.tokenizer, in.note, ln.net->config().maxTokens);
      p->truncated = ln.tokenizer.encode(in.note).size() + 1 > p->text.ids.size();
    }
    run.push_back(p.get());
    runPre.push_back(pre);
    passes.push_back(std::move(p));
  }
  std::string trace;
  std::size_t occludedCount = 0;
  auto tt = Clock::now();
  try {
    if (!run.empty())
      impl_->runBatch(run, runPre, options_.gradCamPlusPlus, false, options_.integratedGradientSteps, options_.cudaGraphs,
                      trace);
    tt = Clock::now();
    // Note attributions, then the occlusion forwards of every case's phrases in one text-only batch.
    std::vector<std::string> occluded;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // per case: its rows in `occluded`
    for (std::size_t i = 0; i < passes.size(); ++i) {
      auto& p = *passes[i];
      if (!p.usedNote) {
        ranges.emplace_back(0, 0);
        continue;
      }
      p.note = aggregateNote(cases[i].note, tokenScores(p.text, p.tokenScores));
      if (options_.integratedGradientSteps > 0)
        p.note.method =
            "integrated gradients (" + std::to_string(options_.integratedGradientSteps) + " steps, zero baseline)";
      p.note.truncated = p.truncated;
      auto notes = occludedNotes(cases[i].note, p.note.phrases);
      ranges.emplace_back(occluded.size(), occluded.size() + notes.size());
      for (auto& n : notes) occluded.push_back(std::move(n));
    }
    occludedCount = occluded.size();
    traceMark(ln.device, tt, trace, "note-spans");
    if (!occluded.empty()) {
      auto heads = impl_->noteHeads(occluded);
      traceMark(ln.device, tt, trace, "occlusion");
      for (std::size_t i = 0; i < passes.size(); ++i)
        passes[i]->occlusion.assign(heads.begin() + static_cast<std::ptrdiff_t>(ranges[i].first),
                                    heads.begin() + static_cast<std::ptrdiff_t>(ranges[i].second));
    }
  } catch (const c10::Error& err) {
    throw ExplainError(std::string("the model failed while explaining: ") + err.what_without_backtrace());
  }
  if (traceModel())
    std::fprintf(stderr, "runModel: %zu cases (%zu run), %zu occluded notes:%s\n", cases.size(), run.size(),
                 occludedCount, trace.c_str());
  return {passes.begin(), passes.end()};
}

Explanation Explainer::finish(const ExplainInput& in, const ModelPass& pass) const {
  const auto t0 = Clock::now();
  const imaging::CtVolume* volume = in.volume;
  const std::string& note = in.note;
  Explanation e;
  e.language = options_.language == "zh" ? "zh" : "en";
  e.modelSha256 = impl_->modelSha;
  const multimodal::PreprocessedVolume* pre = volume ? pass.preprocessed(in) : nullptr;
  if (pre) e.preprocessSeconds = pre->seconds;
  if (pass.outOfScope) {
    e.outOfScope = true;
    e.outOfScopeReason = pass.outOfScopeReason;
    e.probability = e.logit = std::nan("");
    e.narrative = composeNarrative(e, e.language);
    e.totalSeconds = since(t0);
    return e;
  }
  const md::TextInput& text = pass.text;
  e.usedImage = pass.usedImage;
  e.usedNote = pass.usedNote;
  e.forwardSeconds = pass.forwardSeconds;
  e.camSeconds = pass.camSeconds;
  const multimodal::Prediction& pred = pass.pred;
  e.probability = pred.probability;
  e.logit = pred.logit;

  // Routing.
  e.routing.imageShare = pred.imageShare;
  e.routing.textShare = pred.textShare;
  e.routing.statisticsAvailable = impl_->statsLoaded;
  e.routing.statisticsSource = impl_->statsLoaded ? impl_->stats.source + " (" + impl_->stats.cohort + ")" : "";
  if (!impl_->ln->net->config().dense) {
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
    const int cells = pass.cells;
    auto& h = e.heatmap;
    h.method = heatmapMethod(options_.gradCamPlusPlus);
    h.cells = cells;
    h.cellSpacingMm = pre->spacingMm * pre->gridSize / cells;
    h.cellOriginLps = cellOrigin(*pre, cells, /*receptiveFieldCentre=*/true);
    h.cellValues = pass.cam;
    normaliseToMax(h.cellValues);
    h.lastBlockCells = pass.lastBlockCells;
    h.lastBlockCellSpacingMm = pre->spacingMm * pre->gridSize / h.lastBlockCells;
    h.lastBlockCellOriginLps = cellOrigin(*pre, h.lastBlockCells, /*receptiveFieldCentre=*/false);
    h.lastBlockCellValues = pass.lastBlockCam;
    normaliseToMax(h.lastBlockCellValues);
    const float fusedMax = *std::max_element(pass.cam.begin(), pass.cam.end());
    h.rawMax = fusedMax > 0 ? *std::max_element(pass.lastBlockCam.begin(), pass.lastBlockCam.end()) : 0.0;
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
    e.note = pass.note;
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
    const auto& heads = pass.occlusion;
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
      const int64_t t = pass.ageAttentionToken;
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
        evidence(f, aggregateNote(note, tokenScores(text, pass.ageScores)).phrases);
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
  ModelPass pass;
  pass.usedImage = true;
  pass.usedNote = !note.empty();
  if (pass.usedNote) pass.text = md::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
  try {
    std::string trace;
    impl_->runBatch({&pass}, {&pre}, options_.gradCamPlusPlus, randomised, 0, options_.cudaGraphs, trace);
  } catch (const c10::Error& err) {
    throw ExplainError(std::string("the model failed while explaining: ") + err.what_without_backtrace());
  }
  RawExplanation r;
  r.logit = pass.pred.logit;
  r.probability = sigmoid(r.logit);
  r.cells = pass.cells;
  r.camCells = pass.cam;
  return r;
}

double Explainer::score(const multimodal::PreprocessedVolume& pre, const std::string& note) {
  multimodal::CaseInput in;
  in.preprocessed = &pre;
  in.note = note;
  return impl_->model->predict(in).probability;
}

CamTiming Explainer::timeForwardVersusCam(const multimodal::PreprocessedVolume& pre, const std::string& note,
                                          int repeats, int batchSize, bool cudaGraphs) {
  auto& ln = *impl_->ln;
  md::TextInput text;
  if (!note.empty()) text = md::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
  const auto n = static_cast<std::size_t>(std::max(1, batchSize));
  const bool cuda = ln.device.is_cuda();
  auto batch = md::makeBatch(std::vector<const float*>(n, pre.values.data()), ln.net->config().gridSize,
                             std::vector<const md::TextInput*>(n, note.empty() ? nullptr : &text), ln.device)
                   .to(ln.device);
  const bool autocast = ln.autocast && cuda;
  // The two timed passes: the plain forward's cancer logit, and the Grad-CAM pass's fused map.
  auto forwardPass = [&] {
    torch::NoGradGuard ng;
    md::ForwardOptions fo;
    fo.autocastCuda = autocast;
    return ln.net->forward(batch, fo).cancerLogit;
  };
  auto camForward = [&] {
    md::ForwardOptions fo;
    fo.gradToBlock1Features = true;
    fo.autocastCuda = autocast;
    return ln.net->forward(batch, fo);
  };
  auto camGradients = [](const md::NetOutput& o) {
    return torch::autograd::grad({o.cancerLogit.sum()}, {o.block1Features, o.imageFeatures}, {}, false, false, true);
  };
  auto camPass = [&] {
    torch::AutoGradMode g(true);
    auto o = camForward();
    auto gr = camGradients(o);
    return camFromPass(o, gr[0], gr[1], options_.gradCamPlusPlus).first;
  };
  std::vector<double> fwd, cam, camFwd, camGrad, camMap, lastGrad;
  if (cudaGraphs) {
#ifdef MEDSEEK_TORCH_CUDA
    if (!cuda) throw ExplainError("CUDA graphs need the model on a CUDA device (it runs on " + ln.device.str() + ")");
    try {
      // Both passes captured on a side stream (the outputs stay alive while the graphs are replayed).
      auto stream = c10::cuda::getStreamFromPool(false, ln.device.index());
      c10::cuda::CUDAStreamGuard onStream(stream);
      at::cuda::CUDAGraph forwardGraph, camGraph;
      const auto forwardOut = captureGraph(forwardGraph, 3, forwardPass);
      const auto camOut = captureGraph(camGraph, 3, camPass);
      for (int r = 0; r < repeats + 1; ++r) {
        auto t0 = Clock::now();
        forwardGraph.replay();
        stream.synchronize();
        if (r > 0) fwd.push_back(since(t0));
        t0 = Clock::now();
        camGraph.replay();
        stream.synchronize();
        if (r > 0) cam.push_back(since(t0));
      }
    } catch (const c10::Error& e) {
      throw ExplainError(std::string("CUDA graph capture failed: ") + e.what_without_backtrace());
    }
#else
    throw ExplainError("CUDA graphs: this build has no CUDA LibTorch");
#endif
  } else {
    auto sync = [&] {
      if (cuda) torch::cuda::synchronize(ln.device.index());
    };
    for (int r = 0; r < repeats + 1; ++r) {
      auto t0 = Clock::now();
      (void)forwardPass().sum().item<float>();
      if (r > 0) fwd.push_back(since(t0));
      t0 = Clock::now();
      (void)camPass().sum().item<float>();
      if (r > 0) cam.push_back(since(t0));
      // The parts, each ended by a synchronisation (so their sum exceeds the pass by those waits).
      {
        torch::AutoGradMode g(true);
        sync();
        t0 = Clock::now();
        auto o = camForward();
        sync();
        const double f = since(t0);
        t0 = Clock::now();
        auto gr = camGradients(o);
        sync();
        const double gsec = since(t0);
        t0 = Clock::now();
        auto m = camFromPass(o, gr[0], gr[1], options_.gradCamPlusPlus).first;
        sync();
        const double msec = since(t0);
        auto o2 = camForward();
        sync();
        t0 = Clock::now();
        auto g3 = torch::autograd::grad({o2.cancerLogit.sum()}, {o2.imageFeatures}, {}, false, false, true);
        sync();
        const double lsec = since(t0);
        if (r > 0) {
          camFwd.push_back(f);
          camGrad.push_back(gsec);
          camMap.push_back(msec);
          lastGrad.push_back(lsec);
        }
      }
    }
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  CamTiming t;
  t.forwardSeconds = median(fwd);
  t.camSeconds = median(cam);
  t.camForwardSeconds = median(camFwd);
  t.camGradientSeconds = median(camGrad);
  t.camMapSeconds = median(camMap);
  t.lastBlockGradientSeconds = median(lastGrad);
  return t;
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
