#pragma once
/// detail/ModelAccess: torch-level handles for the explain library and the trainer.
///
///   auto model = multimodal::Model::load(path);
///   auto& ln = model.network();                       // network, tokenizer, device, temperature
///   auto pre = multimodal::preprocessVolume(ct, model.preprocessOptions());
///   auto text = multimodal::detail::tokenizeNote(ln.tokenizer, note, ln.net->config().maxTokens);
///   auto batch = multimodal::detail::makeBatch({pre.values.data()}, ln.net->config().gridSize, {&text})
///                    .to(ln.device);
///   multimodal::detail::ForwardOptions fo; fo.gradToBlock1Features = true; fo.gradToTextEmbeddings = true;
///   auto out = ln.net->forward(batch, fo);            // ln.net is in eval mode
///   auto grads = torch::autograd::grad({out.cancerLogit.sum()},
///                                      {out.block1Features, out.imageFeatures, out.textEmbeddings});
///   // Grad-CAM on the last block: relu(sum_c mean(grad_c) * feat_c) on the 16^3 grid, which maps to LPS via
///   // pre.originLps + index * pre.spacingMm * (gridSize / 16) (+ half a cell), i = L, j = P, k = S;
///   // the explainer multiplies it with LayerCAM on block1's 32^3 grid (explain/src/Explainer.cpp).
///   // Token t of `text` is text.pieces[t - 1] (t = 0 is [CLS]): byte span begin/end in the note.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "multimodal/Model.h"
#include "multimodal/Tokenizer.h"
#include "multimodal/detail/Network.h"

namespace multimodal::detail {

struct LoadedNetwork {
  MedSeekNet net{nullptr};
  Tokenizer tokenizer;
  torch::Device device{torch::kCPU};
  double temperature = 1;
  PreprocessOptions preprocess;
  std::map<std::string, std::string> metadata;
  bool autocast = true;
};

struct TextInput {
  std::vector<int64_t> ids;      ///< [CLS] + pieces (truncated to maxTokens)
  std::vector<float> values;     ///< numeric value per id (0 for non-numbers)
  std::vector<uint8_t> isNumber;
  std::vector<TokenPiece> pieces;  ///< pieces[t-1] belongs to ids[t]
};

TextInput tokenizeNote(const Tokenizer& tok, const std::string& note, int maxTokens);
/// images[i] == nullptr: image absent; texts[i] == nullptr: text absent. Both lists have the batch size.
/// imageDevice: where the image tensor is made (the other tensors stay on the CPU). On a GPU each case's
/// image is copied there from its own buffer: no batch-sized host copy, and no page-locked staging, whose
/// allocation for each new batch size (hundreds of ms for a batch of full grids) stalled the CUDA calls of
/// every other thread.
Batch makeBatch(const std::vector<const float*>& images, int gridSize, const std::vector<const TextInput*>& texts,
                const torch::Device& imageDevice = torch::Device(torch::kCPU));
/// Same, images stored as uint8 (q = round((v + 1) * 127.5)), as the trainer caches them.
torch::Tensor dequantizeImages(const torch::Tensor& q);

/// "auto" | "cpu" | "cuda" -> device; throws ModelError when CUDA is asked for but absent.
torch::Device chooseDevice(const std::string& preference);

LoadedNetwork loadNetwork(const std::string& path, const torch::Device& device);
void saveNetwork(const std::string& path, MedSeekNet& net, const Tokenizer& tok, double temperature,
                 const PreprocessOptions& pre, const std::map<std::string, std::string>& extraMetadata);

/// Turns a network output row into the public Prediction fields (probability, gate, experts, aux).
void fillPrediction(const NetOutput& out, int64_t row, double temperature, Prediction& p);
/// The heads fillPrediction reads, each (where defined) passed through `f`: detached, copied to the host.
NetOutput predictionHeads(const NetOutput& out, const std::function<torch::Tensor(const torch::Tensor&)>& f);

}  // namespace multimodal::detail
