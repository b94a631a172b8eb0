// writeReports: maps the explained result onto the imaging-level DICOM writers, the PDF and FHIR.
#include "workflow/Report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/Version.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/DerivedObjects.h"
#include "workflow/Analysis.h"

namespace workflow {
namespace fs = std::filesystem;

std::string toString(Verdict v) {
  switch (v) {
    case Verdict::Accepted: return "accepted";
    case Verdict::Edited: return "edited";
    case Verdict::Rejected: return "rejected";
  }
  return "accepted";
}

std::string effectiveCategory(const explain::Explanation& e, const ReportOptions& o) {
  if (o.decision && o.decision->verdict == Verdict::Edited && !o.decision->editedLungRadsCategory.empty())
    return o.decision->editedLungRadsCategory;
  return e.lungRadsCategory;
}
std::string effectiveManagement(const explain::Explanation& e, const ReportOptions& o) {
  if (o.decision && o.decision->verdict == Verdict::Edited && !o.decision->editedManagement.empty())
    return o.decision->editedManagement;
  return e.lungRadsManagement;
}

std::vector<std::uint8_t> noduleMask(const imaging::CtVolume& ct, const explain::Finding& f, double thresholdHu) {
  const auto& g = ct.geometry();
  const double diameter = f.diameterMm > 0 ? std::max(f.diameterMm, f.longAxisMm) : 0.0;
  if (diameter <= 0 || ct.empty()) return {};
  const double radius = diameter / 2 + std::max({g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]});
  const auto c = g.ijkFromLps(f.centerLps);
  std::array<int, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    const double r = radius / g.spacingMm[a];
    lo[a] = std::max(0, static_cast<int>(std::floor(c[a] - r)));
    hi[a] = std::min(g.size[a] - 1, static_cast<int>(std::ceil(c[a] + r)));
  }
  std::vector<std::uint8_t> mask(g.voxelCount(), 0);
  std::size_t count = 0;
  for (int k = lo[2]; k <= hi[2]; ++k)
    for (int j = lo[1]; j <= hi[1]; ++j)
      for (int i = lo[0]; i <= hi[0]; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        const double d2 = (p[0] - f.centerLps[0]) * (p[0] - f.centerLps[0]) +
                          (p[1] - f.centerLps[1]) * (p[1] - f.centerLps[1]) +
                          (p[2] - f.centerLps[2]) * (p[2] - f.centerLps[2]);
        if (d2 <= radius * radius && ct.at(i, j, k) > thresholdHu) {
          mask[ct.index(i, j, k)] = 1;
          ++count;
        }
      }
  if (count == 0) return {};
  return mask;
}

namespace {

bool wants(const ReportOptions& o, const std::string& f) {
  return std::find(o.formats.begin(), o.formats.end(), f) != o.formats.end();
}

std::string fhirDate(const std::string& dicomDate) {
  if (dicomDate.size() != 8) return {};
  return dicomDate.substr(0, 4) + "-" + dicomDate.substr(4, 2) + "-" + dicomDate.substr(6, 2);
}

int sliceOf(const explain::Finding& f, const imaging::VolumeGeometry& g) {
  const int k = static_cast<int>(std::lround(g.ijkFromLps(f.centerLps)[2]));
  return std::clamp(k, 0, std::max(0, g.size[2] - 1));
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", p * 100.0);
  return buf;
}

std::string version(const ReportInput& in, const ReportOptions& o) {
  if (!o.modelVersion.empty()) return o.modelVersion;
  if (!in.modelVersion.empty()) return in.modelVersion;
  return app::kVersion;
}

std::string sha(const ReportInput& in) {
  return in.modelSha256.empty() ? in.explanation->modelSha256 : in.modelSha256;
}

nlohmann::json coding(const std::string& system, const std::string& code, const std::string& display) {
  return {{"system", system}, {"code", code}, {"display", display}};
}

nlohmann::json lobeCoding(const std::string& lobe) {
  static const std::map<std::string, std::pair<std::string, std::string>> kLobes{
      {"RUL", {"45653009", "Upper lobe of right lung"}}, {"RML", {"72481006", "Middle lobe of right lung"}},
      {"RLL", {"266005", "Lower lobe of right lung"}},   {"LUL", {"44714003", "Upper lobe of left lung"}},
      {"LLL", {"41224006", "Lower lobe of left lung"}}};
  const auto it = kLobes.find(lobe);
  if (it == kLobes.end()) return {{"coding", {coding("http://snomed.info/sct", "39607008", "Lung")}}, {"text", lobe}};
  return {{"coding", {coding("http://snomed.info/sct", it->second.first, it->second.second)}}, {"text", lobe}};
}

nlohmann::json quantityMm(double v) {
  return {{"value", round1(v)}, {"unit", "mm"}, {"system", "http://unitsofmeasure.org"}, {"code", "mm"}};
}

}  // namespace

std::string reportFhirJson(const ReportInput& in, const ReportOptions& o, const std::vector<std::string>& attached) {
  using nlohmann::json;
  const LoadedStudy& s = *in.study;
  const explain::Explanation& e = *in.explanation;
  const std::string studyOid = "urn:oid:" + s.studyInstanceUid;
  const std::string patientRef = "Patient/" + s.patientId;
  const std::string reportId = "medseek-" + std::to_string(std::hash<std::string>{}(s.seriesInstanceUid) % 1000000007ULL);
  const json subject = {{"reference", patientRef},
                        {"identifier", {{"value", s.patientId}}},
                        {"display", s.patientName}};
  const json imagingStudyRef = {{"type", "ImagingStudy"},
                                {"identifier", {{"system", "urn:dicom:uid"}, {"value", studyOid}}}};
  const json deviceRef = {{"reference", "urn:uuid:device-" + reportId}};
  const std::string effective = fhirDate(s.studyDate);
  const std::string issued = imaging::utcIso8601();

  json entries = json::array();
  json resultRefs = json::array();
  auto addObservation = [&](const std::string& id, json obs) {
    obs["resourceType"] = "Observation";
    obs["id"] = id;
    obs["status"] = o.decision && o.decision->verdict == Verdict::Rejected ? "cancelled"
                    : o.decision ? "final" : "preliminary";
    obs["category"] = json::array({{{"coding", {coding("http://terminology.hl7.org/CodeSystem/observation-category",
                                                       "imaging", "Imaging")}}}});
    obs["subject"] = subject;
    obs["derivedFrom"] = json::array({imagingStudyRef});
    obs["device"] = deviceRef;
    if (!effective.empty()) obs["effectiveDateTime"] = effective;
    obs["issued"] = issued;
    entries.push_back({{"fullUrl", "urn:uuid:" + id}, {"resource", obs}});
    resultRefs.push_back({{"reference", "urn:uuid:" + id}});
  };

  addObservation("prob-" + reportId,
                 {{"code", {{"coding", {coding("urn:medseek:codes", "MS0011", "AI malignancy probability")}},
                            {"text", "AI lung cancer probability"}}},
                  {"valueQuantity", {{"value", std::round(e.probability * 1000.0) / 1000.0},
                                     {"unit", "probability"},
                                     {"system", "http://unitsofmeasure.org"},
                                     {"code", "1"}}},
                  {"note", json::array({{{"text", e.brock.computed
                                                       ? "Brock model probability " + percent(e.brock.probability)
                                                       : "Brock model not computed: " + e.brock.reason}}})}});
  addObservation("lungrads-" + reportId,
                 {{"code", {{"coding", {coding("urn:medseek:codes", "MS0020", "Lung-RADS v2022 category")}},
                            {"text", "Lung-RADS category"}}},
                  {"valueCodeableConcept", {{"coding", {coding("urn:medseek:lung-rads", effectiveCategory(e, o),
                                                               "Lung-RADS " + effectiveCategory(e, o))}},
                                            {"text", effectiveCategory(e, o)}}},
                  {"note", json::array({{{"text", effectiveManagement(e, o)}}})}});
  int n = 0;
  for (const auto& f : e.findings) {
    ++n;
    if (!f.measured || f.diameterMm <= 0) continue;  // CAM region without a measured nodule
    json comps = json::array();
    comps.push_back({{"code", {{"coding", {coding("http://snomed.info/sct", "103339001", "Long axis")}}}},
                     {"valueQuantity", quantityMm(f.longAxisMm)}});
    comps.push_back({{"code", {{"coding", {coding("http://snomed.info/sct", "103340004", "Short axis")}}}},
                     {"valueQuantity", quantityMm(f.shortAxisMm)}});
    comps.push_back({{"code", {{"coding", {coding("http://snomed.info/sct", "81827009", "Diameter")}},
                               {"text", "Mean diameter"}}},
                     {"valueQuantity", quantityMm(f.diameterMm)}});
    comps.push_back({{"code", {{"text", "Mean attenuation"}}},
                     {"valueQuantity", {{"value", std::round(f.meanHu)},
                                        {"unit", "HU"},
                                        {"system", "http://unitsofmeasure.org"},
                                        {"code", "[hnsf'U]"}}}});
    comps.push_back({{"code", {{"text", "Nodule type"}}}, {"valueString", f.type}});
    comps.push_back({{"code", {{"text", "CT slice range (k)"}}},
                     {"valueString", std::to_string(f.sliceFirst) + "-" + std::to_string(f.sliceLast)}});
    addObservation("nodule" + std::to_string(n) + "-" + reportId,
                   {{"code", {{"coding", {coding("http://snomed.info/sct", "27925004", "Nodule")}},
                              {"text", "Pulmonary nodule " + std::to_string(n)}}},
                    {"bodySite", lobeCoding(f.lobe)},
                    {"component", comps}});
  }

  std::string status = "preliminary";
  if (o.decision) status = o.decision->verdict == Verdict::Rejected ? "cancelled" : "final";
  json report = {
      {"resourceType", "DiagnosticReport"},
      {"id", reportId},
      {"status", status},
      {"category", json::array({{{"coding", {coding("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD",
                                                    "Radiology")}}}})},
      {"code", {{"coding", {coding("http://loinc.org", "18748-4", "Diagnostic imaging study")}},
                {"text", "AI-assisted low-dose chest CT lung nodule report (research use only)"}}},
      {"subject", subject},
      {"issued", issued},
      {"imagingStudy", json::array({imagingStudyRef})},
      {"result", resultRefs},
      {"conclusion", "Lung-RADS " + effectiveCategory(e, o) + ": " + effectiveManagement(e, o) + " " +
                         e.narrativeText()},
      {"conclusionCode", json::array({{{"coding", {coding("urn:medseek:lung-rads", effectiveCategory(e, o),
                                                          "Lung-RADS " + effectiveCategory(e, o))}}}})},
      {"identifier", json::array({{{"system", "urn:dicom:uid"}, {"value", "urn:oid:" + s.seriesInstanceUid}}})}};
  if (!effective.empty()) report["effectiveDateTime"] = effective;
  if (o.decision && !o.decision->readerName.empty())
    report["resultsInterpreter"] = json::array({{{"display", o.decision->readerName}}});
  json forms = json::array();
  for (const auto& f : attached)
    if (fs::path(f).extension() == ".pdf")
      forms.push_back({{"contentType", "application/pdf"}, {"url", fs::path(f).filename().string()},
                       {"title", "MedSeek report"}});
  if (!forms.empty()) report["presentedForm"] = forms;

  json device = {{"resourceType", "Device"},
                 {"id", "device-" + reportId},
                 {"deviceName", json::array({{{"name", o.modelName}, {"type", "model-name"}}})},
                 {"version", json::array({{{"value", version(in, o)}}})},
                 {"serialNumber", sha(in)},
                 {"note", json::array({{{"text", "Research use only - not for clinical use"}}})}};
  json bundle = {{"resourceType", "Bundle"},
                 {"type", "collection"},
                 {"timestamp", issued},
                 {"entry", json::array({{{"fullUrl", "urn:uuid:" + reportId}, {"resource", report}}})}};
  for (auto& en : entries) bundle["entry"].push_back(en);
  bundle["entry"].push_back({{"fullUrl", "urn:uuid:device-" + reportId}, {"resource", device}});
  return bundle.dump(2);
}

std::vector<std::string> writeReports(const ReportInput& inputIn, const ReportOptions& o, const std::string& outDir) {
  if (!inputIn.study || !inputIn.explanation || !inputIn.study->volume)
    throw ReportError("report: no analysed study given");
  for (const auto& f : o.formats)
    if (f != "pdf" && f != "sr" && f != "seg" && f != "pm" && f != "epdf" && f != "fhir")
      throw ReportError("report: unknown format '" + f + "' (pdf, sr, seg, pm, epdf, fhir)");
  if (o.language != "en" && o.language != "zh") throw ReportError("report: language must be en or zh");
  if (o.paper != "a4" && o.paper != "letter") throw ReportError("report: paper must be a4 or letter");
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec) throw ReportError("report: cannot create " + outDir + ": " + ec.message());

  ReportInput in = inputIn;
  const LoadedStudy& s = *in.study;
  const explain::Explanation& e = *in.explanation;
  const auto& g = s.volume->geometry();
  const bool dicom = wants(o, "sr") || wants(o, "seg") || wants(o, "pm") || wants(o, "epdf");
  imaging::SourceSeries source;
  if (dicom || wants(o, "pdf")) {
    source = imaging::findSourceSeries(s.path, s.seriesInstanceUid, g);
    in.sliceInstanceNumbers.clear();
    for (const auto& sl : source.slices) in.sliceInstanceNumbers.push_back(sl.instanceNumber);
  }
  std::vector<std::string> written;
  const std::string pdfPath = (fs::path(outDir) / "report.pdf").string();
  if (wants(o, "pdf") || wants(o, "epdf")) {
    writeReportPdf(in, o, pdfPath);
    if (wants(o, "pdf")) written.push_back(pdfPath);
  }

  imaging::DerivingDevice device;
  device.modelName = o.modelName;
  device.softwareVersion = version(in, o);
  device.sha256 = sha(in);
  auto infoFor = [&](int offset, const std::string& description, const std::string& label) {
    imaging::DerivedSeriesInfo info;
    info.seriesNumber = o.firstSeriesNumber + offset;
    info.seriesDescription = description;
    info.contentLabel = label;
    info.device = device;
    return info;
  };

  // SEG first: the SR may reference it.
  std::vector<imaging::SegmentMask> masks;
  std::vector<int> segmentOf(e.findings.size(), 0);
  if (wants(o, "seg")) {
    for (std::size_t i = 0; i < e.findings.size(); ++i) {
      auto m = noduleMask(*s.volume, e.findings[i]);
      if (m.empty()) continue;
      masks.push_back({"Nodule " + std::to_string(i + 1), std::move(m)});
      segmentOf[i] = static_cast<int>(masks.size());
    }
  }
  std::string srPath, segPath, pmPath, epdfPath;
  if (wants(o, "sr")) {
    imaging::MeasurementReportContent c;
    c.aiProbability = e.probability;
    c.lungRadsCategory = effectiveCategory(e, o);
    c.lungRadsManagement = effectiveManagement(e, o);
    c.brockProbability = e.brock.computed ? e.brock.probability : -1;
    c.narrative = e.narrativeText();
    if (o.decision) {
      c.radiologistDecision = toString(o.decision->verdict);
      c.radiologistName = o.decision->readerName;
    }
    for (std::size_t i = 0; i < e.findings.size(); ++i) {
      const auto& f = e.findings[i];
      if (!f.measured || f.diameterMm <= 0) continue;  // a CAM region without a nodule has no measurements
      imaging::ReportedNodule n;
      n.number = static_cast<int>(i + 1);
      n.centerLps = f.centerLps;
      n.sliceK = sliceOf(f, g);
      n.longAxisMm = f.longAxisMm;
      n.shortAxisMm = f.shortAxisMm;
      n.meanDiameterMm = f.diameterMm;
      n.volumeMl = f.volumeMl;
      n.meanHu = f.meanHu;
      n.hasMeanHu = f.measured;
      n.type = f.type;
      n.lobe = f.lobe;
      n.aiScore = f.camPeak;
      n.segmentNumber = segmentOf[i];
      c.nodules.push_back(n);
    }
    srPath = (fs::path(outDir) / "sr.dcm").string();
    imaging::writeMeasurementReport(source, c, infoFor(0, "AI measurement report (TID 1500)", "MEDSEEK_SR"), srPath);
    written.push_back(srPath);
  }
  if (wants(o, "seg")) {
    if (masks.empty()) {
      // Nothing to segment (no measured nodule): a SEG without segments is not valid DICOM.
    } else {
      segPath = (fs::path(outDir) / "seg.dcm").string();
      imaging::writeSegmentation(source, g, masks, infoFor(1, "AI nodule segmentation", "NODULES"), segPath);
      written.push_back(segPath);
    }
  }
  if (wants(o, "pm") && e.heatmap.values.size() == g.voxelCount()) {
    imaging::ParametricMapContent pmc;
    pmc.quantityLabel = "GRADCAM";
    pmc.quantityMeaning = e.heatmap.method.empty() ? "Grad-CAM relevance" : e.heatmap.method + " relevance";
    pmc.values = e.heatmap.values;
    pmPath = (fs::path(outDir) / "pm.dcm").string();
    imaging::writeParametricMap(source, g, pmc, infoFor(2, "AI heatmap (Grad-CAM)", "GRADCAM"), pmPath);
    written.push_back(pmPath);
  }
  if (wants(o, "epdf")) {
    epdfPath = (fs::path(outDir) / "epdf.dcm").string();
    imaging::writeEncapsulatedPdf(source, pdfPath, "AI lung nodule report (research use only)",
                                  infoFor(3, "AI report (PDF)", "REPORT"), epdfPath);
    written.push_back(epdfPath);
    if (!wants(o, "pdf")) fs::remove(pdfPath, ec);
  }
  if (wants(o, "fhir")) {
    const std::string path = (fs::path(outDir) / "fhir.json").string();
    std::ofstream out(path, std::ios::binary);
    out << reportFhirJson(in, o, written) << "\n";
    if (!out) throw ReportError("report: cannot write " + path);
    written.push_back(path);
  }
  return written;
}

std::vector<std::string> writeReports(const LoadedStudy& study, const explain::Explanation& explanation,
                                      const ReportOptions& options, const std::string& outDir) {
  ReportInput in;
  in.study = &study;
  in.explanation = &explanation;
  in.noteText = options.noteText.empty() ? study.additionalPatientHistory : options.noteText;
  return writeReports(in, options, outDir);
}

std::vector<std::string> writeReports(const AnalysisResult& result, const ReportOptions& options,
                                      const std::string& outDir) {
  ReportInput in;
  in.study = &result.study;
  in.explanation = &result.explanation;
  in.noteText = !options.noteText.empty() ? options.noteText
                : !result.note.text.empty() ? result.note.text
                                            : result.study.additionalPatientHistory;
  in.modelVersion = result.modelVersion;
  in.modelSha256 = result.modelSha256;
  return writeReports(in, options, outDir);
}

}  // namespace workflow
