// The analysis pipeline on a generated study folder (DICOM + note.txt + fhir.json) with a randomly
// initialised model: note source order, binding to the series, JSON keys, the heatmap file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "explain/Explainer.h"
#include "explain/Narrative.h"
#include "imaging/DicomError.h"
#include "workflow/AnalysisJson.h"
#include "workflow/Analyzer.h"
#include "workflow/CohortWriter.h"
#include "workflow/NoteSource.h"
#include "workflow/StudyInfo.h"

namespace fs = std::filesystem;

namespace {
struct Study {
  fs::path dir, weights;
  phantom::Case c;
  Study() {
    dir = fs::temp_directory_path() / ("medseek_analysis_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    phantom::CohortGenerator gen(31);
    for (int i = 0;; ++i)
      if (gen.generateRecord(i).nodules.size() == 1) {
        c = gen.generate(i);
        break;
      }
    workflow::writeCase(c, (dir / "case").string());
    weights = dir / "random.msw";
    explain::writeRandomModel(weights.string(), {c.note, c.note}, 5);
  }
  ~Study() { fs::remove_all(dir); }
};
Study& study() {
  static Study s;
  return s;
}
void write(const fs::path& p, const std::string& s) {
  std::ofstream o(p, std::ios::binary);
  o << s;
}
}  // namespace

TEST(Analysis, PrefersAnExplicitNoteThenNoteTxtThenFhirThenDicomHistory) {
  const fs::path d = study().dir / "notes";
  fs::create_directories(d);
  workflow::LoadedStudy s;
  s.additionalPatientHistory = "history from DICOM";
  EXPECT_EQ(workflow::findNote(d.string(), "", s).source, "dicom:AdditionalPatientHistory");
  write(d / "fhir.json", R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"FamilyMemberHistory","note":[{"text":"Father had lung cancer."}]}}]})");
  auto f = workflow::findNote(d.string(), "", s);
  EXPECT_EQ(f.source.rfind("fhir:", 0), 0u);
  EXPECT_EQ(f.text, "Father had lung cancer.");
  write(d / "note.txt", "  65-year-old man.\n");
  auto n = workflow::findNote(d.string(), "", s);
  EXPECT_EQ(n.source.rfind("note.txt:", 0), 0u);
  EXPECT_EQ(n.text, "65-year-old man.");
  write(d / "other.txt", "explicit");
  EXPECT_EQ(workflow::findNote(d.string(), (d / "other.txt").string(), s).text, "explicit");
  EXPECT_THROW(workflow::findNote(d.string(), (d / "missing.txt").string(), s), std::runtime_error);
  workflow::LoadedStudy none;
  EXPECT_EQ(workflow::findNote((study().dir / "nothing").string(), "", none).source, "none");
}

TEST(Analysis, AnalyzesAStudyFolderBoundToItsSeriesWithTheNoteBesideIt) {
  workflow::AnalysisOptions o;
  o.modelPath = study().weights.string();
  o.device = "cpu";
  workflow::Analyzer a(o);
  auto r = a.analyze((study().dir / "case").string());
  EXPECT_EQ(r.study.seriesInstanceUid, study().c.seriesInstanceUid);
  EXPECT_EQ(r.note.source.rfind("note.txt:", 0), 0u);
  EXPECT_EQ(r.note.text.substr(0, 20), study().c.note.substr(0, 20));
  ASSERT_TRUE(r.explanation.usedImage && r.explanation.usedNote);
  EXPECT_EQ(r.explanation.heatmap.values.size(), r.study.volume->geometry().voxelCount());
  EXPECT_EQ(r.modelSha256.size(), 64u);
  EXPECT_TRUE(explain::checkNarrative(r.explanation).empty());

  auto j = nlohmann::json::parse(workflow::analysisToJson(r));
  for (const char* k : {"probability", "lung_rads", "brock_probability", "modality_share", "experts", "record_factors",
                        "findings", "narrative", "note_attributions", "model_sha256", "series_uid"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["series_uid"], study().c.seriesInstanceUid);
  for (const char* k : {"age", "sex", "family_history", "smoking"}) EXPECT_TRUE(j["record_factors"].contains(k)) << k;
  for (const auto& f : j["findings"])
    for (const char* k : {"center_lps_mm", "diameter_mm", "lobe", "type", "slice_range"}) EXPECT_TRUE(f.contains(k)) << k;

  const fs::path mha = study().dir / "cam.mha";
  workflow::writeHeatmapMha(r.explanation.heatmap, mha.string());
  std::ifstream in(mha, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto hdrEnd = all.find("ElementDataFile = LOCAL\n");
  ASSERT_NE(hdrEnd, std::string::npos);
  EXPECT_EQ(all.size() - (hdrEnd + 24), r.study.volume->geometry().voxelCount() * sizeof(float));
  EXPECT_NE(all.find("ElementType = MET_FLOAT"), std::string::npos);
}

TEST(Analysis, StudyWithoutAnyNoteIsAnalyzedImageOnlyAndSaysSo) {
  const fs::path d = study().dir / "nonote";
  fs::create_directories(d);
  fs::copy(study().dir / "case" / "CT", d / "CT", fs::copy_options::recursive);
  workflow::AnalysisOptions o;
  o.modelPath = study().weights.string();
  o.device = "cpu";
  workflow::Analyzer a(o);
  auto r = a.analyze(d.string());
  // The phantom writes a short history into the DICOM header; that is the note then.
  if (r.note.source == "none") {
    EXPECT_FALSE(r.explanation.usedNote);
    EXPECT_NE(r.explanation.narrativeText().find("image only"), std::string::npos);
  } else {
    EXPECT_EQ(r.note.source, "dicom:AdditionalPatientHistory");
  }
  EXPECT_TRUE(explain::checkNarrative(r.explanation).empty());
}

TEST(Analysis, JsonAndHeatmapReadBackGiveTheSameResult) {
  workflow::AnalysisOptions o;
  o.modelPath = study().weights.string();
  o.device = "cpu";
  workflow::Analyzer a(o);
  const auto r = a.analyze((study().dir / "case").string());
  ASSERT_FALSE(r.explanation.heatmap.values.empty());
  const std::string json = workflow::analysisToJson(r);
  const fs::path mha = study().dir / "roundtrip.mha";
  workflow::writeHeatmapMha(r.explanation.heatmap, mha.string());

  auto back = workflow::analysisFromJson(json);
  const auto& grid = r.study.volume->geometry();
  back.explanation.heatmap.values = workflow::readHeatmapMha(mha.string(), grid).values;
  EXPECT_EQ(back.explanation.heatmap.values, r.explanation.heatmap.values);
  // Everything the JSON holds comes back: writing the read-back result again gives the same text.
  back.study.volume = r.study.volume;
  EXPECT_EQ(workflow::analysisToJson(back), json);
  EXPECT_EQ(back.study.seriesInstanceUid, study().c.seriesInstanceUid);
  EXPECT_EQ(back.device, "cpu");
  EXPECT_EQ(back.explanation.narrativeText(), r.explanation.narrativeText());
  ASSERT_EQ(back.explanation.findings.size(), r.explanation.findings.size());
  for (std::size_t i = 0; i < r.explanation.findings.size(); ++i)
    EXPECT_EQ(back.explanation.findings[i].centerLps, r.explanation.findings[i].centerLps);
  EXPECT_EQ(back.explanation.note.phrases.size(), r.explanation.note.phrases.size());
  EXPECT_DOUBLE_EQ(back.explanation.probability, r.explanation.probability);
  const auto e = workflow::explanationFromJson(json);
  EXPECT_EQ(e.lungRadsCategory, r.explanation.lungRadsCategory);
  EXPECT_EQ(e.brock.computed, r.explanation.brock.computed);
}

TEST(Analysis, HeatmapOfAnotherGridIsRefusedWithTheReason) {
  explain::Heatmap h;
  h.geometry.size = {4, 5, 6};
  h.geometry.spacingMm = {0.7, 0.7, 2.5};
  h.geometry.originLps = {-10, 20.5, -300.25};
  h.values.assign(h.geometry.voxelCount(), 0.5f);
  const fs::path mha = study().dir / "small.mha";
  workflow::writeHeatmapMha(h, mha.string());
  EXPECT_EQ(workflow::readHeatmapMha(mha.string(), h.geometry).values, h.values);
  imaging::VolumeGeometry other = h.geometry;
  other.size[2] = 7;
  try {
    workflow::readHeatmapMha(mha.string(), other);
    FAIL() << "a heatmap of another size was accepted";
  } catch (const workflow::AnalysisJsonError& e) {
    EXPECT_NE(std::string(e.what()).find("4x5x6"), std::string::npos) << e.what();
  }
  other = h.geometry;
  other.originLps[0] += 5;
  EXPECT_THROW(workflow::readHeatmapMha(mha.string(), other), workflow::AnalysisJsonError);
  std::filesystem::resize_file(mha, std::filesystem::file_size(mha) - 8);
  EXPECT_THROW(workflow::readHeatmapMha(mha.string(), h.geometry), workflow::AnalysisJsonError);
  EXPECT_THROW(workflow::readHeatmapMha((study().dir / "missing.mha").string(), h.geometry),
               workflow::AnalysisJsonError);
}

TEST(Analysis, MalformedAnalysisJsonIsRefusedNamingTheProblem) {
  EXPECT_THROW(workflow::analysisFromJson("progress load 0.5"), workflow::AnalysisJsonError);
  EXPECT_THROW(workflow::analysisFromJson("[1, 2]"), workflow::AnalysisJsonError);
  try {
    workflow::analysisFromJson(R"({"probability": "high"})");
    FAIL() << "a text probability was accepted";
  } catch (const workflow::AnalysisJsonError& e) {
    EXPECT_NE(std::string(e.what()).find("probability"), std::string::npos) << e.what();
  }
}

TEST(Analysis, ChosenSeriesIsLoadedAndAnUnknownSeriesIsRefused) {
  const std::string path = (study().dir / "case").string();
  const auto series = workflow::listSeries(path);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_TRUE(series[0].selected);
  EXPECT_EQ(series[0].seriesInstanceUid, study().c.seriesInstanceUid);
  EXPECT_GT(series[0].images, 10);
  const auto s = workflow::loadStudySeries(path, study().c.seriesInstanceUid);
  EXPECT_EQ(s.seriesInstanceUid, study().c.seriesInstanceUid);
  EXPECT_THROW(workflow::loadStudySeries(path, "1.2.3.4.5"), imaging::DicomError);
  workflow::AnalysisOptions o;
  o.modelPath = study().weights.string();
  o.device = "cpu";
  o.seriesUid = "1.2.3.4.5";
  workflow::Analyzer a(o);
  EXPECT_THROW(a.analyze(path), imaging::DicomError);
}
