#include "multimodal/Model.h"

#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <limits>
#include <sstream>
#include <thread>

#include "multimodal/WeightsFile.h"
#include "multimodal/detail/ModelAccess.h"

namespace multimodal {
namespace detail {
namespace {
const char* kTypes[3] = {"solid", "part_solid", "non_solid"};
const char* kLobes[5] = {"RUL", "RML", "RLL", "LUL", "LLL"};
const char* kSmoking[3] = {"never", "former", "current"};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::string num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}
double metaNum(const std::map<std::string, std::string>& m, const std::string& k, const std::string& path) {
  auto it = m.find(k);
  if (it == m.end()) throw ModelError("model weights '" + path + "' lack metadata '" + k + "'");
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || !std::isfinite(v))
    throw ModelError("model weights '" + path + "' have a bad value for '" + k + "'");
  return v;
}

bool storeAsHalf(const std::string& name) {
  return name.find("running_") == std::string::npos;  // BatchNorm statistics stay fp32
}

// MEDSEEK_TRACE_MODEL=1: loading prints how long each of its phases took (a diagnostic for the start-up of
// `screen`, where the model loads while the first studies are read).
class LoadTrace {
 public:
  explicit LoadTrace(const char* label) : label_(label) {}
  /// The time since the last mark (or the start).
  void mark(const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    add(phase, std::chrono::duration<double>(now - t_).count());
    t_ = now;
  }
  /// A phase timed elsewhere (another thread).
  void add(const char* phase, double seconds) {
    if (!on_) return;
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s %.1f ms", phase, 1e3 * seconds);
    line_ += buf;
  }
  ~LoadTrace() {
    if (on_) std::fprintf(stderr, "%s:%s\n", label_, line_.c_str());
  }

 private:
  const char* label_;
  bool on_ = std::getenv("MEDSEEK_TRACE_MODEL") != nullptr;
  std::chrono::steady_clock::time_point t_ = std::chrono::steady_clock::now();
  std::string line_;
};
}  // namespace

TextInput tokenizeNote(const Tokenizer& tok, const std::string& note, int maxTokens) {
  TextInput t;
  t.ids.push_back(Tokenizer::kCls);
  t.values.push_back(0);
  t.isNumber.push_back(0);
  for (auto& p : tok.encode(note)) {
    if (static_cast<int>(t.ids.size()) >= maxTokens) break;
    t.ids.push_back(p.id);
    t.values.push_back(p.isNumber ? static_cast<float>(p.value) : 0.0f);
    t.isNumber.push_back(p.isNumber ? 1 : 0);
    t.pieces.push_back(std::move(p));
  }
  return t;
}

Batch makeBatch(const std::vector<const float*>& images, int gridSize, const std::vector<const TextInput*>& texts,
                const torch::Device& imageDevice) {
  if (images.size() != texts.size()) throw ModelError("makeBatch: image and text lists differ in length");
  const auto B = static_cast<int64_t>(images.size());
  int64_t T = 1;
  for (const auto* t : texts)
    if (t) T = std::max<int64_t>(T, static_cast<int64_t>(t->ids.size()));
  const int64_t G = gridSize, vox = G * G * G;
  Batch b;
  bool anyImage = false;
  for (const auto* im : images) anyImage = anyImage || im != nullptr;
  b.anyImage = anyImage ? 1 : 0;
  // Every image voxel is written below (absent images as zeros), so the image tensor starts uninitialised.
  const bool onHost = imageDevice.is_cpu();
  b.image = anyImage ? torch::empty({B, 1, G, G, G}, torch::TensorOptions().dtype(torch::kFloat).device(imageDevice))
                     : torch::zeros({B, 1, 1, 1, 1});  // text only: no encoder run
  b.imagePresent = torch::zeros({B}, torch::kBool);
  b.tokens = torch::zeros({B, T}, torch::kLong);
  b.tokenValid = torch::zeros({B, T}, torch::kBool);
  b.numberValue = torch::zeros({B, T});
  b.isNumber = torch::zeros({B, T}, torch::kBool);
  b.textPresent = torch::zeros({B}, torch::kBool);
  float* img = onHost ? b.image.data_ptr<float>() : nullptr;
  auto ip = b.imagePresent.data_ptr<bool>();
  auto tk = b.tokens.data_ptr<int64_t>();
  auto tv = b.tokenValid.data_ptr<bool>();
  auto nv = b.numberValue.data_ptr<float>();
  auto isn = b.isNumber.data_ptr<bool>();
  auto tp = b.textPresent.data_ptr<bool>();
  for (int64_t i = 0; i < B; ++i) {
    if (images[static_cast<std::size_t>(i)]) {
      if (onHost)
        std::memcpy(img + i * vox, images[static_cast<std::size_t>(i)], static_cast<std::size_t>(vox) * sizeof(float));
      else
        b.image[i].copy_(torch::from_blob(const_cast<float*>(images[static_cast<std::size_t>(i)]), {1, G, G, G}));
      ip[i] = true;
    } else if (anyImage) {
      if (onHost)
        std::memset(img + i * vox, 0, static_cast<std::size_t>(vox) * sizeof(float));
      else
        b.image[i].zero_();
    }
    const TextInput* t = texts[static_cast<std::size_t>(i)];
    if (t) {
      tp[i] = true;
      for (std::size_t j = 0; j < t->ids.size(); ++j) {
        tk[i * T + static_cast<int64_t>(j)] = t->ids[j];
        tv[i * T + static_cast<int64_t>(j)] = true;
        nv[i * T + static_cast<int64_t>(j)] = t->values[j];
        isn[i * T + static_cast<int64_t>(j)] = t->isNumber[j] != 0;
      }
    } else {
      tk[i * T] = Tokenizer::kCls;
      tv[i * T] = true;
    }
    if (!ip[i] && !tp[i]) throw ModelError("a case has neither an image nor a note");
  }
  return b;
}

torch::Tensor dequantizeImages(const torch::Tensor& q) { return q.to(torch::kFloat).div_(127.5).sub_(1.0); }

torch::Device chooseDevice(const std::string& pref) {
  if (pref == "cpu") return torch::Device(torch::kCPU);
  if (pref == "cuda") {
    if (!torch::cuda::is_available()) throw ModelError("CUDA was requested but no CUDA device is available");
    return torch::Device(torch::kCUDA, 0);
  }
  if (pref == "auto" || pref.empty())
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  throw ModelError("unknown device '" + pref + "' (use auto, cpu or cuda)");
}

void saveNetwork(const std::string& path, MedSeekNet& net, const Tokenizer& tok, double temperature,
                 const PreprocessOptions& pre, const std::map<std::string, std::string>& extra) {
  WeightsFile f;
  f.metadata = extra;
  const auto& c = net->config();
  f.metadata["model_version"] = kModelVersion;
  f.metadata["torch_version"] = TORCH_VERSION;
  f.metadata["vocab"] = tok.toText();
  f.metadata["vocab_hash"] = tok.hash();
  f.metadata["temperature"] = num(temperature);
  f.metadata["vocab_size"] = std::to_string(c.vocabSize);
  f.metadata["max_tokens"] = std::to_string(c.maxTokens);
  f.metadata["d_model"] = std::to_string(c.dModel);
  f.metadata["heads"] = std::to_string(c.heads);
  f.metadata["text_layers"] = std::to_string(c.textLayers);
  f.metadata["experts"] = std::to_string(c.experts);
  f.metadata["top_k"] = std::to_string(c.topK);
  f.metadata["expert_hidden"] = std::to_string(c.expertHidden);
  f.metadata["capacity_factor"] = num(c.capacityFactor);
  f.metadata["dense"] = c.dense ? "1" : "0";
  f.metadata["grid_size"] = std::to_string(pre.gridSize);
  f.metadata["spacing_mm"] = num(pre.spacingMm);
  f.metadata["window_low_hu"] = num(pre.windowLowHu);
  f.metadata["window_high_hu"] = num(pre.windowHighHu);
  auto addTensor = [&](const std::string& name, const torch::Tensor& t0) {
    auto t = t0.detach().to(torch::kCPU).contiguous();
    TensorBlob blob;
    blob.name = name;
    for (auto s : t.sizes()) blob.shape.push_back(s);
    if (t.scalar_type() == torch::kLong) {
      blob.dtype = DType::I64;
      blob.bytes.resize(static_cast<std::size_t>(t.numel()) * 8);
      std::memcpy(blob.bytes.data(), t.data_ptr<int64_t>(), blob.bytes.size());
    } else if (storeAsHalf(name)) {
      blob.dtype = DType::F16;
      auto tf = t.to(torch::kFloat).contiguous();
      const float* p = tf.data_ptr<float>();
      blob.bytes.resize(static_cast<std::size_t>(t.numel()) * 2);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const std::uint16_t h = floatToHalf(p[i]);
        blob.bytes[static_cast<std::size_t>(2 * i)] = static_cast<std::uint8_t>(h & 0xFF);
        blob.bytes[static_cast<std::size_t>(2 * i + 1)] = static_cast<std::uint8_t>(h >> 8);
      }
    } else {
      blob.dtype = DType::F32;
      auto tf = t.to(torch::kFloat).contiguous();
      blob.bytes.resize(static_cast<std::size_t>(t.numel()) * 4);
      std::memcpy(blob.bytes.data(), tf.data_ptr<float>(), blob.bytes.size());  // x86-64: little-endian
    }
    f.tensors.push_back(std::move(blob));
  };
  for (const auto& p : net->named_parameters()) addTensor(p.key(), p.value());
  for (const auto& b : net->named_buffers()) addTensor(b.key(), b.value());
  writeWeightsFile(path, f);
}

LoadedNetwork loadNetwork(const std::string& path, const torch::Device& device) {
  LoadTrace trace("model load");
  WeightsFile f = readWeightsFile(path);
  trace.mark("weights file");
  const auto& m = f.metadata;
  auto mv = m.find("model_version");
  if (mv == m.end() || mv->second != kModelVersion)
    throw ModelError("model weights '" + path + "' are version '" + (mv == m.end() ? "?" : mv->second) +
                     "'; this build needs '" + kModelVersion + "'");
  LoadedNetwork ln;
  ln.metadata = m;
  auto voc = m.find("vocab");
  if (voc == m.end()) throw ModelError("model weights '" + path + "' carry no vocabulary");
  ln.tokenizer = Tokenizer::fromText(voc->second);
  if (m.count("vocab_hash") && m.at("vocab_hash") != ln.tokenizer.hash())
    throw ModelError("model weights '" + path + "': vocabulary hash mismatch");
  ln.temperature = metaNum(m, "temperature", path);
  if (!(ln.temperature > 0.05 && ln.temperature < 20))
    throw ModelError("model weights '" + path + "' have an implausible temperature");
  NetConfig c;
  c.vocabSize = static_cast<int>(metaNum(m, "vocab_size", path));
  c.maxTokens = static_cast<int>(metaNum(m, "max_tokens", path));
  c.dModel = static_cast<int>(metaNum(m, "d_model", path));
  c.heads = static_cast<int>(metaNum(m, "heads", path));
  c.textLayers = static_cast<int>(metaNum(m, "text_layers", path));
  c.experts = static_cast<int>(metaNum(m, "experts", path));
  c.topK = static_cast<int>(metaNum(m, "top_k", path));
  c.expertHidden = static_cast<int>(metaNum(m, "expert_hidden", path));
  c.capacityFactor = metaNum(m, "capacity_factor", path);
  c.dense = metaNum(m, "dense", path) != 0;
  c.gridSize = static_cast<int>(metaNum(m, "grid_size", path));
  if (c.vocabSize != ln.tokenizer.size()) throw ModelError("model weights '" + path + "': vocabulary size mismatch");
  if (c.dModel <= 0 || c.dModel > 4096 || c.heads <= 0 || c.dModel % c.heads || c.gridSize != 128 ||
      c.experts < c.topK || c.topK < 1 || c.maxTokens < 8 || c.maxTokens > 4096 || c.textLayers < 0 || c.textLayers > 24)
    throw ModelError("model weights '" + path + "' describe an unsupported architecture");
  ln.preprocess.gridSize = c.gridSize;
  ln.preprocess.spacingMm = metaNum(m, "spacing_mm", path);
  ln.preprocess.windowLowHu = metaNum(m, "window_low_hu", path);
  ln.preprocess.windowHighHu = metaNum(m, "window_high_hu", path);
  try {
    trace.mark("metadata");
    ln.net = MedSeekNet(c);
    trace.mark("network");
    torch::NoGradGuard ng;
    auto assign = [&](const std::string& name, torch::Tensor& dst) {
      const TensorBlob* b = f.find(name);
      if (!b) throw ModelError("model weights '" + path + "' lack tensor '" + name + "'");
      std::vector<int64_t> shape(dst.sizes().begin(), dst.sizes().end());
      if (shape != b->shape) throw ModelError("model weights '" + path + "': tensor '" + name + "' has the wrong shape");
      torch::Tensor src;
      const auto n = dst.numel();
      if (b->dtype == DType::I64) {
        src = torch::empty(shape, torch::kLong);
        std::memcpy(src.data_ptr<int64_t>(), b->bytes.data(), b->bytes.size());
      } else if (b->dtype == DType::F32) {
        src = torch::empty(shape, torch::kFloat);
        std::memcpy(src.data_ptr<float>(), b->bytes.data(), b->bytes.size());
      } else {
        src = torch::empty(shape, torch::kFloat);
        float* p = src.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i)
          p[i] = halfToFloat(static_cast<std::uint16_t>(b->bytes[static_cast<std::size_t>(2 * i)] |
                                                        (b->bytes[static_cast<std::size_t>(2 * i + 1)] << 8)));
      }
      if (src.scalar_type() != torch::kLong && !torch::isfinite(src).all().item<bool>())
        throw ModelError("model weights '" + path + "': tensor '" + name + "' holds non-finite values");
      dst.copy_(src.to(dst.scalar_type()));
    };
    for (auto& p : ln.net->named_parameters()) assign(p.key(), p.value());
    for (auto& b : ln.net->named_buffers()) assign(b.key(), b.value());
    trace.mark("weights set");
    ln.net->to(device);
    ln.net->eval();
    trace.mark(device.is_cuda() ? "to the GPU (the CUDA context)" : "to the device");
    ln.device = device;
  } catch (const c10::Error& e) {
    throw ModelError("model weights '" + path + "' could not be loaded: " + e.what_without_backtrace());
  }
  return ln;
}

NetOutput predictionHeads(const NetOutput& o, const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  auto g = [&f](const torch::Tensor& t) { return t.defined() ? f(t) : t; };
  NetOutput h;
  h.cancerLogit = g(o.cancerLogit);
  h.gate = g(o.gate);
  h.routing = g(o.routing);
  h.topExperts = g(o.topExperts);
  h.topWeights = g(o.topWeights);
  h.noduleLogit = g(o.noduleLogit);
  h.diameterCm = g(o.diameterCm);
  h.typeLogits = g(o.typeLogits);
  h.lobeLogits = g(o.lobeLogits);
  h.spiculationLogit = g(o.spiculationLogit);
  h.emphysemaLogit = g(o.emphysemaLogit);
  h.countLogits = g(o.countLogits);
  h.ageYears = g(o.ageYears);
  h.sexFemaleLogit = g(o.sexFemaleLogit);
  h.familyHistoryLogit = g(o.familyHistoryLogit);
  h.smokingLogits = g(o.smokingLogits);
  h.priorCancerLogit = g(o.priorCancerLogit);
  return h;
}

void fillPrediction(const NetOutput& o, int64_t r, double temperature, Prediction& p) {
  auto v = [&](const torch::Tensor& t) { return static_cast<double>(t[r].item<float>()); };
  p.rawLogit = v(o.cancerLogit);
  p.logit = p.rawLogit / temperature;
  p.probability = sigmoid(p.logit);
  p.imageShare = static_cast<double>(o.gate[r][0].item<float>());
  p.textShare = static_cast<double>(o.gate[r][1].item<float>());
  const int E = static_cast<int>(o.routing.size(1));
  p.routing.assign(static_cast<std::size_t>(E), 0.0);
  for (int e = 0; e < E; ++e) p.routing[static_cast<std::size_t>(e)] = o.routing[r][e].item<float>();
  for (int k = 0; k < 2; ++k) {
    p.topExperts[static_cast<std::size_t>(k)].expert = static_cast<int>(o.topExperts[r][k].item<int64_t>());
    p.topExperts[static_cast<std::size_t>(k)].weight = o.topWeights[r][k].item<float>();
  }
  auto& im = p.image;
  im.noduleProbability = sigmoid(v(o.noduleLogit));
  im.diameterMm = std::max(0.0, 10.0 * v(o.diameterCm));
  auto tp = torch::softmax(o.typeLogits[r], 0);
  for (int i = 0; i < 3; ++i) im.typeProbabilities[static_cast<std::size_t>(i)] = tp[i].item<float>();
  im.type = kTypes[tp.argmax().item<int64_t>()];
  auto lp = torch::softmax(o.lobeLogits[r], 0);
  for (int i = 0; i < 5; ++i) im.lobeProbabilities[static_cast<std::size_t>(i)] = lp[i].item<float>();
  im.lobe = kLobes[lp.argmax().item<int64_t>()];
  im.spiculationProbability = sigmoid(v(o.spiculationLogit));
  im.emphysemaProbability = sigmoid(v(o.emphysemaLogit));
  im.noduleCount = static_cast<int>(o.countLogits[r].argmax().item<int64_t>());
  auto& n = p.note;
  n.ageYears = v(o.ageYears);
  n.femaleProbability = sigmoid(v(o.sexFemaleLogit));
  n.familyHistoryProbability = sigmoid(v(o.familyHistoryLogit));
  auto sp = torch::softmax(o.smokingLogits[r], 0);
  for (int i = 0; i < 3; ++i) n.smokingProbabilities[static_cast<std::size_t>(i)] = sp[i].item<float>();
  n.smoking = kSmoking[sp.argmax().item<int64_t>()];
  n.priorCancerProbability = sigmoid(v(o.priorCancerLogit));
}
}  // namespace detail

// ---- Model ------------------------------------------------------------------------------------------------
struct Model::Impl {
  detail::LoadedNetwork ln;
  ModelInfo info;
  ModelOptions options;
};

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

std::string Model::defaultPath() {
  if (const char* env = std::getenv("MEDSEEK_MODEL"); env && *env) return env;
#ifdef MEDSEEK_RESOURCES_DIR
  return std::string(MEDSEEK_RESOURCES_DIR) + "/models/medseek-moe-v1.msw";
#else
  return "resources/models/medseek-moe-v1.msw";
#endif
}

Model Model::load(const std::string& path, const ModelOptions& options) {
  Model m;
  try {
    detail::LoadTrace trace("model device");
    const auto device = detail::chooseDevice(options.device);
    trace.mark("choice");
    // On CUDA the device's context starts (the larger part of loading on a GPU machine) on a thread of its
    // own while this one reads the weights file and builds the network on the CPU.
    std::future<double> context;
    if (device.is_cuda()) {
      context = std::async(std::launch::async, [device] {
        const auto t0 = std::chrono::steady_clock::now();
        (void)torch::empty({1}, torch::TensorOptions().device(device));
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      });
    }
    // CPU: use the given thread count, else every core (some LibTorch builds default to one thread).
    if (options.cpuThreads > 0) at::set_num_threads(options.cpuThreads);
    else if (device.is_cpu()) at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    m.impl_->ln = detail::loadNetwork(path, device);
    if (context.valid()) trace.add("context (its own thread)", context.get());
    if (device.is_cuda() && options.cudnnAutotune) at::globalContext().setBenchmarkCuDNN(true);
    // Inference only: no parameter needs a gradient, so the explainer's passes record autograd nodes only
    // downstream of the activations they differentiate (block1's output, the note embeddings).
    for (auto& p : m.impl_->ln.net->parameters()) p.requires_grad_(false);
  } catch (const c10::Error& e) {
    throw ModelError("loading model '" + path + "' failed: " + e.what_without_backtrace());
  }
  m.impl_->options = options;
  m.impl_->ln.autocast = options.autocast;
  auto& i = m.impl_->info;
  const auto& ln = m.impl_->ln;
  i.path = path;
  i.modelVersion = ln.metadata.at("model_version");
  i.device = ln.device.is_cuda() ? "cuda" : "cpu";
  i.torchVersion = TORCH_VERSION;
  i.vocabHash = ln.tokenizer.hash();
  i.temperature = ln.temperature;
  i.gridSize = ln.preprocess.gridSize;
  i.spacingMm = ln.preprocess.spacingMm;
  i.dense = ln.net->config().dense;
  for (const auto& p : ln.net->parameters()) i.parameters += p.numel();
  i.metadata = ln.metadata;
  i.metadata.erase("vocab");
  return m;
}

const ModelInfo& Model::info() const { return impl_->info; }
const PreprocessOptions& Model::preprocessOptions() const { return impl_->ln.preprocess; }
detail::LoadedNetwork& Model::network() { return impl_->ln; }

Prediction Model::predict(const CaseInput& input) { return predict(std::vector<CaseInput>{input}).front(); }

std::vector<Prediction> Model::predict(const std::vector<CaseInput>& inputs) {
  auto& ln = impl_->ln;
  std::vector<Prediction> out(inputs.size());
  std::vector<PreprocessedVolume> own(inputs.size());
  std::vector<const PreprocessedVolume*> pre(inputs.size(), nullptr);
  std::vector<detail::TextInput> texts(inputs.size());
  std::vector<std::size_t> scored;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    auto& p = out[i];
    if (in.preprocessed) {
      pre[i] = in.preprocessed;
    } else if (in.volume) {
      own[i] = preprocessVolume(*in.volume, ln.preprocess);
      p.preprocessSeconds = own[i].seconds;
      pre[i] = &own[i];
    }
    if (pre[i] && !pre[i]->inScope) {
      p.outOfScope = true;
      p.outOfScopeReason = pre[i]->reason;
      p.probability = p.logit = p.rawLogit = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    if (pre[i] && (pre[i]->gridSize != ln.preprocess.gridSize ||
                   pre[i]->values.size() != static_cast<std::size_t>(pre[i]->gridSize) * pre[i]->gridSize * pre[i]->gridSize))
      throw ModelError("preprocessed volume does not match the model grid");
    if (!pre[i] && in.note.empty()) throw ModelError("case " + std::to_string(i) + " has neither an image nor a note");
    p.usedImage = pre[i] != nullptr;
    p.usedText = !in.note.empty();
    if (p.usedText) texts[i] = detail::tokenizeNote(ln.tokenizer, in.note, ln.net->config().maxTokens);
    scored.push_back(i);
  }
  const std::size_t step = static_cast<std::size_t>(std::max(1, impl_->options.maxBatch));
  try {
    torch::NoGradGuard ng;
    for (std::size_t s = 0; s < scored.size(); s += step) {
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<const float*> imgs;
      std::vector<const detail::TextInput*> txts;
      const std::size_t e = std::min(scored.size(), s + step);
      for (std::size_t k = s; k < e; ++k) {
        const std::size_t i = scored[k];
        imgs.push_back(pre[i] ? pre[i]->values.data() : nullptr);
        txts.push_back(out[i].usedText ? &texts[i] : nullptr);
      }
      auto batch = detail::makeBatch(imgs, ln.net->config().gridSize, txts).to(ln.device);
      detail::ForwardOptions fo;
      fo.autocastCuda = ln.autocast && ln.device.is_cuda();
      auto o = ln.net->forward(batch, fo);
      const auto c = detail::predictionHeads(o, [](const torch::Tensor& t) {
        return t.detach().to(torch::kCPU).to(t.scalar_type() == torch::kLong ? torch::kLong : torch::kFloat);
      });
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (std::size_t k = s; k < e; ++k) {
        auto& p = out[scored[k]];
        detail::fillPrediction(c, static_cast<int64_t>(k - s), ln.temperature, p);
        p.modelSeconds = secs / static_cast<double>(e - s);
      }
    }
  } catch (const c10::Error& e) {
    throw ModelError(std::string("model inference failed: ") + e.what_without_backtrace());
  }
  return out;
}

}  // namespace multimodal
