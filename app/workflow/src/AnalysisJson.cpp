#include "workflow/AnalysisJson.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
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
  j["device"] = r.device;
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
  j["routing_statistics_available"] = e.routing.statisticsAvailable;
  j["expert_statistics_source"] = e.routing.statisticsAvailable ? json(e.routing.statisticsSource) : json(nullptr);
  if (e.lungRadsCategory.empty()) {
    j["lung_rads"] = nullptr;
  } else {
    j["lung_rads"] = {{"category", e.lungRadsCategory}, {"management", e.lungRadsManagement}, {"basis", e.lungRadsBasis}};
  }
  j["brock_probability"] = e.brock.computed ? num(e.brock.probability) : json(nullptr);
  if (e.brock.computed) {
    j["brock_inputs"] = {{"age", e.brock.ageYears},
                         {"female", e.brock.female},
                         {"family_history", e.brock.familyHistory},
                         {"emphysema", e.brock.emphysema},
                         {"diameter_mm", e.brock.diameterMm},
                         {"type", e.brock.type},
                         {"upper_lobe", e.brock.upperLobe},
                         {"nodule_count", e.brock.noduleCount},
                         {"spiculation", e.brock.spiculated},
                         {"without_family_history", e.brock.withoutFamilyHistory},
                         {"age_at_62", e.brock.ageAt62}};
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
  j["heatmap"] = {{"method", e.heatmap.method},
                  {"cells", e.heatmap.cells},
                  {"cell_spacing_mm", e.heatmap.cellSpacingMm},
                  {"raw_max", e.heatmap.rawMax},
                  {"on_ct_grid", !e.heatmap.values.empty()},
                  {"cell_origin_lps_mm", lps(e.heatmap.cellOriginLps)}};
  json na = json::object();
  if (e.usedNote) {
    json w = json::array(), p = json::array();
    for (const auto& s : e.note.words) w.push_back(span(s));
    for (const auto& s : e.note.phrases) p.push_back(span(s));
    na = {{"method", e.note.method},
          {"words", w},
          {"phrases", p},
          {"truncated", e.note.truncated},
          {"total_abs", e.note.totalAbs}};
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
                "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = "
                "False\nCompressedData = False\n"
                "TransformMatrix = %.10g %.10g %.10g %.10g %.10g %.10g %.10g %.10g %.10g\nOffset = %.9g %.9g "
                "%.9g\nCenterOfRotation = 0 0 0\n"
                "AnatomicalOrientation = RAI\nElementSpacing = %.9g %.9g %.9g\nDimSize = %d %d %d\n"
                "ElementType = MET_FLOAT\nElementDataFile = LOCAL\n",
                g.directionLps[0], g.directionLps[3], g.directionLps[6], g.directionLps[1], g.directionLps[4],
                g.directionLps[7], g.directionLps[2], g.directionLps[5], g.directionLps[8], g.originLps[0],
                g.originLps[1], g.originLps[2], g.spacingMm[0], g.spacingMm[1], g.spacingMm[2], g.size[0],
                g.size[1], g.size[2]);
  f << buf;
  f.write(reinterpret_cast<const char*>(h.values.data()), static_cast<std::streamsize>(h.values.size() * sizeof(float)));
  if (!f) throw std::runtime_error("writing '" + path + "' failed");
}

namespace {

/// Typed access to a JSON object with errors that name the key.
double getNum(const json& o, const char* key, double fallback = 0) {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return fallback;
  if (!it->is_number()) throw AnalysisJsonError(std::string("analysis JSON: '") + key + "' is not a number");
  return it->get<double>();
}
int getInt(const json& o, const char* key, int fallback = 0) {
  return static_cast<int>(std::lround(getNum(o, key, fallback)));
}
bool getBool(const json& o, const char* key, bool fallback = false) {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    throw AnalysisJsonError(std::string("analysis JSON: '") + key + "' is not true/false");
  return it->get<bool>();
}
std::string getStr(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_string()) throw AnalysisJsonError(std::string("analysis JSON: '") + key + "' is not text");
  return it->get<std::string>();
}
std::array<double, 3> getLps(const json& o, const char* key) {
  std::array<double, 3> p{};
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return p;
  if (!it->is_array() || it->size() != 3)
    throw AnalysisJsonError(std::string("analysis JSON: '") + key + "' is not an [x, y, z] point");
  for (int a = 0; a < 3; ++a) p[a] = (*it)[a].is_number() ? (*it)[a].get<double>() : 0.0;
  return p;
}
const json& getObj(const json& o, const char* key) {
  static const json empty = json::object();
  const auto it = o.find(key);
  return it == o.end() || !it->is_object() ? empty : *it;
}
const json& getArr(const json& o, const char* key) {
  static const json empty = json::array();
  const auto it = o.find(key);
  return it == o.end() || !it->is_array() ? empty : *it;
}
explain::NoteSpan spanFrom(const json& s) {
  explain::NoteSpan n;
  n.text = getStr(s, "text");
  n.begin = static_cast<std::size_t>(getNum(s, "begin"));
  n.end = static_cast<std::size_t>(getNum(s, "end"));
  n.score = getNum(s, "score");
  n.negated = getBool(s, "negated");
  return n;
}

json parse(const std::string& text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw AnalysisJsonError("analysis JSON: the document is not an object");
    return j;
  } catch (const json::exception& e) {
    throw AnalysisJsonError(std::string("analysis JSON could not be parsed: ") + e.what());
  }
}

explain::Explanation explanationFrom(const json& j) {
  explain::Explanation e;
  e.usedImage = getBool(j, "used_image");
  e.usedNote = getBool(j, "used_note");
  e.outOfScope = getBool(j, "out_of_scope");
  e.outOfScopeReason = getStr(j, "out_of_scope_reason");
  e.probability = getNum(j, "probability", std::nan(""));
  e.logit = getNum(j, "logit", std::nan(""));
  const json& share = getObj(j, "modality_share");
  e.routing.imageShare = getNum(share, "image");
  e.routing.textShare = getNum(share, "note");
  for (const auto& x : getArr(j, "experts"))
    e.routing.experts.push_back({getInt(x, "expert", -1), getNum(x, "weight"), getStr(x, "specialty")});
  e.routing.statisticsSource = getStr(j, "expert_statistics_source");
  e.routing.statisticsAvailable =
      getBool(j, "routing_statistics_available", !e.routing.statisticsSource.empty());
  const json& lr = getObj(j, "lung_rads");
  e.lungRadsCategory = getStr(lr, "category");
  e.lungRadsManagement = getStr(lr, "management");
  e.lungRadsBasis = getStr(lr, "basis");
  const auto brock = j.find("brock_probability");
  e.brock.computed = brock != j.end() && brock->is_number();
  if (e.brock.computed) {
    e.brock.probability = brock->get<double>();
    const json& in = getObj(j, "brock_inputs");
    e.brock.ageYears = getNum(in, "age");
    e.brock.female = getBool(in, "female");
    e.brock.familyHistory = getBool(in, "family_history");
    e.brock.emphysema = getBool(in, "emphysema");
    e.brock.diameterMm = getNum(in, "diameter_mm");
    e.brock.type = getStr(in, "type");
    e.brock.upperLobe = getBool(in, "upper_lobe");
    e.brock.noduleCount = getInt(in, "nodule_count");
    e.brock.spiculated = getBool(in, "spiculation");
    e.brock.withoutFamilyHistory = getNum(in, "without_family_history");
    e.brock.ageAt62 = getNum(in, "age_at_62");
  } else {
    e.brock.reason = getStr(j, "brock_reason");
  }
  for (const auto& [name, v] : getObj(j, "record_factors").items()) {
    explain::RecordFactor f;
    f.name = name;
    f.value = getStr(v, "value");
    f.probability = getNum(v, "confidence");
    const json& ev = getObj(v, "evidence");
    f.evidencePhrase = getStr(ev, "phrase");
    f.evidenceBegin = static_cast<std::size_t>(getNum(ev, "begin"));
    f.evidenceEnd = static_cast<std::size_t>(getNum(ev, "end"));
    f.evidenceNegated = getBool(ev, "negated");
    e.recordFactors.push_back(std::move(f));
  }
  for (const auto& x : getArr(j, "findings")) {
    explain::Finding f;
    f.rank = getInt(x, "rank");
    f.measured = getBool(x, "measured");
    f.centerLps = getLps(x, "center_lps_mm");
    const json& range = getArr(x, "slice_range");
    if (range.size() == 2 && range[0].is_number() && range[1].is_number()) {
      f.sliceFirst = range[0].get<int>();
      f.sliceLast = range[1].get<int>();
    }
    f.lobe = getStr(x, "lobe");
    f.lobeRule = getStr(x, "lobe_rule");
    f.fissureDistanceMm = getNum(x, "fissure_distance_mm");
    f.camPeak = getNum(x, "cam_peak");
    f.camPeakLps = getLps(x, "cam_peak_lps_mm");
    f.camRegionMl = getNum(x, "cam_region_ml");
    f.diameterMm = getNum(x, "diameter_mm");
    f.longAxisMm = getNum(x, "long_axis_mm");
    f.shortAxisMm = getNum(x, "short_axis_mm");
    f.solidDiameterMm = getNum(x, "solid_diameter_mm");
    f.volumeMl = getNum(x, "volume_ml");
    f.meanHu = getNum(x, "mean_hu");
    f.solidFraction = getNum(x, "solid_fraction");
    f.type = getStr(x, "type");
    f.camInsideNodule = getNum(x, "cam_inside_nodule");
    const json& heads = getObj(x, "model_heads");
    f.headType = getStr(heads, "type");
    f.headLobe = getStr(heads, "lobe");
    f.headDiameterMm = getNum(heads, "diameter_mm");
    f.typeAgrees = getBool(heads, "type_agrees");
    f.lobeAgrees = getBool(heads, "lobe_agrees");
    f.diameterAgrees = getBool(heads, "diameter_agrees");
    e.findings.push_back(std::move(f));
  }
  const json& heads = getObj(j, "image_heads");
  e.headNoduleProbability = getNum(heads, "nodule_probability");
  e.headSpiculationProbability = getNum(heads, "spiculation_probability");
  e.headEmphysemaProbability = getNum(heads, "emphysema_probability");
  e.headNoduleCount = getInt(heads, "nodule_count");
  const json& hm = getObj(j, "heatmap");
  e.heatmap.method = getStr(hm, "method");
  e.heatmap.cells = getInt(hm, "cells");
  e.heatmap.cellSpacingMm = getNum(hm, "cell_spacing_mm");
  e.heatmap.rawMax = getNum(hm, "raw_max");
  e.heatmap.cellOriginLps = getLps(hm, "cell_origin_lps_mm");
  const json& na = getObj(j, "note_attributions");
  e.note.method = getStr(na, "method");
  for (const auto& s : getArr(na, "words")) e.note.words.push_back(spanFrom(s));
  for (const auto& s : getArr(na, "phrases")) e.note.phrases.push_back(spanFrom(s));
  e.note.truncated = getBool(na, "truncated");
  e.note.totalAbs = getNum(na, "total_abs");
  for (const auto& s : getArr(j, "narrative_sentences")) {
    explain::Sentence sentence;
    sentence.text = getStr(s, "text");
    for (const auto& [k, v] : getObj(s, "facts").items())
      sentence.facts.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    e.narrative.push_back(std::move(sentence));
  }
  e.language = getStr(j, "language");
  if (e.language.empty()) e.language = "en";
  for (const auto& w : getArr(j, "warnings"))
    if (w.is_string()) e.warnings.push_back(w.get<std::string>());
  e.modelSha256 = getStr(j, "model_sha256");
  const json& sec = getObj(j, "seconds");
  e.preprocessSeconds = getNum(sec, "preprocess");
  e.forwardSeconds = getNum(sec, "forward");
  e.camSeconds = getNum(sec, "gradcam");
  e.findingsSeconds = getNum(sec, "findings");
  e.totalSeconds = getNum(sec, "explain");
  return e;
}

}  // namespace

explain::Explanation explanationFromJson(const std::string& text) {
  return explanationFrom(parse(text));
}

AnalysisResult analysisFromJson(const std::string& text) {
  const json j = parse(text);
  AnalysisResult r;
  r.study.path = getStr(j, "study_path");
  r.study.seriesInstanceUid = getStr(j, "series_uid");
  r.study.studyInstanceUid = getStr(j, "study_uid");
  r.study.patientId = getStr(j, "patient_id");
  r.modelPath = getStr(j, "model_path");
  r.modelVersion = getStr(j, "model_version");
  r.modelSha256 = getStr(j, "model_sha256");
  r.device = getStr(j, "device");
  r.note.source = getStr(j, "note_source");
  r.explanation = explanationFrom(j);
  const json& sec = getObj(j, "seconds");
  r.loadSeconds = getNum(sec, "load");
  r.totalSeconds = getNum(sec, "total");
  return r;
}

explain::Heatmap readHeatmapMha(const std::string& path, const imaging::VolumeGeometry& ct) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw AnalysisJsonError("cannot open heatmap '" + path + "'");
  std::map<std::string, std::string> header;
  std::string line;
  while (std::getline(f, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw AnalysisJsonError("heatmap '" + path + "': not a MetaImage header");
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    header[key] = value;
    if (key == "ElementDataFile") break;
  }
  auto need = [&](const char* key, const std::string& expected) {
    if (header[key] != expected)
      throw AnalysisJsonError("heatmap '" + path + "': " + key + " is '" + header[key] + "', expected '" +
                              expected + "'");
  };
  need("NDims", "3");
  need("ElementType", "MET_FLOAT");
  need("ElementDataFile", "LOCAL");
  if (header["CompressedData"] == "True") throw AnalysisJsonError("heatmap '" + path + "': compressed data");
  if (header["BinaryDataByteOrderMSB"] == "True")
    throw AnalysisJsonError("heatmap '" + path + "': big-endian data");
  auto numbers = [&](const char* key, std::size_t n) {
    std::istringstream in(header[key]);
    std::vector<double> v;
    double x;
    while (in >> x) v.push_back(x);
    if (v.size() != n)
      throw AnalysisJsonError("heatmap '" + path + "': " + key + " needs " + std::to_string(n) + " numbers");
    return v;
  };
  imaging::VolumeGeometry g;
  const auto dims = numbers("DimSize", 3), spacing = numbers("ElementSpacing", 3),
             offset = numbers("Offset", 3),
             matrix = header.count("TransformMatrix") ? numbers("TransformMatrix", 9)
                                                      : std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int a = 0; a < 3; ++a) {
    g.size[a] = static_cast<int>(dims[a]);
    g.spacingMm[a] = spacing[a];
    g.originLps[a] = offset[a];
    for (int r = 0; r < 3; ++r) g.directionLps[r * 3 + a] = matrix[a * 3 + r];  // row a of the file = axis a
  }
  if (g.size != ct.size)
    throw AnalysisJsonError("heatmap '" + path + "' is " + std::to_string(g.size[0]) + "x" +
                            std::to_string(g.size[1]) + "x" + std::to_string(g.size[2]) +
                            " voxels, the CT shown is " + std::to_string(ct.size[0]) + "x" +
                            std::to_string(ct.size[1]) + "x" + std::to_string(ct.size[2]) +
                            " (was it computed on another series?)");
  if (!g.sameGridAs(ct, 1e-2))
    throw AnalysisJsonError("heatmap '" + path +
                            "' lies on another grid (origin, spacing or direction) than the CT shown");
  explain::Heatmap h;
  h.geometry = ct;
  h.values.resize(ct.voxelCount());
  f.read(reinterpret_cast<char*>(h.values.data()),
         static_cast<std::streamsize>(h.values.size() * sizeof(float)));
  if (f.gcount() != static_cast<std::streamsize>(h.values.size() * sizeof(float)))
    throw AnalysisJsonError("heatmap '" + path + "' is truncated");
  return h;
}

}  // namespace workflow
