// medseek-cli evaluate-explain: faithfulness figures of the explanations on generated held-out cases
// (pointing game, narrative agreement with the truth, weight-randomisation and nodule-removal sanity
// checks, note-attribution checks), and optionally the expert statistics file used by the routing summary.
// LibTorch + phantom only (no DICOM): also built by the torch-only preset.
#include <algorithm>
#include <cctype>
#include <map>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>

#include "Commands.h"
#include "explain/ExpertStats.h"
#include "explain/Explainer.h"
#include "explain/Findings.h"
#include "explain/Narrative.h"
#include "multimodal/Model.h"
#include "phantom/CohortGenerator.h"

namespace cli {
namespace {

struct Args {
  int cases = 20;
  std::uint64_t seed = 9001;
  bool json = false, plusPlus = false, full = false, measureOnly = false;
  std::string weights, device = "cpu", statsOut;
  int statsCases = 0;
  int sanityCases = 10;
  int threads = 0;
  int timeBatch = 1;
  bool cudaGraphs = false, cudnnAutotune = false;
};

double dist(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// Replaces the nodule (ball of its long axis plus spikes and partial volume) by lung parenchyma drawn
// from a shell of lung voxels around it.
imaging::CtVolume removeNodule(const imaging::CtVolume& ct, const phantom::Nodule& n, std::mt19937& rng) {
  imaging::CtVolume out = ct;
  const auto& g = ct.geometry();
  const double r = 0.5 * n.longAxisMm + (n.spiculated ? 0.6 * n.diameterMm + 2.0 : 0.0) + 2.0;
  const double shell = r + 6.0;
  const auto c = g.ijkFromLps(n.centerLps);
  std::vector<int16_t> lung;
  std::vector<std::size_t> inside;
  const int ri = static_cast<int>(std::ceil(shell / g.spacingMm[0])) + 1, rj = static_cast<int>(std::ceil(shell / g.spacingMm[1])) + 1,
            rk = static_cast<int>(std::ceil(shell / g.spacingMm[2])) + 1;
  for (int k = static_cast<int>(c[2]) - rk; k <= static_cast<int>(c[2]) + rk; ++k)
    for (int j = static_cast<int>(c[1]) - rj; j <= static_cast<int>(c[1]) + rj; ++j)
      for (int i = static_cast<int>(c[0]) - ri; i <= static_cast<int>(c[0]) + ri; ++i) {
        if (!ct.contains(i, j, k)) continue;
        const double d = dist(g.lpsFromIjk({double(i), double(j), double(k)}), n.centerLps);
        if (d <= r) inside.push_back(ct.index(i, j, k));
        else if (d <= shell && ct.at(i, j, k) < -600) lung.push_back(ct.at(i, j, k));
      }
  if (lung.empty()) lung.push_back(-850);
  std::uniform_int_distribution<std::size_t> pick(0, lung.size() - 1);
  for (auto idx : inside) out.valuesHu()[idx] = lung[pick(rng)];
  return out;
}

bool mentionsFamily(const std::string& s) {
  std::string l = s;
  for (char& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* w : {"family", "father", "mother", "brother", "sister", "sibling", "parent", "家族", "父", "母", "兄",
                        "弟", "姐", "妹"})
    if (l.find(w) != std::string::npos) return true;
  return false;
}

void run(const Args& a) {
  multimodal::ModelOptions mo;
  mo.device = a.device;
  mo.cpuThreads = a.threads;
  mo.cudnnAutotune = a.cudnnAutotune;
  const std::string weights = a.weights.empty() ? multimodal::Model::defaultPath() : a.weights;
  auto model = multimodal::Model::load(weights, mo);
  explain::ExplainOptions eo;
  eo.gradCamPlusPlus = a.plusPlus;
  explain::Explainer ex(model, eo);
  phantom::PhantomOptions po;
  po.size = a.full ? phantom::SizePreset::Full : phantom::SizePreset::Small;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(a.seed, po);
  const auto t0 = std::chrono::steady_clock::now();

  int n = 0, hitCentroid = 0, hitLastBlock = 0, hitStrict = 0, hit10 = 0, hitCell = 0, measured = 0,
      findingInside = 0;
  int lobeOk = 0, typeOk = 0, diamOk = 0, allOk = 0, narrativeProblems = 0, sentences = 0;
  int sanityN = 0, drops = 0, fhCases = 0, fhValueOk = 0, fhPhraseOk = 0, ageCases = 0, agePhraseOk = 0;
  int negCases = 0, negNotPresent = 0;
  int oracleMeasured = 0, oracleLobe = 0, oracleType = 0, oracleDiam = 0, oracleAll = 0;
  double rhoSum = 0, dropSum = 0, rhoMax = -1;
  double fwdS = 0, camS = 0;
  explain::CamTiming timing;
  std::string camMethod;
  std::mt19937 rng(static_cast<unsigned>(a.seed));
  std::ostringstream perCase;
  for (int idx = 0; n < a.cases && idx < a.cases * 60; ++idx) {
    auto rec = gen.generateRecord(idx);
    if (rec.nodules.size() != 1 || !rec.nodules[0].malignant) continue;
    const auto& nod = rec.nodules[0];
    auto vol = gen.generateVolume(rec);
    auto pre = multimodal::preprocessVolume(vol, model.preprocessOptions());
    if (!pre.inScope) continue;
    // The measurement alone, given a CAM cell-sized region centred on the true nodule (model-independent).
    {
      explain::CamComponent box;
      box.peak = 1;
      box.peakLps = nod.centerLps;
      for (int ax = 0; ax < 3; ++ax) {
        box.minLps[static_cast<std::size_t>(ax)] = nod.centerLps[static_cast<std::size_t>(ax)] - 10;
        box.maxLps[static_cast<std::size_t>(ax)] = nod.centerLps[static_cast<std::size_t>(ax)] + 10;
      }
      auto m = explain::measureNoduleNear(vol, box, {});
      const auto lobe = explain::lobeFromPosition(m.measured ? m.centerLps : nod.centerLps, pre.lungCentroidLps).first;
      oracleMeasured += m.measured;
      oracleLobe += lobe == phantom::toString(nod.lobe);
      oracleType += m.measured && m.type == phantom::toString(nod.type);
      oracleDiam += m.measured && std::abs(m.diameterMm - nod.diameterMm) <= 2.0;
      oracleAll += m.measured && lobe == phantom::toString(nod.lobe) && m.type == phantom::toString(nod.type) &&
                   std::abs(m.diameterMm - nod.diameterMm) <= 2.0;
      if (!a.json)
        std::fprintf(stderr, "  oracle region: %s %s d=%.1f (true %s %s d=%.1f, solid %.1f)\n", m.measured ? m.type.c_str() : "none",
                     lobe.c_str(), m.diameterMm, phantom::toString(nod.type).c_str(), phantom::toString(nod.lobe).c_str(),
                     nod.diameterMm, nod.solidDiameterMm);
    }
    if (a.measureOnly) {
      ++n;
      continue;
    }
    if (n == 0) {
      timing = ex.timeForwardVersusCam(pre, rec.note, 9, a.timeBatch, a.cudaGraphs);
      fwdS = timing.forwardSeconds;
      camS = timing.camSeconds;
    }
    auto e = ex.explain(&vol, &pre, rec.note);
    camMethod = e.heatmap.method;
    ++n;
    // Pointing game on the CT grid.
    const auto& hv = e.heatmap.values;
    const auto it = std::max_element(hv.begin(), hv.end());
    const std::size_t p = static_cast<std::size_t>(it - hv.begin());
    const auto& g = vol.geometry();
    const int pi = static_cast<int>(p % g.size[0]), pj = static_cast<int>((p / g.size[0]) % g.size[1]),
              pk = static_cast<int>(p / (static_cast<std::size_t>(g.size[0]) * g.size[1]));
    const auto peak = g.lpsFromIjk({double(pi), double(pj), double(pk)});
    const double d = dist(peak, nod.centerLps);
    hitStrict += d <= 0.5 * nod.diameterMm ? 1 : 0;
    hit10 += d <= 10.0 ? 1 : 0;
    hitCell += d <= e.heatmap.cellSpacingMm ? 1 : 0;
    // Sub-cell localisation from the CAM alone (CAM-weighted centroid around the peak cell), beside the
    // raw peak above; not a redefinition of the pointing game.
    const auto centroid = explain::camCentroidNearPeak(e.heatmap.cellValues, e.heatmap.cells, e.heatmap.cellSpacingMm,
                                                       e.heatmap.cellOriginLps);
    hitCentroid += dist(centroid, nod.centerLps) <= 0.5 * nod.diameterMm ? 1 : 0;
    // For comparison: the last block's Grad-CAM alone (16^3, 20 mm cells), its maximal cell's centre (where
    // a trilinear map of it peaks) - the heatmap before block1's LayerCAM refined it.
    {
      const auto& lv = e.heatmap.lastBlockCellValues;
      const int ln = e.heatmap.lastBlockCells;
      if (ln > 0 && lv.size() == static_cast<std::size_t>(ln) * ln * ln) {
        const int q = static_cast<int>(std::max_element(lv.begin(), lv.end()) - lv.begin());
        const int qi[3] = {q % ln, (q / ln) % ln, q / (ln * ln)};
        std::array<double, 3> lp{};
        for (int ax = 0; ax < 3; ++ax)
          lp[static_cast<std::size_t>(ax)] = e.heatmap.lastBlockCellOriginLps[static_cast<std::size_t>(ax)] +
                                             qi[ax] * e.heatmap.lastBlockCellSpacingMm;
        hitLastBlock += dist(lp, nod.centerLps) <= 0.5 * nod.diameterMm ? 1 : 0;
      }
    }
    const explain::Finding* f = e.findings.empty() ? nullptr : &e.findings[0];
    if (f && f->measured) {
      ++measured;
      findingInside += dist(f->centerLps, nod.centerLps) <= 0.5 * nod.diameterMm ? 1 : 0;
    }
    const bool lo = f && f->lobe == phantom::toString(nod.lobe);
    const bool ty = f && f->measured && f->type == phantom::toString(nod.type);
    const bool di = f && f->measured && std::abs(f->diameterMm - nod.diameterMm) <= 2.0;
    lobeOk += lo;
    typeOk += ty;
    diamOk += di;
    allOk += lo && ty && di;
    sentences += static_cast<int>(e.narrative.size());
    narrativeProblems += static_cast<int>(explain::checkNarrative(e).size());
    // Note attribution checks.
    for (const auto& rf : e.recordFactors) {
      if (rf.name == "family_history") {
        if (rec.record.familyHistory) {
          ++fhCases;
          fhValueOk += rf.value == "yes";
          fhPhraseOk += mentionsFamily(rf.evidencePhrase) && !rf.evidenceNegated;
        } else {
          ++negCases;
          negNotPresent += rf.value == "no";
        }
      }
      if (rf.name == "age") {
        ++ageCases;
        agePhraseOk += rf.evidencePhrase.find(std::to_string(rec.record.ageYears)) != std::string::npos;
      }
    }
    double rho = std::nan(""), drop = std::nan("");
    if (sanityN < a.sanityCases) {
      ++sanityN;
      auto trained = ex.camOnly(pre, rec.note, false);
      auto random = ex.camOnly(pre, rec.note, true, 1234);
      rho = explain::spearman(trained.camCells, random.camCells);
      rhoSum += rho;
      rhoMax = std::max(rhoMax, rho);
      auto removed = removeNodule(vol, nod, rng);
      auto pre2 = multimodal::preprocessVolume(removed, model.preprocessOptions());
      const double after = ex.score(pre2, rec.note);
      drop = e.probability - after;
      dropSum += drop;
      drops += drop > 0 ? 1 : 0;
    }
    char line[600];
    std::snprintf(line, sizeof line,
                  "case %d: p=%.3f peak_dist=%.1f mm (d=%.1f) finding=%s lobe %s/%s type %s/%s diam %.1f/%.1f rho=%.2f drop=%.3f "
                  "lung centroid %.1f %.1f %.1f",
                  idx, e.probability, d, nod.diameterMm, f && f->measured ? "measured" : "none", f ? f->lobe.c_str() : "-",
                  phantom::toString(nod.lobe).c_str(), f ? f->type.c_str() : "-", phantom::toString(nod.type).c_str(),
                  f ? f->diameterMm : 0.0, nod.diameterMm, rho, drop, pre.lungCentroidLps[0], pre.lungCentroidLps[1],
                  pre.lungCentroidLps[2]);
    perCase << line << "\n";
    if (!a.json) std::cerr << line << "\n";
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto pc = [](int k, int m) { return m ? 100.0 * k / m : std::nan(""); };

  // Expert statistics over a general generated cohort (all cases, any nodules).
  if (!a.statsOut.empty()) {
    explain::ExpertStatistics st;
    const int total = a.statsCases > 0 ? a.statsCases : 4 * a.cases;
    st.cohort = "seed " + std::to_string(a.seed + 1) + ", " + std::to_string(total) + " generated cases (" +
                (a.full ? "full" : "small") + " volumes, mixed languages)";
    st.modelSha256 = explain::sha256File(weights);
    st.totalCases = total;
    phantom::CohortGenerator sgen(a.seed + 1, po);
    std::map<int, std::array<double, 12>> acc;  // cases, weight, cancer, nodule, zh, imgShare, diamSum, diamN, solid, part, non
    for (int i = 0; i < total; ++i) {
      auto c = sgen.generate(i);
      multimodal::CaseInput in;
      in.volume = &c.volume;
      in.note = c.note;
      auto pr = model.predict(in);
      if (pr.outOfScope) continue;
      const phantom::Nodule* big = nullptr;
      for (const auto& nn : c.nodules)
        if (!big || nn.diameterMm > big->diameterMm) big = &nn;
      for (const auto& ch : pr.topExperts) {
        auto& v = acc[ch.expert];
        v[0] += 1;
        v[1] += ch.weight;
        v[2] += c.cancer;
        v[3] += big != nullptr;
        v[4] += c.noteLanguage == phantom::Language::Chinese;
        v[5] += pr.imageShare;
        if (big) {
          v[6] += big->diameterMm;
          v[7] += 1;
          v[8] += big->type == clinical::NoduleType::Solid;
          v[9] += big->type == clinical::NoduleType::PartSolid;
          v[10] += big->type == clinical::NoduleType::NonSolid;
        }
      }
    }
    for (const auto& [id, v] : acc) {
      explain::ExpertProfile p;
      p.expert = id;
      p.cases = static_cast<int>(v[0]);
      p.meanWeight = v[1] / v[0];
      p.shareCancer = v[2] / v[0];
      p.shareWithNodule = v[3] / v[0];
      p.shareChinese = v[4] / v[0];
      p.meanImageShare = v[5] / v[0];
      p.meanDiameterMm = v[7] > 0 ? v[6] / v[7] : 0;
      p.shareSolid = v[7] > 0 ? v[8] / v[7] : 0;
      p.sharePartSolid = v[7] > 0 ? v[9] / v[7] : 0;
      p.shareNonSolid = v[7] > 0 ? v[10] / v[7] : 0;
      st.experts[id] = p;
    }
    explain::summarise(st);
    std::ofstream o(a.statsOut, std::ios::binary);
    if (!o) throw UsageError("cannot write '" + a.statsOut + "'");
    o << explain::toJson(st);
    std::cerr << "expert statistics written to " << a.statsOut << " (" << total << " cases)\n";
  }

  char buf[6400];
  std::snprintf(buf, sizeof buf,
                "{\n  \"weights\": \"%s\",\n  \"seed\": %llu,\n  \"size\": \"%s\",\n  \"cam\": \"%s\",\n  \"cases\": %d,\n"
                "  \"pointing_game_inside_nodule_pct\": %.1f,\n  \"pointing_game_within_10mm_pct\": %.1f,\n"
                "  \"pointing_game_within_one_cell_pct\": %.1f,\n  \"pointing_game_cam_centroid_inside_nodule_pct\": %.1f,\n"
                "  \"pointing_game_last_block_gradcam_alone_inside_nodule_pct\": %.1f,\n"
                "  \"culprit_measured_pct\": %.1f,\n"
                "  \"culprit_finding_inside_nodule_pct\": %.1f,\n  \"narrative_lobe_match_pct\": %.1f,\n"
                "  \"narrative_type_match_pct\": %.1f,\n  \"narrative_diameter_within_2mm_pct\": %.1f,\n"
                "  \"narrative_all_three_pct\": %.1f,\n"
                "  \"measurement_in_true_region_measured_pct\": %.1f,\n  \"measurement_in_true_region_lobe_pct\": %.1f,\n"
                "  \"measurement_in_true_region_type_pct\": %.1f,\n  \"measurement_in_true_region_diameter_2mm_pct\": %.1f,\n"
                "  \"measurement_in_true_region_all_three_pct\": %.1f,\n  \"narrative_sentences\": %d,\n  \"narrative_check_problems\": %d,\n"
                "  \"sanity_cases\": %d,\n  \"randomised_weights_cam_spearman_mean\": %.3f,\n"
                "  \"randomised_weights_cam_spearman_max\": %.3f,\n  \"nodule_removal_score_drop_mean\": %.4f,\n"
                "  \"nodule_removal_score_dropped_pct\": %.1f,\n  \"family_history_cases\": %d,\n"
                "  \"family_history_read_yes_pct\": %.1f,\n  \"family_history_phrase_states_it_pct\": %.1f,\n"
                "  \"no_family_history_cases\": %d,\n  \"no_family_history_read_no_pct\": %.1f,\n"
                "  \"age_phrase_holds_age_pct\": %.1f,\n  \"forward_seconds\": %.6f,\n  \"gradcam_seconds\": %.6f,\n"
                "  \"gradcam_over_forward\": %.3f,\n  \"timing_batch\": %d,\n  \"timing_cuda_graphs\": %s,\n"
                "  \"timing_cudnn_autotune\": %s,\n  \"gradcam_part_forward_seconds\": %.6f,\n"
                "  \"gradcam_part_gradients_seconds\": %.6f,\n  \"gradcam_part_maps_seconds\": %.6f,\n"
                "  \"last_block_gradient_alone_seconds\": %.6f,\n"
                "  \"seconds\": %.1f\n}\n",
                weights.c_str(), static_cast<unsigned long long>(a.seed), a.full ? "full" : "small",
                camMethod.c_str(), n, pc(hitStrict, n), pc(hit10, n), pc(hitCell, n), pc(hitCentroid, n),
                pc(hitLastBlock, n), pc(measured, n),
                pc(findingInside, n), pc(lobeOk, n), pc(typeOk, n), pc(diamOk, n), pc(allOk, n), pc(oracleMeasured, n), pc(oracleLobe, n),
                pc(oracleType, n), pc(oracleDiam, n), pc(oracleAll, n), sentences,
                narrativeProblems, sanityN, sanityN ? rhoSum / sanityN : std::nan(""), sanityN ? rhoMax : std::nan(""),
                sanityN ? dropSum / sanityN : std::nan(""), pc(drops, sanityN), fhCases, pc(fhValueOk, fhCases),
                pc(fhPhraseOk, fhCases), negCases, pc(negNotPresent, negCases), pc(agePhraseOk, ageCases), fwdS, camS,
                fwdS > 0 ? camS / fwdS : std::nan(""), a.timeBatch, a.cudaGraphs ? "true" : "false",
                a.cudnnAutotune ? "true" : "false", timing.camForwardSeconds, timing.camGradientSeconds,
                timing.camMapSeconds, timing.lastBlockGradientSeconds, secs);
  // A figure with no cases behind it (e.g. the sanity checks with --sanity-cases 0) is NaN, which JSON
  // cannot hold: it is written as null.
  std::cout << std::regex_replace(std::string(buf), std::regex(R"(: -?(nan|inf)\b)"), ": null");
  (void)perCase;
}

}  // namespace

void addEvaluateExplainCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<Args>();
  auto* c = app.add_subcommand("evaluate-explain",
                               "Faithfulness of the explanations on generated held-out cases with one malignant nodule");
  c->add_option("--generate", args->cases, "number of evaluated cases")->check(CLI::Range(1, 100000));
  c->add_option("--seed", args->seed, "cohort seed (use one the model was not trained on)");
  c->add_option("--weights", args->weights, "model weights (.msw); default: the shipped model");
  c->add_option("--device", args->device, "cpu | cuda | auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  c->add_option("--sanity-cases", args->sanityCases, "cases that also get the randomisation and removal checks");
  c->add_option("--threads", args->threads, "CPU threads (0: LibTorch default)");
  c->add_option("--time-batch", args->timeBatch,
                "cases per batch when timing a forward against the Grad-CAM pass (the first case repeated)")
      ->check(CLI::Range(1, 256));
  c->add_flag("--cuda-graphs", args->cudaGraphs,
              "time the forward and the Grad-CAM pass as CUDA graph replays (GPU work without launch cost)");
  c->add_flag("--cudnn-autotune", args->cudnnAutotune,
              "let cuDNN time its convolution algorithms per shape and keep the fastest (model on CUDA)");
  c->add_option("--write-expert-stats", args->statsOut, "also compute routing statistics and write them (JSON)");
  c->add_option("--stats-cases", args->statsCases, "cases for the expert statistics (default 4 x --generate)");
  c->add_flag("--plusplus", args->plusPlus, "Grad-CAM++ instead of Grad-CAM");
  c->add_flag("--measure-only", args->measureOnly, "only the CT measurement inside a region around the true nodule (no model)");
  c->add_flag("--full", args->full, "full-size volumes (slow on CPU)");
  c->add_flag("--json", args->json, "print only the JSON figures (per-case lines go to stderr otherwise)");
  c->callback([args, &ctx] {
    run(*args);
    ctx.exitCode = 0;
  });
}

}  // namespace cli
