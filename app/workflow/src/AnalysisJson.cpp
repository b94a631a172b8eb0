#include "workflow/AnalysisJson.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace workflow {
namespace {
using nlohmann::json;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json lps(const std::array<double, 3>& p) { return json::array({p[0], p[1], p[2]}); }
json span(const explain::NoteSpan& s) {
  return {{"text", s.text}, {"begin", s.begin}, {"end", s.end}, {"score", s.score}, {"negated", s.negated}};
}
}  // namespace

std::string analysisToJson(const AnalysisResult& r, int indent) {
  const auto& e = r.explanation;
  json j;
  j["study_path"] = r.study.path;
  j["series_uid"] = r.study.seriesInstanceUid;
  j["study_uid"] = r.study.studyInstanceUid;
  j["patient_id"] = r.study.patientId;
  j["model_path"] = r.modelPath;
  j["model_version"] = r.modelVersion;
  j["model_sha256"] = r.modelSha256;
  j["note_source"] = r.note.source;
  j["used_image"] = e.usedImage;
  j["used_note"] = e.usedNote;
  j["out_of_scope"] = e.outOfScope;
  if (e.outOfScope) j["out_of_scope_reason"] = e.outOfScopeReason;
  j["probability"] = num(e.probability);
  j["logit"] = num(e.logit);
  j["modality_share"] = {{"image", e.routing.imageShare}, {"note", e.routing.textShare}};
  json ex = json::array();
  for (const auto& x : e.routing.experts)
    ex.push_back({{"expert", x.expert}, {"weight", x.weight}, {"specialty", x.specialty}});
  j["experts"] = ex;
  j["expert_statistics_source"] = e.routing.statisticsAvailable ? json(e.routing.statisticsSource) : json(nullptr);
  if (e.lungRadsCategory.empty()) {
    j["lung_rads"] = nullptr;
  } else {
    j["lung_rads"] = {{"category", e.lungRadsCategory}, {"management", e.lungRadsManagement}, {"basis", e.lungRadsBasis}};
  }
  j["brock_probability"] = e.brock.computed ? num(e.brock.probability) : json(nullptr);
  if (e.brock.computed) {
    j["brock_inputs"] = {{"age", e.brock.ageYears}, {"female", e.brock.female}, {"family_history", e.brock.familyHistory},
                         {"emphysema", e.brock.emphysema}, {"diameter_mm", e.brock.diameterMm}, {"type", e.brock.type},
                         {"upper_lobe", e.brock.upperLobe}, {"nodule_count", e.brock.noduleCount},
                         {"spiculation", e.brock.spiculated}};
  } else {
    j["brock_reason"] = e.brock.reason;
  }
  json rf = json::object();
  for (const auto& f : e.recordFactors) {
    json v = {{"value", f.value}, {"confidence", f.probability}};
    if (!f.evidencePhrase.empty())
      v["evidence"] = {{"phrase", f.evidencePhrase}, {"begin", f.evidenceBegin}, {"end", f.evidenceEnd},
                       {"negated", f.evidenceNegated}};
    rf[f.name] = v;
  }
  j["record_factors"] = e.usedNote ? rf : json(nullptr);
  json fs = json::array();
  for (const auto& f : e.findings) {
    json x = {{"rank", f.rank},
              {"measured", f.measured},
              {"center_lps_mm", lps(f.centerLps)},
              {"slice_range", json::array({f.sliceFirst, f.sliceLast})},
              {"lobe", f.lobe},
              {"lobe_rule", f.lobeRule},
              {"fissure_distance_mm", f.fissureDistanceMm},
              {"cam_peak", f.camPeak},
              {"cam_peak_lps_mm", lps(f.camPeakLps)},
              {"cam_region_ml", f.camRegionMl}};
    if (f.measured) {
      x["diameter_mm"] = f.diameterMm;
      x["long_axis_mm"] = f.longAxisMm;
      x["short_axis_mm"] = f.shortAxisMm;
      x["solid_diameter_mm"] = f.solidDiameterMm;
      x["volume_ml"] = f.volumeMl;
      x["mean_hu"] = f.meanHu;
      x["solid_fraction"] = f.solidFraction;
      x["type"] = f.type;
      x["cam_inside_nodule"] = f.camInsideNodule;
    } else {
      x["diameter_mm"] = nullptr;
      x["type"] = nullptr;
    }
    if (!f.headType.empty())
      x["model_heads"] = {{"type", f.headType}, {"lobe", f.headLobe}, {"diameter_mm", f.headDiameterMm},
                          {"type_agrees", f.typeAgrees}, {"lobe_agrees", f.lobeAgrees}, {"diameter_agrees", f.diameterAgrees}};
    fs.push_back(x);
  }
  j["findings"] = fs;
  if (e.usedImage)
    j["image_heads"] = {{"nodule_probability", e.headNoduleProbability}, {"spiculation_probability", e.headSpiculationProbability},
                        {"emphysema_probability", e.headEmphysemaProbability}, {"nodule_count", e.headNoduleCount}};
  j["heatmap"] = {{"method", e.heatmap.method}, {"cells", e.heatmap.cells}, {"cell_spacing_mm", e.heatmap.cellSpacingMm},
                  {"raw_max", e.heatmap.rawMax}, {"on_ct_grid", !e.heatmap.values.empty()}};
  json na = json::object();
  if (e.usedNote) {
    json w = json::array(), p = json::array();
    for (const auto& s : e.note.words) w.push_back(span(s));
    for (const auto& s : e.note.phrases) p.push_back(span(s));
    na = {{"method", e.note.method}, {"words", w}, {"phrases", p}, {"truncated", e.note.truncated}};
  }
  j["note_attributions"] = e.usedNote ? na : json(nullptr);
  j["narrative"] = e.narrativeText();
  json sent = json::array();
  for (const auto& s : e.narrative) {
    json facts = json::object();
    for (const auto& [k, v] : s.facts) facts[k] = v;
    sent.push_back({{"text", s.text}, {"facts", facts}});
  }
  j["narrative_sentences"] = sent;
  j["language"] = e.language;
  j["warnings"] = e.warnings;
  j["seconds"] = {{"load", r.loadSeconds}, {"preprocess", e.preprocessSeconds}, {"forward", e.forwardSeconds},
                  {"gradcam", e.camSeconds}, {"findings", e.findingsSeconds}, {"explain", e.totalSeconds},
                  {"total", r.totalSeconds}};
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

void writeHeatmapMha(const explain::Heatmap& h, const std::string& path) {
  if (h.values.empty() || h.values.size() != h.geometry.voxelCount())
    throw std::runtime_error("no heatmap on the CT grid to write (was an image analysed?)");
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write '" + path + "'");
  const auto& g = h.geometry;
  char buf[1024];
  // TransformMatrix is row-major with the direction of axis c in row c (MetaIO convention).
  std::snprintf(buf, sizeof buf,
                "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = False\n"
                "TransformMatrix = %g %g %g %g %g %g %g %g %g\nOffset = %.6f %.6f %.6f\nCenterOfRotation = 0 0 0\n"
                "AnatomicalOrientation = RAI\nElementSpacing = %.6f %.6f %.6f\nDimSize = %d %d %d\n"
                "ElementType = MET_FLOAT\nElementDataFile = LOCAL\n",
                g.directionLps[0], g.directionLps[3], g.directionLps[6], g.directionLps[1], g.directionLps[4],
                g.directionLps[7], g.directionLps[2], g.directionLps[5], g.directionLps[8], g.originLps[0],
                g.originLps[1], g.originLps[2], g.spacingMm[0], g.spacingMm[1], g.spacingMm[2], g.size[0], g.size[1],
                g.size[2]);
  f << buf;
  f.write(reinterpret_cast<const char*>(h.values.data()), static_cast<std::streamsize>(h.values.size() * sizeof(float)));
  if (!f) throw std::runtime_error("writing '" + path + "' failed");
}

}  // namespace workflow
