#pragma once
/// detail/Network: the MedSeek multimodal mixture-of-experts network (LibTorch C++ frontend).
/// Torch-exposing: for the `explain` library and the trainer only; the app uses multimodal/Model.h.
///
///   multimodal::detail::NetConfig cfg;  cfg.vocabSize = tok.size();
///   multimodal::detail::MedSeekNet net(cfg);
///   auto batch = multimodal::detail::makeBatch(...);           // see detail/ModelAccess.h
///   multimodal::detail::ForwardOptions fo;  fo.gradToBlock1Features = true;  // CAM pass
///   auto out = net->forward(batch, fo);
///   auto g = torch::autograd::grad({out.cancerLogit.sum()}, {out.block1Features, out.imageFeatures});
///
/// Image branch: 3-D conv encoder (stem 128^3 -> 64^3 -> 32^3 -> 16^3, last block = `block3`,
/// output `imageFeatures` [B,64,16,16,16]) -> 64 max-pooled tokens (4x4x4) + 1 global token, and a
/// 1x1x1 nodule-centre map on the 16^3 cells (dense supervision; also a localisation for findings).
/// Text branch: token + position + numeric-value embedding, pre-LN transformer encoder ([CLS] first).
/// Fusion: text attends to image tokens and image to text; a per-case softmax gate (image, text share)
/// mixes the two pooled vectors; then a top-2 noisy-gated mixture of 8 experts (or a dense FFN of equal
/// active compute). Heads: cancer logit (reads the fused vector plus the aux predictions), image aux
/// heads (nodule, diameter, type, lobe, spiculation, emphysema, count) on the image vector, note heads
/// (age by a pointer over number tokens, sex, family history, smoking, prior cancer) on the text vector.
#include <torch/torch.h>

#include <string>

namespace multimodal::detail {

struct NetConfig {
  int vocabSize = 128;
  int maxTokens = 256;
  int dModel = 128;
  int heads = 4;
  int textLayers = 2;
  int experts = 8;
  int topK = 2;
  int expertHidden = 256;
  double capacityFactor = 1.25;
  bool dense = false;  ///< dense FFN of hidden topK*expertHidden instead of the MoE
  int gridSize = 128;
  double dropout = 0.1;
};

/// One batch of model inputs (all on the model's device).
struct Batch {
  torch::Tensor image;         ///< [B,1,G,G,G] float in [-1,1] (zeros where absent; may be [B,1,1,1,1] when no case has one)
  torch::Tensor imagePresent;  ///< [B] bool
  torch::Tensor tokens;        ///< [B,T] int64, [CLS] first, [PAD] after the end
  torch::Tensor tokenValid;    ///< [B,T] bool
  torch::Tensor numberValue;   ///< [B,T] float (0 for non-numbers)
  torch::Tensor isNumber;      ///< [B,T] bool
  torch::Tensor textPresent;   ///< [B] bool
  /// Whether any case has an image, known on the host (makeBatch sets it): the forward then need not read
  /// `imagePresent` back from the device (a synchronisation). -1: unknown, read from the tensor.
  int anyImage = -1;
  int64_t size() const { return tokens.size(0); }
  Batch to(const torch::Device& d) const;
};

struct ForwardOptions {
  /// Run stem + block1 without grad and make their output `block1Features` a leaf that requires grad;
  /// block2 and block3 run with grad (fine CAM at 32^3: gradients to block1's output and to
  /// `imageFeatures`, no parameter gradients needed; the explainer's CAM pass).
  bool gradToBlock1Features = false;
  bool gradToTextEmbeddings = false;  ///< make `textEmbeddings` a leaf that requires grad
  torch::Tensor textEmbeddingsOverride;  ///< [B,T,d] replaces the input embeddings (integrated gradients)
  bool autocastCuda = false;          ///< bf16 autocast on CUDA where the LibTorch version supports it
  /// Run only the text encoder and its heads (sex, family history, smoking, prior cancer, age, and
  /// textEmbeddings); every other output is left undefined. The heads are exactly those of a full forward.
  bool textHeadsOnly = false;
};

struct NetOutput {
  torch::Tensor cancerLogit;      ///< [B] (uncalibrated)
  torch::Tensor imageFeatures;    ///< [B,64,16,16,16] activation of the last conv block (Grad-CAM)
  torch::Tensor block1Features;   ///< [B,32,32,32,32] output of block1; only with gradToBlock1Features
  torch::Tensor textEmbeddings;   ///< [B,T,d] input embeddings (text attributions)
  torch::Tensor textToImageAttention;  ///< [B,65] attention of [CLS] over image tokens (mean of heads)
  torch::Tensor gate;             ///< [B,2] image share, text share
  torch::Tensor routing;          ///< [B,E] routing weight per expert (0 outside the top-2)
  torch::Tensor topExperts;       ///< [B,2] int64
  torch::Tensor topWeights;       ///< [B,2] sum to 1
  torch::Tensor balanceLoss;      ///< scalar (1 when balanced)
  torch::Tensor droppedFraction;  ///< scalar: share of routing slots dropped by the capacity limit
  torch::Tensor noduleMapLogits;  ///< [B,16,16,16] per-cell "a nodule centre lies here" (k, j, i order)
  // image aux
  torch::Tensor noduleLogit, diameterCm, typeLogits, lobeLogits, spiculationLogit, emphysemaLogit, countLogits;
  // note aux
  torch::Tensor ageYears, ageAttention, sexFemaleLogit, familyHistoryLogit, smokingLogits, priorCancerLogit;
};

/// Multi-head attention with `m`'s parameters and arithmetic (nn::MultiheadAttention's forward in eval and
/// training) on batch-first tensors: query [B,Lq,d], keyValue [B,Lk,d] (keys and values are the same
/// tensor), padding [B,Lk] (true = ignored; may be undefined). `selfAttention`: query is keyValue (one
/// projection). Returns {output [B,Lq,d], the heads' mean attention weights [B,Lq,Lk] when asked for}.
/// Unlike the module's forward it never compares query, key and value element by element (torch::equal,
/// each a device-to-host synchronisation on a GPU) and needs no sequence-first transposes.
std::pair<torch::Tensor, torch::Tensor> multiHeadAttention(const torch::nn::MultiheadAttention& m,
                                                           const torch::Tensor& query, const torch::Tensor& keyValue,
                                                           const torch::Tensor& padding, bool selfAttention,
                                                           bool needWeights);

/// Top-2 noisy-gated mixture of experts over per-case vectors. Exposed for tests.
class MoEImpl : public torch::nn::Module {
 public:
  MoEImpl(int d, int hidden, int experts, int topK, double capacityFactor);
  struct Result {
    torch::Tensor out, routing, topIdx, topW, balanceLoss, dropped, kept;  ///< kept: [B,K] bool
  };
  /// capacity < 0: no limit (inference); training applies ceil(capacityFactor * B * K / E).
  /// On the CPU each expert runs on the rows routed to it (gather, scatter-add). On other devices every
  /// expert runs on every row and is weighted by its routing weight, zero for rows not routed to it: the
  /// same sum, without reading the routing back to the host (the gather's row count is a device-to-host
  /// synchronisation per expert, which stalled the launch queue behind the image encoder).
  Result forward(const torch::Tensor& x, bool applyCapacity);
  /// Forces one dispatch (tests compare them on the CPU): 0 = by device, 1 = gather/scatter, 2 = weighted.
  void setDispatch(int mode) { dispatch_ = mode; }
  int experts() const { return experts_; }
  int capacityFor(int64_t batch) const;

 private:
  int experts_, topK_;
  double capacityFactor_;
  int dispatch_ = 0;
  torch::nn::Linear router_{nullptr}, noise_{nullptr};
  torch::nn::ModuleList w1_, w2_;
};
TORCH_MODULE(MoE);

class MedSeekNetImpl : public torch::nn::Module {
 public:
  explicit MedSeekNetImpl(const NetConfig& cfg);
  NetOutput forward(const Batch& batch, const ForwardOptions& options = {});
  const NetConfig& config() const { return cfg_; }
  /// The trunk before the last conv block, and the last block itself (Grad-CAM target).
  torch::Tensor imageTrunk(const torch::Tensor& x);
  /// stem + block1 (output [B,32,G/4,G/4,G/4]), and block2 on top of it: imageTrunk = block2(block1(...)).
  torch::Tensor imageTrunkToBlock1(const torch::Tensor& x);
  torch::Tensor block2(const torch::Tensor& h1);
  torch::Tensor lastImageBlock(const torch::Tensor& h);
  torch::Tensor embedText(const Batch& b);

 private:
  /// The text encoder and its heads into `out`; returns {encoded tokens [B,T,d], the heads [B,6]}.
  /// `padding`: [B,T], true for padding tokens.
  std::pair<torch::Tensor, torch::Tensor> encodeText(const Batch& b, const torch::Tensor& padding,
                                                     const ForwardOptions& o, NetOutput& out);
  NetConfig cfg_;
  torch::nn::Sequential stem_{nullptr}, block1_{nullptr}, block2_{nullptr}, block3_{nullptr};
  torch::nn::Linear imgTokProj_{nullptr}, imgGlobProj_{nullptr};
  torch::nn::Conv3d noduleMap_{nullptr};
  torch::Tensor imgPos_, missingImage_, textPos_;
  torch::nn::Embedding tokEmb_{nullptr};
  torch::nn::Linear numProj_{nullptr};
  torch::nn::ModuleList textLayers_;
  torch::nn::MultiheadAttention crossT_{nullptr}, crossI_{nullptr};
  torch::nn::LayerNorm lnTq_{nullptr}, lnTk_{nullptr}, lnIq_{nullptr}, lnIk_{nullptr}, lnTxt_{nullptr},
      lnImg_{nullptr}, lnFused_{nullptr}, lnText0_{nullptr}, lnImg0_{nullptr};
  torch::nn::Linear gate_{nullptr}, projImg_{nullptr}, projTxt_{nullptr};
  MoE moe_{nullptr};
  torch::nn::Sequential dense_{nullptr};
  torch::nn::Sequential imgAux_{nullptr}, txtAux_{nullptr}, cancer_{nullptr};
  torch::nn::Linear ageScore_{nullptr};
};
TORCH_MODULE(MedSeekNet);

}  // namespace multimodal::detail
