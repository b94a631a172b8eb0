#include "multimodal/Training.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <map>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "CaseTargets.h"
#include "Stats.h"
#include "TemporaryPath.h"
#include "multimodal/ModelError.h"
#include "multimodal/detail/ModelAccess.h"
#include "phantom/CohortGenerator.h"

namespace multimodal {
namespace {
namespace F = torch::nn::functional;
using detail::TextInput;

struct CachedCase {
  bool ok = false;
  std::string reason;
  std::vector<std::uint8_t> image;
  internal::CaseTargets t;
  std::vector<std::string> notes;  // original first, then augmented variants
  std::vector<TextInput> texts;
  std::vector<int64_t> noduleCells;  // flat k*256 + j*16 + i indices of nodule centres on the 16^3 map
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0, double e = 0, double g = 0) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, a, b, c, d, e, g);
  return buf;
}

// Text part of a training batch (images are filled from the cache on the device).
void fillText(detail::Batch& b, const std::vector<const TextInput*>& texts) {
  const auto B = static_cast<int64_t>(texts.size());
  int64_t T = 1;
  for (const auto* t : texts)
    if (t) T = std::max<int64_t>(T, static_cast<int64_t>(t->ids.size()));
  b.tokens = torch::zeros({B, T}, torch::kLong);
  b.tokenValid = torch::zeros({B, T}, torch::kBool);
  b.numberValue = torch::zeros({B, T});
  b.isNumber = torch::zeros({B, T}, torch::kBool);
  b.textPresent = torch::zeros({B}, torch::kBool);
  auto tk = b.tokens.data_ptr<int64_t>();
  auto tv = b.tokenValid.data_ptr<bool>();
  auto nv = b.numberValue.data_ptr<float>();
  auto isn = b.isNumber.data_ptr<bool>();
  auto tp = b.textPresent.data_ptr<bool>();
  for (int64_t i = 0; i < B; ++i) {
    const TextInput* t = texts[static_cast<std::size_t>(i)];
    if (!t) {
      tk[i * T] = Tokenizer::kCls;
      tv[i * T] = true;
      continue;
    }
    tp[i] = true;
    for (std::size_t j = 0; j < t->ids.size(); ++j) {
      const int64_t k = i * T + static_cast<int64_t>(j);
      tk[k] = t->ids[j];
      tv[k] = true;
      nv[k] = t->values[j];
      isn[k] = t->isNumber[j] != 0;
    }
  }
}

struct TargetTensors {
  torch::Tensor noduleMap;  // [B,4096]
  torch::Tensor soft, cancer, nodule, diamCm, type, lobe, spic, emph, count, age, female, fh, smoking, prior;
};

TargetTensors targetsFor(const std::vector<CachedCase>& cases, const std::vector<int64_t>& idx, const torch::Device& dev) {
  const auto B = static_cast<int64_t>(idx.size());
  std::vector<float> f[11];
  std::vector<int64_t> l[4];
  for (auto& v : f) v.reserve(static_cast<std::size_t>(B));
  for (int64_t i : idx) {
    const auto& t = cases[static_cast<std::size_t>(i)].t;
    f[0].push_back(static_cast<float>(t.softTarget));
    f[1].push_back(t.cancer ? 1.f : 0.f);
    f[2].push_back(t.nodule ? 1.f : 0.f);
    f[3].push_back(static_cast<float>(t.diameterMm / 10.0));
    f[4].push_back(t.spiculated ? 1.f : 0.f);
    f[5].push_back(t.emphysema ? 1.f : 0.f);
    f[6].push_back(static_cast<float>(t.age));
    f[7].push_back(t.female ? 1.f : 0.f);
    f[8].push_back(t.familyHistory ? 1.f : 0.f);
    f[9].push_back(t.priorCancer ? 1.f : 0.f);
    l[0].push_back(t.type);
    l[1].push_back(t.lobe);
    l[2].push_back(t.count);
    l[3].push_back(t.smoking);
  }
  auto ft = [&](int k) { return torch::tensor(f[k]).to(dev); };
  auto lt = [&](int k) { return torch::tensor(l[k], torch::kLong).to(dev); };
  TargetTensors r;
  auto map = torch::zeros({B, 4096});
  auto* mp = map.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t cell : cases[static_cast<std::size_t>(idx[static_cast<std::size_t>(b)])].noduleCells) mp[b * 4096 + cell] = 1.f;
  r.noduleMap = map.to(dev);
  r.soft = ft(0); r.cancer = ft(1); r.nodule = ft(2); r.diamCm = ft(3); r.spic = ft(4); r.emph = ft(5);
  r.age = ft(6); r.female = ft(7); r.fh = ft(8); r.prior = ft(9);
  r.type = lt(0); r.lobe = lt(1); r.count = lt(2); r.smoking = lt(3);
  return r;
}

TargetTensors selectRows(const TargetTensors& a, const torch::Tensor& rows) {
  TargetTensors r;
  auto sel = [&](const torch::Tensor& t) { return t.index_select(0, rows); };
  r.noduleMap = sel(a.noduleMap);
  r.soft = sel(a.soft); r.cancer = sel(a.cancer); r.nodule = sel(a.nodule); r.diamCm = sel(a.diamCm);
  r.type = sel(a.type); r.lobe = sel(a.lobe); r.spic = sel(a.spic); r.emph = sel(a.emph); r.count = sel(a.count);
  r.age = sel(a.age); r.female = sel(a.female); r.fh = sel(a.fh); r.smoking = sel(a.smoking); r.prior = sel(a.prior);
  return r;
}

torch::Tensor maskedMean(const torch::Tensor& perCase, const torch::Tensor& w) {
  return (perCase * w).sum() / w.sum().clamp_min(1.0);
}

struct LossParts {
  torch::Tensor total, cancer, image, text, balance;
};

LossParts computeLoss(const detail::NetOutput& o, const TargetTensors& t, const torch::Tensor& imgW,
                      const torch::Tensor& txtW, double balanceWeight) {
  auto none = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone);
  auto ce = F::CrossEntropyFuncOptions().reduction(torch::kNone);
  LossParts L;
  L.cancer = F::binary_cross_entropy_with_logits(o.cancerLogit, t.soft);
  auto nodW = imgW * t.nodule;
  L.image = maskedMean(F::binary_cross_entropy_with_logits(o.noduleLogit, t.nodule, none), imgW) +
            maskedMean(F::cross_entropy(o.countLogits, t.count, ce), imgW) +
            maskedMean(F::binary_cross_entropy_with_logits(o.emphysemaLogit, t.emph, none), imgW) +
            maskedMean(F::smooth_l1_loss(o.diameterCm, t.diamCm, F::SmoothL1LossFuncOptions().reduction(torch::kNone)), nodW) * 4.0 +
            maskedMean(F::cross_entropy(o.typeLogits, t.type, ce), nodW) +
            maskedMean(F::cross_entropy(o.lobeLogits, t.lobe, ce), nodW) +
            maskedMean(F::binary_cross_entropy_with_logits(o.spiculationLogit, t.spic, none), nodW);
  {
    auto posWeight = torch::full({1}, 30.0, o.noduleMapLogits.options().dtype(torch::kFloat));
    auto perCell = F::binary_cross_entropy_with_logits(
        o.noduleMapLogits.reshape({o.noduleMapLogits.size(0), -1}).to(torch::kFloat), t.noduleMap,
        F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone).pos_weight(posWeight));
    L.image = L.image + 4.0 * maskedMean(perCell.mean(1), imgW);
  }
  L.text = maskedMean((o.ageYears - t.age).abs() / 10.0, txtW) +
           maskedMean(F::binary_cross_entropy_with_logits(o.sexFemaleLogit, t.female, none), txtW) +
           maskedMean(F::binary_cross_entropy_with_logits(o.familyHistoryLogit, t.fh, none), txtW) +
           maskedMean(F::cross_entropy(o.smokingLogits, t.smoking, ce), txtW) +
           maskedMean(F::binary_cross_entropy_with_logits(o.priorCancerLogit, t.prior, none), txtW);
  L.balance = o.balanceLoss;
  L.total = L.cancer + L.image + 0.5 * L.text + balanceWeight * L.balance;
  return L;
}

// ---- cohort cache: the generated + preprocessed cases in one binary file (little-endian host order) ----
constexpr char kCacheMagic[] = "MEDSEEK-COHORT-CACHE 1\n";

class CacheWriter {
 public:
  explicit CacheWriter(const std::string& path) : f_(path, std::ios::binary | std::ios::trunc) {}
  template <class T> void pod(const T& v) { f_.write(reinterpret_cast<const char*>(&v), sizeof v); }
  template <class T> void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    f_.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }
  void str(const std::string& s) { vec(std::vector<char>(s.begin(), s.end())); }
  bool ok() { f_.flush(); return static_cast<bool>(f_); }

 private:
  std::ofstream f_;
};

class CacheReader {
 public:
  explicit CacheReader(const std::string& path) : path_(path), f_(path, std::ios::binary) {}
  template <class T> T pod() {
    T v{};
    f_.read(reinterpret_cast<char*>(&v), sizeof v);
    check();
    return v;
  }
  template <class T> std::vector<T> vec(std::uint64_t limit) {
    const auto n = pod<std::uint64_t>();
    if (n > limit) throw ModelError("cohort cache '" + path_ + "' is corrupt (a length of " + std::to_string(n) + ")");
    std::vector<T> v(static_cast<std::size_t>(n));
    f_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    check();
    return v;
  }
  std::string str() {
    auto v = vec<char>(1 << 20);
    return std::string(v.begin(), v.end());
  }

 private:
  void check() {
    if (!f_) throw ModelError("cohort cache '" + path_ + "' is truncated or unreadable");
  }
  std::string path_;
  std::ifstream f_;
};

std::string cacheKey(const TrainOptions& o, int gridSize) {
  return "seed=" + std::to_string(o.seed) + " train=" + std::to_string(o.trainCases) + " val=" +
         std::to_string(o.valCases) + " size=" + o.size + " variants=" + std::to_string(o.textVariants) +
         " grid=" + std::to_string(gridSize) + " generator=" + std::to_string(phantom::kGeneratorVersion);
}

void writeCohortCache(const std::string& path, const std::string& key, const std::vector<CachedCase>& cases) {
  const std::string tmp = detail::temporaryPathFor(path);
  {
    CacheWriter w(tmp);
    w.str(kCacheMagic);
    w.str(key);
    w.pod<std::uint64_t>(cases.size());
    for (const auto& c : cases) {
      const auto& t = c.t;
      w.pod<std::uint8_t>(c.ok);
      w.str(c.reason);
      w.vec(c.image);
      w.vec(c.noduleCells);
      w.pod<std::uint64_t>(c.notes.size());
      for (const auto& n : c.notes) w.str(n);
      const std::uint8_t flags[] = {t.nodule, t.spiculated, t.emphysema, t.female, t.familyHistory, t.priorCancer, t.cancer, t.chinese};
      const double nums[] = {t.diameterMm, t.age, t.softTarget, t.oracle};
      const std::int32_t ints[] = {t.type, t.lobe, t.count, t.smoking};
      for (auto f : flags) w.pod(f);
      for (auto v : nums) w.pod(v);
      for (auto v : ints) w.pod(v);
      w.vec(t.noduleCentersLps);
    }
    if (!w.ok()) throw ModelError("cannot write cohort cache '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ModelError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

/// Reads a cache written for the same key; a cache for another cohort is an error (never silently reused).
std::vector<CachedCase> readCohortCache(const std::string& path, const std::string& key, std::size_t voxels) {
  CacheReader r(path);
  if (r.str() != kCacheMagic) throw ModelError("'" + path + "' is not a MedSeek cohort cache");
  const std::string k = r.str();
  if (k != key) throw ModelError("cohort cache '" + path + "' holds another cohort (" + k + "; this run: " + key + ")");
  std::vector<CachedCase> cases(static_cast<std::size_t>(r.pod<std::uint64_t>()));
  for (auto& c : cases) {
    auto& t = c.t;
    c.ok = r.pod<std::uint8_t>() != 0;
    c.reason = r.str();
    c.image = r.vec<std::uint8_t>(voxels);
    if (c.ok && c.image.size() != voxels) throw ModelError("cohort cache '" + path + "' has an image of the wrong size");
    c.noduleCells = r.vec<int64_t>(4096);
    const auto notes = r.pod<std::uint64_t>();
    if (notes > 64) throw ModelError("cohort cache '" + path + "' is corrupt (note count)");
    for (std::uint64_t n = 0; n < notes; ++n) c.notes.push_back(r.str());
    bool* flags[] = {&t.nodule, &t.spiculated, &t.emphysema, &t.female, &t.familyHistory, &t.priorCancer, &t.cancer, &t.chinese};
    double* nums[] = {&t.diameterMm, &t.age, &t.softTarget, &t.oracle};
    int* ints[] = {&t.type, &t.lobe, &t.count, &t.smoking};
    for (auto* f : flags) *f = r.pod<std::uint8_t>() != 0;
    for (auto* v : nums) *v = r.pod<double>();
    for (auto* v : ints) *v = r.pod<std::int32_t>();
    t.noduleCentersLps = r.vec<std::array<double, 3>>(64);
  }
  return cases;
}

/// Generates and preprocesses cases 0..train+val-1 of the seed's cohort on CPU threads (every 8th case
/// full size for size "mixed"); each case gets its targets, its nodule-centre cells and its note variants.
std::vector<CachedCase> generateCohort(const TrainOptions& o, const PreprocessOptions& pre,
                                       const std::function<void(const std::string&)>& log) {
  phantom::PhantomOptions small, full;
  small.language = full.language = phantom::LanguageMix::Mixed;
  small.size = phantom::SizePreset::Small;
  full.size = phantom::SizePreset::Full;
  phantom::CohortGenerator genSmall(o.seed, small), genFull(o.seed, full);
  const int total = o.trainCases + o.valCases;
  const double t0 = now();
  std::vector<CachedCase> cases(static_cast<std::size_t>(total));
  std::atomic<int> done{0};
  std::mutex logMutex;
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  internal::parallelIndices(0, total, threads, [&](int i) {
    const bool useFull = o.size == "full" || (o.size == "mixed" && i % 8 == 0);
    phantom::Case c = (useFull ? genFull : genSmall).generate(i);
    auto p = preprocessVolume(c.volume, pre);
    auto& cc = cases[static_cast<std::size_t>(i)];
    cc.t = internal::targetsOf(c);
    cc.ok = p.inScope;
    cc.reason = p.reason;
    if (p.inScope) {
      const double cell = p.spacingMm * p.gridSize / 16.0;
      for (const auto& c3 : cc.t.noduleCentersLps) {
        int64_t ijk[3];
        bool inside = true;
        for (int a = 0; a < 3; ++a) {
          ijk[a] = static_cast<int64_t>(std::floor((c3[static_cast<std::size_t>(a)] - p.originLps[static_cast<std::size_t>(a)] + 0.5 * p.spacingMm) / cell));
          inside = inside && ijk[a] >= 0 && ijk[a] < 16;
        }
        if (inside) cc.noduleCells.push_back(ijk[2] * 256 + ijk[1] * 16 + ijk[0]);
      }
      cc.image.resize(p.values.size());
      for (std::size_t v = 0; v < p.values.size(); ++v)
        cc.image[v] = static_cast<std::uint8_t>(std::lround((p.values[v] + 1.0f) * 127.5f));
    }
    std::mt19937_64 rng(o.seed * 1000003ULL + static_cast<std::uint64_t>(i));
    cc.notes.push_back(c.note);
    for (int v = 0; v < o.textVariants; ++v) cc.notes.push_back(internal::augmentNote(c.note, rng));
    const int d = ++done;
    if (d % std::max(1, total / 10) == 0) {
      std::lock_guard<std::mutex> lk(logMutex);
      log(fmt("generated %.0f / %.0f cases (%.1f s)", d, total, now() - t0));
    }
  });
  return cases;
}

std::string utcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
}  // namespace

TrainReport train(const TrainOptions& o) {
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  if (o.outputPath.empty()) throw ModelError("training needs an output path for the weights");
  if (o.trainCases < 2 || o.valCases < 2) throw ModelError("training needs at least 2 training and 2 validation cases");
  if (o.size != "small" && o.size != "full" && o.size != "mixed")
    throw ModelError("unknown phantom size '" + o.size + "' (small, full or mixed)");
  TrainReport rep;
  try {
    torch::manual_seed(o.seed);
    const torch::Device dev = detail::chooseDevice(o.device);
    if (dev.is_cuda()) {
      torch::cuda::manual_seed_all(o.seed);
      // Seeded data order and initialisation; cuDNN may pick non-deterministic fast kernels (speed first).
      at::globalContext().setBenchmarkCuDNN(true);
    }
    log(std::string("training on ") + (dev.is_cuda() ? "cuda" : "cpu") + ", LibTorch " + TORCH_VERSION);
    PreprocessOptions pre;
    pre.threads = 1;

    // ---- generate + preprocess on CPU threads ----
    const int total = o.trainCases + o.valCases;
    std::vector<CachedCase> cases;
    const double t0 = now();
    const std::string key = cacheKey(o, pre.gridSize);
    const auto voxels = static_cast<std::size_t>(pre.gridSize) * pre.gridSize * pre.gridSize;
    if (!o.cohortCache.empty() && std::filesystem::exists(o.cohortCache)) {
      cases = readCohortCache(o.cohortCache, key, voxels);
      if (cases.size() != static_cast<std::size_t>(total)) throw ModelError("cohort cache '" + o.cohortCache + "' has the wrong case count");
      log(fmt("read %.0f cases from the cohort cache (%.1f s): ", total, now() - t0) + o.cohortCache);
    } else {
      cases = generateCohort(o, pre, log);
      if (!o.cohortCache.empty()) {
        writeCohortCache(o.cohortCache, key, cases);
        log(fmt("wrote the cohort cache (%.1f s): ", now() - t0) + o.cohortCache);
      }
    }
    rep.generateSeconds = now() - t0;

    std::vector<int64_t> trainIdx, valIdx;
    for (int i = 0; i < total; ++i) {
      if (!cases[static_cast<std::size_t>(i)].ok) {
        ++rep.skippedOutOfScope;
        if (rep.skippedOutOfScope <= 3) log("case " + std::to_string(i) + " out of scope: " + cases[static_cast<std::size_t>(i)].reason);
        continue;
      }
      (i < o.trainCases ? trainIdx : valIdx).push_back(i);
    }
    if (trainIdx.size() < 2 || valIdx.size() < 2) throw ModelError("too few in-scope cases to train");
    rep.trainCases = static_cast<int>(trainIdx.size());
    rep.valCases = static_cast<int>(valIdx.size());
    log(fmt("cohort ready: %.0f train, %.0f validation, %.0f out of scope, %.1f s", static_cast<double>(rep.trainCases),
            static_cast<double>(rep.valCases), rep.skippedOutOfScope, rep.generateSeconds));

    // ---- vocabulary + tokens ----
    // A warm start keeps the vocabulary of its weights (token ids must mean what they meant).
    detail::LoadedNetwork init;
    Tokenizer tok;
    if (!o.initPath.empty()) {
      init = detail::loadNetwork(o.initPath, torch::Device(torch::kCPU));
      tok = init.tokenizer;
    } else {
      std::vector<std::string> corpus;
      for (int64_t i : trainIdx)
        for (const auto& n : cases[static_cast<std::size_t>(i)].notes) corpus.push_back(n);
      tok = Tokenizer::learn(corpus, 2);
    }
    rep.vocabSize = tok.size();
    if (!o.vocabPath.empty()) {
      std::ofstream vf(o.vocabPath, std::ios::binary);
      vf << tok.toText();
      if (!vf) throw ModelError("cannot write vocabulary '" + o.vocabPath + "'");
    }
    detail::NetConfig cfg;
    cfg.vocabSize = tok.size();
    cfg.dense = o.dense;
    for (auto& c : cases)
      for (const auto& n : c.notes) c.texts.push_back(detail::tokenizeNote(tok, n, cfg.maxTokens));
    log("vocabulary: " + std::to_string(tok.size()) + " tokens, hash " + tok.hash());

    // ---- image cache on the device ----
    const int64_t G = pre.gridSize, vox = G * G * G;
    auto images = torch::zeros({static_cast<int64_t>(total), G, G, G}, torch::kUInt8);
    {
      auto* p = images.data_ptr<std::uint8_t>();
      for (int i = 0; i < total; ++i) {
        auto& c = cases[static_cast<std::size_t>(i)];
        if (c.ok) std::memcpy(p + static_cast<int64_t>(i) * vox, c.image.data(), static_cast<std::size_t>(vox));
        std::vector<std::uint8_t>().swap(c.image);
      }
    }
    images = images.to(dev);

    detail::MedSeekNet net(cfg);
    if (init.net) {
      // Warm start: copy every tensor whose name and shape match; the rest keeps its fresh initialisation.
      torch::NoGradGuard ng;
      auto src = init.net->named_parameters();
      auto srcBuf = init.net->named_buffers();
      int copied = 0, fresh = 0;
      auto copyFrom = [&](torch::OrderedDict<std::string, torch::Tensor>& dst, const torch::OrderedDict<std::string, torch::Tensor>& from) {
        for (auto& d : dst) {
          const auto* s = from.find(d.key());
          if (s && s->sizes() == d.value().sizes()) {
            d.value().copy_(*s);
            ++copied;
          } else {
            ++fresh;
          }
        }
      };
      auto dstP = net->named_parameters();
      auto dstB = net->named_buffers();
      copyFrom(dstP, src);
      copyFrom(dstB, srcBuf);
      log("initialised from " + o.initPath + ": " + std::to_string(copied) + " tensors copied, " + std::to_string(fresh) +
          " fresh");
      init.net = nullptr;
    }
    net->to(dev);
    long long nParams = 0;
    for (const auto& p : net->parameters()) nParams += p.numel();
    log("parameters: " + std::to_string(nParams) + (o.dense ? " (dense FFN)" : " (MoE 8 experts, top-2)"));
    torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
    std::mt19937_64 rng(o.seed);
    std::uniform_real_distribution<double> u(0, 1);
    const int B = o.batchSize;
    const int stepsPerEpoch = std::max(1, static_cast<int>(trainIdx.size()) / B);
    int totalSteps = o.maxSteps > 0 ? std::min(o.maxSteps, stepsPerEpoch * o.epochs) : stepsPerEpoch * o.epochs;
    const int warmup = std::max(1, std::min(stepsPerEpoch, totalSteps / 10));
    detail::ForwardOptions fo;
    fo.autocastCuda = o.mixedPrecision && dev.is_cuda();

    // Targets of every case on the device once; a batch selects its rows (no per-step host work or copies).
    std::vector<int64_t> everyCase(static_cast<std::size_t>(total));
    std::iota(everyCase.begin(), everyCase.end(), 0);
    const TargetTensors allTargets = targetsFor(cases, everyCase, dev);
    auto batchTargets = [&](const std::vector<int64_t>& idx) {
      return selectRows(allTargets, torch::tensor(idx, torch::kLong).to(dev));
    };

    auto makeBatch = [&](const std::vector<int64_t>& idx, bool training, torch::Tensor& imgW, torch::Tensor& txtW) {
      detail::Batch b;
      std::vector<const TextInput*> texts;
      std::vector<uint8_t> ip, tp;
      std::uniform_int_distribution<int> variant(0, o.textVariants);
      for (int64_t i : idx) {
        const auto& c = cases[static_cast<std::size_t>(i)];
        bool img = true, txt = true;
        if (training) {
          const double r = u(rng);
          if (r < o.modalityDropout) img = false;
          else if (r < 2 * o.modalityDropout) txt = false;
        }
        ip.push_back(img);
        tp.push_back(txt);
        texts.push_back(txt ? &c.texts[static_cast<std::size_t>(training ? variant(rng) : 0)] : nullptr);
      }
      fillText(b, texts);
      b.imagePresent = torch::tensor(std::vector<int64_t>(ip.begin(), ip.end())).to(torch::kBool);
      auto idxT = torch::tensor(idx, torch::kLong).to(dev);
      auto img = detail::dequantizeImages(images.index_select(0, idxT)).unsqueeze(1);
      if (training) {
        std::uniform_int_distribution<int> sh(-2, 2);
        img = torch::roll(img, {sh(rng), sh(rng), sh(rng)}, {2, 3, 4});
      }
      b.tokens = b.tokens.to(dev);
      b.tokenValid = b.tokenValid.to(dev);
      b.numberValue = b.numberValue.to(dev);
      b.isNumber = b.isNumber.to(dev);
      b.textPresent = b.textPresent.to(dev);
      b.imagePresent = b.imagePresent.to(dev);
      b.image = img;
      imgW = b.imagePresent.to(torch::kFloat);
      txtW = b.textPresent.to(torch::kFloat);
      return b;
    };

    auto validate = [&](std::vector<double>& logits, std::vector<int>& labels, std::vector<double>& oracle) {
      net->eval();
      torch::NoGradGuard ng;
      logits.clear();
      labels.clear();
      oracle.clear();
      double lossSum = 0;
      for (std::size_t s = 0; s < valIdx.size(); s += static_cast<std::size_t>(B)) {
        std::vector<int64_t> idx(valIdx.begin() + static_cast<std::ptrdiff_t>(s),
                                 valIdx.begin() + static_cast<std::ptrdiff_t>(std::min(valIdx.size(), s + static_cast<std::size_t>(B))));
        torch::Tensor iw, tw;
        auto b = makeBatch(idx, false, iw, tw);
        auto out = net->forward(b, fo);
        auto tg = batchTargets(idx);
        lossSum += computeLoss(out, tg, iw, tw, o.balanceWeight).total.item<double>() * static_cast<double>(idx.size());
        auto lc = out.cancerLogit.to(torch::kCPU).to(torch::kDouble);
        for (std::size_t k = 0; k < idx.size(); ++k) {
          logits.push_back(lc[static_cast<int64_t>(k)].item<double>());
          const auto& t = cases[static_cast<std::size_t>(idx[k])].t;
          labels.push_back(t.cancer ? 1 : 0);
          oracle.push_back(t.oracle);
        }
      }
      net->train();
      return lossSum / static_cast<double>(valIdx.size());
    };

    // ---- epochs ----
    const double tTrain = now();
    int step = 0;
    std::vector<int64_t> order = trainIdx;
    std::vector<double> vl;
    std::vector<int> vlab;
    std::vector<double> vor;
    net->train();
    for (int epoch = 1; epoch <= o.epochs && step < totalSteps; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      // Loss sums stay on the device (no synchronisation per step); read once per epoch.
      auto sums = torch::zeros({5}, torch::TensorOptions().dtype(torch::kFloat).device(dev));
      int n = 0;
      const double te = now();
      for (int s = 0; s + B <= static_cast<int>(order.size()) && step < totalSteps; s += B) {
        const double lr = step < warmup ? o.learningRate * (step + 1) / warmup
                                        : 0.5 * o.learningRate *
                                              (1 + std::cos(M_PI * (step - warmup) / std::max(1, totalSteps - warmup)));
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        std::vector<int64_t> idx(order.begin() + s, order.begin() + s + B);
        torch::Tensor iw, tw;
        auto b = makeBatch(idx, true, iw, tw);
        auto out = net->forward(b, fo);
        auto L = computeLoss(out, batchTargets(idx), iw, tw, o.balanceWeight);
        opt.zero_grad();
        L.total.backward();
        torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
        opt.step();
        ++step;
        ++n;
        sums += torch::stack({L.total, L.cancer, L.image, L.text, L.balance}).detach().to(torch::kFloat);
      }
      const auto hs = sums.to(torch::kCPU);
      const float* hp = hs.data_ptr<float>();
      const double sum = hp[0], sumC = hp[1], sumI = hp[2], sumT = hp[3], sumB = hp[4];
      if (epoch == 1 && o.maxTrainSeconds > 0) {
        const double perEpoch = now() - te;
        const int fit = std::max(1, static_cast<int>(o.maxTrainSeconds / (perEpoch * 1.08)));
        if (fit < o.epochs) {
          totalSteps = std::min(totalSteps, fit * stepsPerEpoch);
          log(fmt("time budget %.0f s at %.1f s per epoch: %.0f epochs", o.maxTrainSeconds, perEpoch, fit));
        }
      }
      const double vloss = validate(vl, vlab, vor);
      log(fmt("epoch %.0f: loss %.4f (cancer %.4f image %.3f text %.3f balance %.3f)", epoch, sum / std::max(1, n),
              sumC / std::max(1, n), sumI / std::max(1, n), sumT / std::max(1, n), sumB / std::max(1, n)) +
          fmt(" | val loss %.4f auc %.4f (oracle %.4f) | %.1f s", vloss, stats::auc(vl, vlab), stats::auc(vor, vlab),
              now() - te));
      if (!o.checkpointDir.empty() && o.checkpointEvery > 0 && epoch % o.checkpointEvery == 0)
        detail::saveNetwork(o.checkpointDir + "/checkpoint-epoch" + std::to_string(epoch) + ".msw", net, tok, 1.0, pre,
                            {{"epoch", std::to_string(epoch)}});
    }
    rep.trainSeconds = now() - tTrain;
    rep.steps = step;

    // ---- temperature scaling on the validation split ----
    validate(vl, vlab, vor);
    rep.valAuc = stats::auc(vl, vlab);
    rep.valOracleAuc = stats::auc(vor, vlab);
    rep.temperature = stats::fitTemperature(vl, vlab);
    rep.valNllBefore = stats::nll(vl, vlab, 1.0);
    rep.valNllAfter = stats::nll(vl, vlab, rep.temperature);
    log(fmt("validation: auc %.4f, oracle %.4f, temperature %.3f (nll %.4f -> %.4f)", rep.valAuc, rep.valOracleAuc,
            rep.temperature, rep.valNllBefore, rep.valNllAfter));
    net->eval();
    std::map<std::string, std::string> meta = {
        {"trained_utc", utcNow()},
        {"train_seed", std::to_string(o.seed)},
        {"train_cases", std::to_string(rep.trainCases)},
        {"val_cases", std::to_string(rep.valCases)},
        {"epochs", std::to_string(std::min(o.epochs, (step + stepsPerEpoch - 1) / stepsPerEpoch))},
        {"steps", std::to_string(step)},
        {"phantom_size", o.size},
        {"phantom_generator_version", std::to_string(phantom::kGeneratorVersion)},
        {"val_auc", fmt("%.4f", rep.valAuc)},
        {"val_oracle_auc", fmt("%.4f", rep.valOracleAuc)},
        {"command", o.command},
        {"intended_use", "research only; not for clinical use"}};
    detail::saveNetwork(o.outputPath, net, tok, rep.temperature, pre, meta);
    log("saved " + o.outputPath);
  } catch (const c10::Error& e) {
    throw ModelError(std::string("training failed: ") + e.what_without_backtrace());
  }
  return rep;
}

}  // namespace multimodal
