// The analysis pipeline on a generated study folder (DICOM + note.txt + fhir.json) with a randomly
// initialised model: note source order, binding to the series, JSON keys, the heatmap file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "explain/Explainer.h"
#include "explain/Narrative.h"
#include "workflow/Analyzer.h"
#include "workflow/AnalysisJson.h"
#include "workflow/CohortWriter.h"
#include "workflow/NoteSource.h"

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
