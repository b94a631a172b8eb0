#include "multimodal/detail/Network.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>

namespace multimodal::detail {
namespace {
namespace nn = torch::nn;

// Flat Sequential of (conv 3x3x3 -> BatchNorm -> ReLU) per (in, out, stride) triple.
nn::Sequential convBlock(std::initializer_list<std::array<int, 3>> layers) {
  nn::Sequential s;
  for (const auto& l : layers) {
    s->push_back(nn::Conv3d(nn::Conv3dOptions(l[0], l[1], 3).stride(l[2]).padding(1).bias(false)));
    s->push_back(nn::BatchNorm3d(l[1]));
    s->push_back(nn::ReLU(nn::ReLUOptions(true)));
  }
  return s;
}

// LibTorch 1.13 sends a batch-1 CPU conv3d whose N*C*D*H <= 20480 (block3 at 64 x 16^3, the stem's first
// conv) to its unblocked slow_conv3d path, ~60x slower than oneDNN for these shapes (0.39 s against 0.006 s
// per block3 conv on this project's 2-core CI machine), forward and backward. This runs such convolutions
// through oneDNN (at::mkldnn_convolution); the input gradient of a stride-1 "same" convolution is the
// convolution of the output gradient with the flipped, in/out-swapped kernel, also through oneDNN. Other
// gradients (strided input gradients, weight gradients) take LibTorch's own convolution_backward.
class OneDnnConv3dFunction : public torch::autograd::Function<OneDnnConv3dFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, std::vector<int64_t> stride,
                               std::vector<int64_t> padding) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return at::mkldnn_convolution(x.contiguous(), w.contiguous(), c10::nullopt, padding, stride, {1, 1, 1},
                                  1);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list g) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const auto stride = ctx->saved_data["stride"].toIntVector();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    torch::Tensor gx, gw;
    const auto go = g[0].contiguous();
    const bool same = std::all_of(stride.begin(), stride.end(), [](int64_t s) { return s == 1; }) &&
                      padding[0] * 2 + 1 == w.size(2) && padding[1] * 2 + 1 == w.size(3) &&
                      padding[2] * 2 + 1 == w.size(4);
    if (needX && same) {
      gx = at::mkldnn_convolution(go, w.flip({2, 3, 4}).transpose(0, 1).contiguous(), c10::nullopt, padding,
                                  stride, {1, 1, 1}, 1);
    }
    if (needW || (needX && !gx.defined())) {
      auto r = at::convolution_backward(go, x, w, c10::nullopt, stride, padding, {1, 1, 1}, false, {0, 0, 0},
                                        1, {needX && !gx.defined(), needW, false});
      if (!gx.defined()) gx = std::get<0>(r);
      gw = std::get<1>(r);
    }
    return {gx, gw, torch::Tensor(), torch::Tensor()};
  }
};

namespace adl {
template <class T>
void get() = delete;
}  // namespace adl

// Runs a convBlock, its convolutions through OneDnnConv3dFunction for a batch-1 float CPU input (batches > 1
// already get oneDNN from LibTorch; CUDA is unchanged).
torch::Tensor runConvBlock(const nn::Sequential& block, torch::Tensor x) {
  const bool oneDnn =
      at::hasMKLDNN() && x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.size(0) == 1;
  for (const auto& m : block->children()) {
    if (auto* conv = dynamic_cast<nn::Conv3dImpl*>(m.get()); conv && oneDnn) {
      const auto& o = conv->options;
      // padding_t is c10::variant in LibTorch 1.13 and std::variant in 2.x: let argument-dependent lookup
      // pick the matching get (adl::get above only makes get<T>(...) parse as a template call).
      using adl::get;
      const auto& pad = get<torch::ExpandingArray<3>>(o.padding());
      x = OneDnnConv3dFunction::apply(x, conv->weight, std::vector<int64_t>(o.stride()->begin(), o.stride()->end()),
                                      std::vector<int64_t>(pad->begin(), pad->end()));
    } else if (auto* bn = dynamic_cast<nn::BatchNorm3dImpl*>(m.get())) {
      x = bn->forward(x);
    } else if (conv) {
      x = conv->forward(x);
    } else {
      x = m->as<nn::ReLUImpl>()->forward(x);
    }
  }
  return x;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> multiHeadAttention(const nn::MultiheadAttention& m, const torch::Tensor& query,
                                                           const torch::Tensor& keyValue, const torch::Tensor& padding,
                                                           bool selfAttention, bool needWeights) {
  namespace F = nn::functional;
  const int64_t B = query.size(0), Lq = query.size(1), d = query.size(2), Lk = keyValue.size(1);
  const int64_t H = m->options.num_heads(), hd = d / H;
  const auto& w = m->in_proj_weight;
  const auto& b = m->in_proj_bias;
  torch::Tensor q, k, v;
  if (selfAttention) {
    auto qkv = F::linear(query, w, b).chunk(3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    q = F::linear(query, w.narrow(0, 0, d), b.narrow(0, 0, d));
    auto kv = F::linear(keyValue, w.narrow(0, d, 2 * d), b.narrow(0, d, 2 * d)).chunk(2, -1);
    k = kv[0], v = kv[1];
  }
  q = q * (1.0 / std::sqrt(static_cast<double>(hd)));
  // [B,L,d] -> [B,H,L,hd]: splitting the unit-stride last dimension is a view even of a chunk.
  q = q.view({B, Lq, H, hd}).transpose(1, 2);
  k = k.view({B, Lk, H, hd}).transpose(1, 2);
  v = v.view({B, Lk, H, hd}).transpose(1, 2);
  auto scores = torch::matmul(q, k.transpose(-2, -1));  // [B,H,Lq,Lk]
  if (padding.defined()) scores = scores.masked_fill(padding.view({B, 1, 1, Lk}), -std::numeric_limits<float>::infinity());
  auto attn = torch::dropout(torch::softmax(scores, -1), m->options.dropout(), m->is_training());
  auto out = torch::matmul(attn, v).transpose(1, 2).reshape({B, Lq, d});
  out = F::linear(out, m->out_proj->weight, m->out_proj->bias);
  return {out, needWeights ? attn.mean(1) : torch::Tensor()};
}

namespace {

// Pre-LN transformer encoder layer on [B,T,d] with a key padding mask [B,T] (true = padding).
class TextLayerImpl : public nn::Module {
 public:
  TextLayerImpl(int d, int heads, double dropout) {
    ln1 = register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({d})));
    ln2 = register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({d})));
    attn = register_module("attn", nn::MultiheadAttention(nn::MultiheadAttentionOptions(d, heads).dropout(dropout)));
    ff1 = register_module("ff1", nn::Linear(d, 4 * d));
    ff2 = register_module("ff2", nn::Linear(4 * d, d));
    drop = register_module("drop", nn::Dropout(dropout));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& padding) {
    auto h = ln1(x);
    x = x + drop(multiHeadAttention(attn, h, h, padding, /*selfAttention=*/true, /*needWeights=*/false).first);
    x = x + drop(ff2(torch::gelu(ff1(ln2(x)))));
    return x;
  }
  nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  nn::MultiheadAttention attn{nullptr};
  nn::Linear ff1{nullptr}, ff2{nullptr};
  nn::Dropout drop{nullptr};
};
TORCH_MODULE(TextLayer);

// bf16 autocast on CUDA for the scope of the guard (API differs between LibTorch 1.13 and 2.4+).
class CudaAutocast {
 public:
  explicit CudaAutocast(bool on) : on_(on) {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    prev_ = at::autocast::is_autocast_enabled(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
    prev_ = at::autocast::is_enabled();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
    at::autocast::increment_nesting();
  }
  ~CudaAutocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, prev_);
#else
    at::autocast::set_enabled(prev_);
#endif
  }
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool on_;
  bool prev_ = false;
};
}  // namespace

Batch Batch::to(const torch::Device& d) const {
  Batch b;
  b.image = image.to(d);
  b.imagePresent = imagePresent.to(d);
  b.tokens = tokens.to(d);
  b.tokenValid = tokenValid.to(d);
  b.numberValue = numberValue.to(d);
  b.isNumber = isNumber.to(d);
  b.textPresent = textPresent.to(d);
  b.anyImage = anyImage;
  return b;
}

// ---- MoE ------------------------------------------------------------------------------------------------
MoEImpl::MoEImpl(int d, int hidden, int experts, int topK, double capacityFactor)
    : experts_(experts), topK_(topK), capacityFactor_(capacityFactor) {
  router_ = register_module("router", nn::Linear(d, experts));
  noise_ = register_module("noise", nn::Linear(d, experts));
  w1_ = register_module("w1", nn::ModuleList());
  w2_ = register_module("w2", nn::ModuleList());
  for (int e = 0; e < experts; ++e) {
    w1_->push_back(nn::Linear(d, hidden));
    w2_->push_back(nn::Linear(hidden, d));
  }
  torch::NoGradGuard ng;
  router_->weight.mul_(0.1);
  noise_->weight.zero_();
  noise_->bias.fill_(-2.0);
}

int MoEImpl::capacityFor(int64_t batch) const {
  return static_cast<int>(std::ceil(capacityFactor_ * static_cast<double>(batch) * topK_ / experts_));
}

MoEImpl::Result MoEImpl::forward(const torch::Tensor& x, bool applyCapacity) {
  const int64_t B = x.size(0);
  auto logits = router_(x);
  if (is_training()) logits = logits + torch::randn_like(logits) * torch::softplus(noise_(x));
  auto probs = torch::softmax(logits, 1);
  auto top = logits.topk(topK_, 1);
  Result r;
  r.topIdx = std::get<1>(top);
  r.topW = torch::softmax(std::get<0>(top), 1);
  auto onehot = torch::one_hot(r.topIdx, experts_).to(x.dtype());  // [B,K,E]
  if (applyCapacity) {
    const int cap = capacityFor(B);
    // Slot-major order: every case's first choice is served before any second choice.
    auto slotMajor = onehot.permute({1, 0, 2}).reshape({topK_ * B, experts_});
    auto pos = (slotMajor.cumsum(0) * slotMajor).sum(1) - 1;  // position in its expert's queue
    r.kept = (pos < cap).reshape({topK_, B}).transpose(0, 1);
  } else {
    r.kept = torch::ones({B, topK_}, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
  }
  auto w = r.topW * r.kept.to(x.dtype());
  r.routing = torch::zeros({B, experts_}, x.options()).scatter(1, r.topIdx, w);
  const bool weighted = dispatch_ == 2 || (dispatch_ == 0 && !x.device().is_cpu());
  if (weighted) {
    // Every expert on every row, weighted by its routing weight (zero outside the row's top-k), as two
    // matrix products over the experts' stacked weights:
    //   sum_e w_e (gelu(x W1_e' + b1_e) W2_e' + b2_e) = [w_e gelu(x W1_e' + b1_e)]_e [W2_e]_e' + w [b2_e]_e
    // A few kernels forward and backward instead of six per expert: at batch 1 on a GPU each kernel costs
    // its launch, not its arithmetic. (Under CUDA autocast `out` comes back in the autocast dtype.)
    std::vector<torch::Tensor> w1s, b1s, w2s, b2s;
    for (int e = 0; e < experts_; ++e) {
      const auto& l1 = w1_[static_cast<std::size_t>(e)]->as<nn::Linear>();
      const auto& l2 = w2_[static_cast<std::size_t>(e)]->as<nn::Linear>();
      w1s.push_back(l1->weight);
      b1s.push_back(l1->bias);
      w2s.push_back(l2->weight);
      b2s.push_back(l2->bias);
    }
    const int64_t hidden = w1s[0].size(0);
    auto h = torch::gelu(torch::nn::functional::linear(x, torch::cat(w1s, 0), torch::cat(b1s, 0)));  // [B,E*h]
    auto hw = (h.view({B, experts_, hidden}) * r.routing.unsqueeze(2).to(h.dtype())).view({B, experts_ * hidden});
    r.out = torch::nn::functional::linear(hw, torch::cat(w2s, 1)) + torch::mm(r.routing, torch::stack(b2s, 0));
  } else {
    // Each expert on the rows routed to it (gather, scatter-add).
    r.out = torch::zeros_like(x);
    for (int e = 0; e < experts_; ++e) {
      auto we = r.routing.select(1, e);
      auto sel = (we > 0).nonzero().squeeze(1);
      if (sel.numel() == 0) continue;
      auto ye = w2_[static_cast<std::size_t>(e)]->as<nn::Linear>()->forward(
          torch::gelu(w1_[static_cast<std::size_t>(e)]->as<nn::Linear>()->forward(x.index_select(0, sel))));
      r.out = r.out.index_add(0, sel, ye * we.index_select(0, sel).unsqueeze(1));
    }
  }
  auto f = onehot.sum(at::IntArrayRef{0, 1}) / static_cast<double>(B * topK_);
  r.balanceLoss = experts_ * (f * probs.mean(0)).sum();
  r.dropped = 1.0 - r.kept.to(torch::kFloat).mean();
  return r;
}

// ---- network --------------------------------------------------------------------------------------------
MedSeekNetImpl::MedSeekNetImpl(const NetConfig& cfg) : cfg_(cfg) {
  const int d = cfg.dModel;
  stem_ = register_module("stem", convBlock({{1, 16, 2}, {16, 16, 1}}));
  block1_ = register_module("block1", convBlock({{16, 32, 2}, {32, 32, 1}}));
  block2_ = register_module("block2", convBlock({{32, 64, 2}}));
  block3_ = register_module("block3", convBlock({{64, 64, 1}, {64, 64, 1}}));
  imgTokProj_ = register_module("img_tok_proj", nn::Linear(64, d));
  imgGlobProj_ = register_module("img_glob_proj", nn::Linear(128, d));
  noduleMap_ = register_module("nodule_map", nn::Conv3d(nn::Conv3dOptions(64, 1, 1)));
  imgPos_ = register_parameter("img_pos", torch::randn({1, 65, d}) * 0.02);
  missingImage_ = register_parameter("missing_image", torch::randn({1, 65, d}) * 0.02);
  tokEmb_ = register_module("tok_emb", nn::Embedding(cfg.vocabSize, d));
  numProj_ = register_module("num_proj", nn::Linear(2, d));
  textPos_ = register_parameter("text_pos", torch::randn({1, cfg.maxTokens, d}) * 0.02);
  textLayers_ = register_module("text_layers", nn::ModuleList());
  for (int l = 0; l < cfg.textLayers; ++l) textLayers_->push_back(TextLayer(d, cfg.heads, cfg.dropout));
  crossT_ = register_module("cross_t", nn::MultiheadAttention(nn::MultiheadAttentionOptions(d, cfg.heads)));
  crossI_ = register_module("cross_i", nn::MultiheadAttention(nn::MultiheadAttentionOptions(d, cfg.heads)));
  auto ln = [d] { return nn::LayerNorm(nn::LayerNormOptions({d})); };
  lnTq_ = register_module("ln_tq", ln());
  lnTk_ = register_module("ln_tk", ln());
  lnIq_ = register_module("ln_iq", ln());
  lnIk_ = register_module("ln_ik", ln());
  lnTxt_ = register_module("ln_txt", ln());
  lnImg_ = register_module("ln_img", ln());
  lnFused_ = register_module("ln_fused", ln());
  lnText0_ = register_module("ln_text0", ln());
  lnImg0_ = register_module("ln_img0", ln());
  gate_ = register_module("gate", nn::Linear(2 * d, 2));
  projImg_ = register_module("proj_img", nn::Linear(d, d));
  projTxt_ = register_module("proj_txt", nn::Linear(d, d));
  if (cfg.dense) {
    dense_ = register_module("dense", nn::Sequential(nn::Linear(d, cfg.topK * cfg.expertHidden), nn::GELU(),
                                                     nn::Linear(cfg.topK * cfg.expertHidden, d)));
  } else {
    moe_ = register_module("moe", MoE(d, cfg.expertHidden, cfg.experts, cfg.topK, cfg.capacityFactor));
  }
  imgAux_ = register_module("img_aux", nn::Sequential(nn::Linear(d, d), nn::GELU(), nn::Dropout(cfg.dropout),
                                                      nn::Linear(d, 16)));
  txtAux_ = register_module("txt_aux", nn::Sequential(nn::Linear(d, d), nn::GELU(), nn::Dropout(cfg.dropout),
                                                      nn::Linear(d, 6)));
  ageScore_ = register_module("age_score", nn::Linear(d, 1));
  cancer_ = register_module("cancer", nn::Sequential(nn::Linear(d + 25, d), nn::GELU(), nn::Dropout(cfg.dropout),
                                                     nn::Linear(d, 1)));
}

torch::Tensor MedSeekNetImpl::imageTrunkToBlock1(const torch::Tensor& x) {
  return runConvBlock(block1_, runConvBlock(stem_, x));
}
torch::Tensor MedSeekNetImpl::block2(const torch::Tensor& h1) {
  return runConvBlock(block2_, h1);
}
torch::Tensor MedSeekNetImpl::imageTrunk(const torch::Tensor& x) {
  return block2(imageTrunkToBlock1(x));
}
torch::Tensor MedSeekNetImpl::lastImageBlock(const torch::Tensor& h) {
  return runConvBlock(block3_, h);
}

torch::Tensor MedSeekNetImpl::embedText(const Batch& b) {
  const int64_t T = b.tokens.size(1);
  auto feats = torch::stack({(b.numberValue / 100.0).clamp(0.0, 3.0), b.isNumber.to(torch::kFloat)}, -1);
  return tokEmb_(b.tokens) + numProj_(feats) + textPos_.narrow(1, 0, T);
}

std::pair<torch::Tensor, torch::Tensor> MedSeekNetImpl::encodeText(const Batch& b, const torch::Tensor& padding,
                                                                   const ForwardOptions& o, NetOutput& out) {
  torch::Tensor emb = o.textEmbeddingsOverride.defined() ? o.textEmbeddingsOverride : embedText(b);
  if (o.gradToTextEmbeddings && !o.textEmbeddingsOverride.defined()) emb = emb.detach().requires_grad_(true);
  out.textEmbeddings = emb;
  auto x = emb;
  for (const auto& layer : *textLayers_) x = layer->as<TextLayerImpl>()->forward(x, padding);
  auto txt = lnText0_(x);
  auto txtAux = txtAux_->forward(txt.select(1, 0));  // [B,6]
  out.sexFemaleLogit = txtAux.select(1, 0);
  out.familyHistoryLogit = txtAux.select(1, 1);
  out.smokingLogits = txtAux.narrow(1, 2, 3);
  out.priorCancerLogit = txtAux.select(1, 5);
  auto scores = ageScore_(txt).squeeze(-1).masked_fill(b.isNumber.logical_and(b.tokenValid).logical_not(), -1e4);
  out.ageAttention = torch::softmax(scores, 1);
  out.ageYears = (out.ageAttention * b.numberValue).sum(1);
  return {txt, txtAux};
}

NetOutput MedSeekNetImpl::forward(const Batch& b, const ForwardOptions& o) {
  NetOutput out;
  const auto padding = b.tokenValid.logical_not();
  if (o.textHeadsOnly) {  // the note heads read the text encoder alone: nothing else is needed
    encodeText(b, padding, o, out);
    return out;
  }
  const int64_t B = b.size();
  const int d = cfg_.dModel;
  // ---- image ----
  torch::Tensor feat;
  const bool anyImage = b.anyImage >= 0 ? b.anyImage > 0 : b.imagePresent.any().item<bool>();
  if (!anyImage) {
    // No image in the batch (text only): skip the encoder; the tokens are replaced by `missing_image`.
    feat = torch::zeros({B, 64, cfg_.gridSize / 8, cfg_.gridSize / 8, cfg_.gridSize / 8},
                        b.tokens.options().dtype(torch::kFloat));
  } else {
    CudaAutocast ac(o.autocastCuda && b.image.is_cuda());
    if (o.gradToBlock1Features) {
      torch::Tensor h1;
      {
        torch::NoGradGuard ng;
        h1 = imageTrunkToBlock1(b.image);
      }
      h1 = h1.detach().requires_grad_(true);
      out.block1Features = h1;
      feat = lastImageBlock(block2(h1));
    } else {
      feat = lastImageBlock(imageTrunk(b.image));
    }
  }
  feat = feat.to(torch::kFloat);
  out.imageFeatures = feat;
  out.noduleMapLogits = noduleMap_->forward(feat).squeeze(1);
  auto pooled = torch::adaptive_max_pool3d(feat, {4, 4, 4});
  auto toks = imgTokProj_(std::get<0>(pooled).flatten(2).transpose(1, 2));  // [B,64,d]
  auto glob = imgGlobProj_(torch::cat({feat.amax(at::IntArrayRef{2, 3, 4}), feat.mean(at::IntArrayRef{2, 3, 4})}, 1)).unsqueeze(1);
  auto imgTok = torch::cat({glob, toks}, 1) + imgPos_;
  auto imgMask = b.imagePresent.view({B, 1, 1});
  imgTok = torch::where(imgMask, imgTok, missingImage_.expand({B, 65, d}));
  auto imgVec0 = lnImg0_(imgTok.select(1, 0));
  auto imgAux = imgAux_->forward(imgVec0);  // [B,16]
  out.noduleLogit = imgAux.select(1, 0);
  out.diameterCm = imgAux.select(1, 1);
  out.typeLogits = imgAux.narrow(1, 2, 3);
  out.lobeLogits = imgAux.narrow(1, 5, 5);
  out.spiculationLogit = imgAux.select(1, 10);
  out.emphysemaLogit = imgAux.select(1, 11);
  out.countLogits = imgAux.narrow(1, 12, 4);

  // ---- text ----
  auto [txt, txtAux] = encodeText(b, padding, o, out);

  // ---- cross-modal attention ----
  auto ta = multiHeadAttention(crossT_, lnTq_(txt), lnTk_(imgTok), torch::Tensor(), false, /*needWeights=*/true);
  auto txt2 = txt + ta.first;
  out.textToImageAttention = ta.second.select(1, 0);  // [B,65] for [CLS]
  auto ia = multiHeadAttention(crossI_, lnIq_(imgTok), lnIk_(txt), padding, false, /*needWeights=*/false);
  auto img2 = imgTok + ia.first;
  auto tVec = lnTxt_(txt2.select(1, 0));
  auto iVec = lnImg_(img2.select(1, 0));

  // ---- gate + experts ----
  auto gl = gate_(torch::cat({iVec, tVec}, 1));
  auto absent = torch::stack({b.imagePresent.logical_not(), b.textPresent.logical_not()}, 1);
  gl = gl.masked_fill(absent, -1e4);
  out.gate = torch::softmax(gl, 1);
  auto fused = lnFused_(out.gate.select(1, 0).unsqueeze(1) * projImg_(iVec) +
                        out.gate.select(1, 1).unsqueeze(1) * projTxt_(tVec));
  torch::Tensor z;
  if (cfg_.dense) {
    z = fused + dense_->forward(fused);
    out.routing = torch::zeros({B, cfg_.experts}, fused.options());
    out.topExperts = torch::zeros({B, 2}, torch::TensorOptions().dtype(torch::kLong).device(fused.device()));
    out.topWeights = torch::full({B, 2}, 0.5, fused.options());
    out.balanceLoss = torch::ones({}, fused.options());
    out.droppedFraction = torch::zeros({}, fused.options());
  } else {
    auto r = moe_->forward(fused, is_training());
    z = fused + r.out;
    out.routing = r.routing;
    out.topExperts = r.topIdx;
    out.topWeights = r.topW;
    out.balanceLoss = r.balanceLoss;
    out.droppedFraction = r.dropped;
  }
  auto ip = b.imagePresent.to(torch::kFloat).unsqueeze(1), tp = b.textPresent.to(torch::kFloat).unsqueeze(1);
  auto auxFeat = torch::cat({imgAux * ip, ((out.ageYears.unsqueeze(1) - 62.0) / 10.0) * tp, txtAux * tp, ip, tp}, 1);
  out.cancerLogit = cancer_->forward(torch::cat({z, auxFeat}, 1)).squeeze(1);
  return out;
}

}  // namespace multimodal::detail
