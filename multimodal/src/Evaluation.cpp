#include "multimodal/Evaluation.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include "CaseTargets.h"
#include "MiniJson.h"
#include "Stats.h"
#include "multimodal/Model.h"
#include "phantom/CohortGenerator.h"

namespace multimodal {
namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
std::string f4(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}
}  // namespace

EvalReport evaluate(const EvalOptions& o) {
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  if (o.size != "small" && o.size != "full") throw ModelError("unknown phantom size '" + o.size + "' (small or full)");
  if (o.cases < 2) throw ModelError("evaluation needs at least 2 cases");
  const double t0 = now();
  ModelOptions mo;
  mo.device = o.device;
  mo.maxBatch = o.batch;
  Model model = Model::load(o.weightsPath, mo);
  EvalReport r;
  r.weightsPath = o.weightsPath;
  r.size = o.size;
  r.device = model.info().device;
  r.seed = o.seed;
  if (model.info().metadata.count("train_seed") && model.info().metadata.at("train_seed") == std::to_string(o.seed))
    log("warning: evaluation seed equals the training seed (not a held-out cohort)");

  phantom::PhantomOptions po;
  po.language = phantom::LanguageMix::Mixed;
  po.size = o.size == "full" ? phantom::SizePreset::Full : phantom::SizePreset::Small;
  phantom::CohortGenerator gen(o.seed, po);
  PreprocessOptions pre = model.preprocessOptions();
  pre.threads = 1;

  struct Item {
    internal::CaseTargets t;
    std::string note;
    PreprocessedVolume pre;
    Prediction fused, image, text;
  };
  std::vector<Item> items(static_cast<std::size_t>(o.cases));
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Generate + preprocess in chunks (bounded memory), then predict the chunk in batches.
  const int chunk = std::max(64, o.batch * 4);
  double preSeconds = 0, modelSeconds = 0;
  for (int c0 = 0; c0 < o.cases; c0 += chunk) {
    const int c1 = std::min(o.cases, c0 + chunk);
    internal::parallelIndices(c0, c1, threads, [&](int i) {
      auto c = gen.generate(i);
      auto& it = items[static_cast<std::size_t>(i)];
      it.t = internal::targetsOf(c);
      it.note = c.note;
      it.pre = preprocessVolume(c.volume, pre);
    });
    std::vector<CaseInput> fused, image, text;
    for (int i = c0; i < c1; ++i) {
      auto& it = items[static_cast<std::size_t>(i)];
      preSeconds += it.pre.seconds;
      CaseInput in;
      in.preprocessed = &it.pre;
      in.note = it.note;
      fused.push_back(in);
      in.note.clear();
      image.push_back(in);
      CaseInput tx;
      tx.note = it.note;
      text.push_back(tx);
    }
    const double tm = now();
    auto pf = model.predict(fused);
    modelSeconds += now() - tm;
    auto pi = model.predict(image);
    auto pt = model.predict(text);
    for (int i = c0; i < c1; ++i) {
      auto& it = items[static_cast<std::size_t>(i)];
      it.fused = pf[static_cast<std::size_t>(i - c0)];
      it.image = pi[static_cast<std::size_t>(i - c0)];
      it.text = pt[static_cast<std::size_t>(i - c0)];
      it.pre.values.clear();
      it.pre.values.shrink_to_fit();
    }
    log("evaluated " + std::to_string(c1) + " / " + std::to_string(o.cases) + " cases");
  }

  // ---- metrics ----
  std::vector<double> sf, si, st, so;
  std::vector<int> lab;
  std::vector<double> sfEn, soEn, sfZh, soZh;
  std::vector<int> labEn, labZh;
  int nod = 0, nodCorrect = 0, typeOk = 0, lobeOk = 0, spicOk = 0, withNod = 0, emphOk = 0, countOk = 0;
  double diamErr = 0;
  int ageOk = 0, sexOk = 0, fhOk = 0, smOk = 0, prOk = 0;
  double ageErr = 0;
  int factorOkEn = 0, factorOkZh = 0;
  r.expertLoad.assign(8, 0.0);
  double shareSum = 0;
  for (const auto& it : items) {
    if (it.fused.outOfScope) {
      ++r.outOfScope;
      continue;
    }
    const auto& t = it.t;
    ++r.n;
    r.positives += t.cancer;
    sf.push_back(it.fused.probability);
    si.push_back(it.image.probability);
    st.push_back(it.text.probability);
    so.push_back(t.oracle);
    lab.push_back(t.cancer);
    (t.chinese ? sfZh : sfEn).push_back(it.fused.probability);
    (t.chinese ? soZh : soEn).push_back(t.oracle);
    (t.chinese ? labZh : labEn).push_back(t.cancer);
    const auto& im = it.fused.image;
    ++nod;
    nodCorrect += (im.noduleProbability > 0.5) == t.nodule;
    emphOk += (im.emphysemaProbability > 0.5) == t.emphysema;
    countOk += im.noduleCount == t.count;
    if (t.nodule) {
      ++withNod;
      diamErr += std::abs(im.diameterMm - t.diameterMm);
      static const char* types[3] = {"solid", "part_solid", "non_solid"};
      static const char* lobes[5] = {"RUL", "RML", "RLL", "LUL", "LLL"};
      typeOk += im.type == types[t.type];
      lobeOk += im.lobe == lobes[t.lobe];
      spicOk += (im.spiculationProbability > 0.5) == t.spiculated;
    }
    const auto& nf = it.fused.note;
    static const char* smoking[3] = {"never", "former", "current"};
    const bool a = std::abs(nf.ageYears - t.age) <= 1.0, s = (nf.femaleProbability > 0.5) == t.female,
               f = (nf.familyHistoryProbability > 0.5) == t.familyHistory, m = nf.smoking == smoking[t.smoking],
               p = (nf.priorCancerProbability > 0.5) == t.priorCancer;
    ageOk += a;
    ageErr += std::abs(nf.ageYears - t.age);
    sexOk += s;
    fhOk += f;
    smOk += m;
    prOk += p;
    (t.chinese ? factorOkZh : factorOkEn) += a + s + f + m + p;
    for (const auto& e : it.fused.topExperts)
      if (e.expert >= 0 && e.expert < 8) r.expertLoad[static_cast<std::size_t>(e.expert)] += e.weight;
    shareSum += it.fused.imageShare;
  }
  if (r.n == 0) throw ModelError("every evaluated case was out of scope");
  const double n = r.n;
  r.auc = stats::auc(sf, lab);
  std::tie(r.aucLo, r.aucHi) = stats::aucBootstrapCi(sf, lab, 1000, o.seed);
  r.oracleAuc = stats::auc(so, lab);
  std::tie(r.oracleLo, r.oracleHi) = stats::aucBootstrapCi(so, lab, 1000, o.seed);
  r.aucImageOnly = stats::auc(si, lab);
  r.aucTextOnly = stats::auc(st, lab);
  // ECE over 10 equal-width bins + Brier
  for (int b = 0; b < 10; ++b) r.reliability.push_back({b / 10.0, (b + 1) / 10.0, 0, 0, 0});
  for (std::size_t i = 0; i < sf.size(); ++i) {
    const int b = std::min(9, static_cast<int>(sf[i] * 10));
    auto& bin = r.reliability[static_cast<std::size_t>(b)];
    ++bin.n;
    bin.meanPredicted += sf[i];
    bin.observedRate += lab[i];
    r.brier += (sf[i] - lab[i]) * (sf[i] - lab[i]);
  }
  for (auto& bin : r.reliability)
    if (bin.n) {
      bin.meanPredicted /= bin.n;
      bin.observedRate /= bin.n;
      r.ece += bin.n / n * std::abs(bin.meanPredicted - bin.observedRate);
    }
  r.brier /= n;
  r.noduleAccuracy = nodCorrect / std::max(1.0, static_cast<double>(nod));
  r.emphysemaAccuracy = emphOk / n;
  r.countAccuracy = countOk / n;
  r.diameterMaeMm = withNod ? diamErr / withNod : 0;
  r.typeAccuracy = withNod ? static_cast<double>(typeOk) / withNod : 0;
  r.lobeAccuracy = withNod ? static_cast<double>(lobeOk) / withNod : 0;
  r.spiculationAccuracy = withNod ? static_cast<double>(spicOk) / withNod : 0;
  r.ageAccuracy = ageOk / n;
  r.ageMae = ageErr / n;
  r.sexAccuracy = sexOk / n;
  r.familyHistoryAccuracy = fhOk / n;
  r.smokingAccuracy = smOk / n;
  r.priorCancerAccuracy = prOk / n;
  r.factorAccuracy = (r.ageAccuracy + r.sexAccuracy + r.familyHistoryAccuracy + r.smokingAccuracy + r.priorCancerAccuracy) / 5;
  double loadSum = 0;
  for (double v : r.expertLoad) loadSum += v;
  if (loadSum > 0) {
    double mean = 0, var = 0;
    for (double& v : r.expertLoad) v /= loadSum;
    for (double v : r.expertLoad) mean += v / 8;
    for (double v : r.expertLoad) var += (v - mean) * (v - mean) / 8;
    r.expertLoadCv = std::sqrt(var) / mean;
  }
  r.meanImageShare = shareSum / n;
  r.english = {static_cast<int>(labEn.size()), stats::auc(sfEn, labEn), stats::auc(soEn, labEn),
               labEn.empty() ? 0 : factorOkEn / (5.0 * labEn.size())};
  r.chinese = {static_cast<int>(labZh.size()), stats::auc(sfZh, labZh), stats::auc(soZh, labZh),
               labZh.empty() ? 0 : factorOkZh / (5.0 * labZh.size())};
  r.preprocessSecondsPerCase = preSeconds / o.cases;
  r.modelSecondsPerCase = modelSeconds / n;
  r.seconds = now() - t0;
  return r;
}

std::string EvalReport::toJson() const {
  std::ostringstream s;
  s << "{\n";
  s << "  \"n\": " << n << ",\n  \"out_of_scope\": " << outOfScope << ",\n  \"positives\": " << positives << ",\n";
  s << "  \"auc\": " << f4(auc) << ",\n  \"auc_ci95\": [" << f4(aucLo) << ", " << f4(aucHi) << "],\n";
  s << "  \"oracle_auc\": " << f4(oracleAuc) << ",\n  \"oracle_auc_ci95\": [" << f4(oracleLo) << ", " << f4(oracleHi) << "],\n";
  s << "  \"auc_image_only\": " << f4(aucImageOnly) << ",\n  \"auc_text_only\": " << f4(aucTextOnly) << ",\n";
  s << "  \"ece\": " << f4(ece) << ",\n  \"brier\": " << f4(brier) << ",\n  \"reliability\": [";
  for (std::size_t i = 0; i < reliability.size(); ++i) {
    const auto& b = reliability[i];
    s << (i ? ", " : "") << "{\"lo\": " << f4(b.lo) << ", \"hi\": " << f4(b.hi) << ", \"n\": " << b.n
      << ", \"mean_predicted\": " << f4(b.meanPredicted) << ", \"observed\": " << f4(b.observedRate) << "}";
  }
  s << "],\n";
  s << "  \"factor_accuracy\": " << f4(factorAccuracy) << ",\n  \"factors\": {\"age_within_1y\": " << f4(ageAccuracy)
    << ", \"age_mae_years\": " << f4(ageMae) << ", \"sex\": " << f4(sexAccuracy) << ", \"family_history\": "
    << f4(familyHistoryAccuracy) << ", \"smoking\": " << f4(smokingAccuracy) << ", \"prior_cancer\": "
    << f4(priorCancerAccuracy) << "},\n";
  s << "  \"aux\": {\"nodule_present\": " << f4(noduleAccuracy) << ", \"diameter_mae_mm\": " << f4(diameterMaeMm)
    << ", \"type\": " << f4(typeAccuracy) << ", \"lobe\": " << f4(lobeAccuracy) << ", \"spiculation\": "
    << f4(spiculationAccuracy) << ", \"emphysema\": " << f4(emphysemaAccuracy) << ", \"count\": " << f4(countAccuracy)
    << "},\n";
  s << "  \"expert_load\": [";
  for (std::size_t i = 0; i < expertLoad.size(); ++i) s << (i ? ", " : "") << f4(expertLoad[i]);
  s << "],\n  \"expert_load_cv\": " << f4(expertLoadCv) << ",\n  \"mean_image_share\": " << f4(meanImageShare) << ",\n";
  s << "  \"english\": {\"n\": " << english.n << ", \"auc\": " << f4(english.auc) << ", \"oracle_auc\": "
    << f4(english.oracleAuc) << ", \"factor_accuracy\": " << f4(english.factorAccuracy) << "},\n";
  s << "  \"chinese\": {\"n\": " << chinese.n << ", \"auc\": " << f4(chinese.auc) << ", \"oracle_auc\": "
    << f4(chinese.oracleAuc) << ", \"factor_accuracy\": " << f4(chinese.factorAccuracy) << "},\n";
  s << "  \"preprocess_seconds_per_case\": " << f4(preprocessSecondsPerCase) << ",\n  \"model_seconds_per_case\": "
    << f4(modelSecondsPerCase) << ",\n  \"seconds\": " << f4(seconds) << ",\n";
  s << "  \"weights\": " << json::quote(weightsPath) << ",\n  \"size\": " << json::quote(size) << ",\n  \"device\": "
    << json::quote(device) << ",\n  \"seed\": " << seed << "\n}\n";
  return s.str();
}

std::string EvalReport::toText() const {
  std::ostringstream s;
  char b[256];
  std::snprintf(b, sizeof b, "n %d (%d positive, %d out of scope), size %s, seed %llu, device %s\n", n, positives,
                outOfScope, size.c_str(), static_cast<unsigned long long>(seed), device.c_str());
  s << b;
  std::snprintf(b, sizeof b, "AUC fusion %.4f [%.4f, %.4f]   oracle (Brock, true features) %.4f [%.4f, %.4f]\n", auc,
                aucLo, aucHi, oracleAuc, oracleLo, oracleHi);
  s << b;
  std::snprintf(b, sizeof b, "AUC image only %.4f   text only %.4f   ECE %.4f   Brier %.4f\n", aucImageOnly,
                aucTextOnly, ece, brier);
  s << b;
  s << "reliability (bin: n, mean predicted, observed):\n";
  for (const auto& r : reliability)
    if (r.n) {
      std::snprintf(b, sizeof b, "  %.1f-%.1f: %4d  %.3f  %.3f\n", r.lo, r.hi, r.n, r.meanPredicted, r.observedRate);
      s << b;
    }
  std::snprintf(b, sizeof b,
                "note factors %.4f (age<=1y %.4f, MAE %.2f y; sex %.4f; family history %.4f; smoking %.4f; prior "
                "cancer %.4f)\n",
                factorAccuracy, ageAccuracy, ageMae, sexAccuracy, familyHistoryAccuracy, smokingAccuracy,
                priorCancerAccuracy);
  s << b;
  std::snprintf(b, sizeof b,
                "image aux: nodule %.4f, diameter MAE %.2f mm, type %.4f, lobe %.4f, spiculation %.4f, emphysema "
                "%.4f, count %.4f\n",
                noduleAccuracy, diameterMaeMm, typeAccuracy, lobeAccuracy, spiculationAccuracy, emphysemaAccuracy,
                countAccuracy);
  s << b;
  s << "expert load:";
  for (double v : expertLoad) {
    std::snprintf(b, sizeof b, " %.3f", v);
    s << b;
  }
  std::snprintf(b, sizeof b, " (CV %.3f); mean image share %.3f\n", expertLoadCv, meanImageShare);
  s << b;
  std::snprintf(b, sizeof b, "English n %d AUC %.4f (oracle %.4f) factors %.4f | Chinese n %d AUC %.4f (oracle %.4f) factors %.4f\n",
                english.n, english.auc, english.oracleAuc, english.factorAccuracy, chinese.n, chinese.auc,
                chinese.oracleAuc, chinese.factorAccuracy);
  s << b;
  std::snprintf(b, sizeof b, "preprocess %.3f s/case, model %.4f s/case, total %.1f s\n", preprocessSecondsPerCase,
                modelSecondsPerCase, seconds);
  s << b;
  return s.str();
}

}  // namespace multimodal
