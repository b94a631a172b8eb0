#include "workflow/NoteSource.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace workflow {
namespace {
namespace fs = std::filesystem;

bool readFile(const fs::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

void collectText(const nlohmann::json& j, std::string& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if ((it.key() == "text" || it.key() == "valueString") && it.value().is_string()) {
        std::string t = it.value().get<std::string>();
        if (t.find('<') != std::string::npos) continue;  // XHTML narrative divs
        if (!out.empty()) out += (out.back() == '.' ? " " : ". ");
        out += t;
      } else {
        collectText(it.value(), out);
      }
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collectText(v, out);
  }
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}
}  // namespace

NoteText findNote(const std::string& studyPath, const std::string& explicitFile, const LoadedStudy& study) {
  NoteText n;
  if (!explicitFile.empty()) {
    if (!readFile(explicitFile, n.text)) throw std::runtime_error("cannot read the note file '" + explicitFile + "'");
    n.text = trim(n.text);
    n.source = "file:" + explicitFile;
    return n;
  }
  std::error_code ec;
  fs::path dir = fs::is_directory(studyPath, ec) ? fs::path(studyPath) : fs::path(studyPath).parent_path();
  // The note lies in the study folder; when the path points at the series folder (CT/), look one level up.
  for (const fs::path& d : {dir, dir.parent_path()}) {
    if (d.empty()) continue;
    std::string t;
    if (readFile(d / "note.txt", t) && !trim(t).empty()) {
      n.text = trim(t);
      n.source = "note.txt:" + (d / "note.txt").string();
      return n;
    }
    if (readFile(d / "fhir.json", t)) {
      try {
        std::string out;
        collectText(nlohmann::json::parse(t), out);
        if (!trim(out).empty()) {
          n.text = trim(out);
          n.source = "fhir:" + (d / "fhir.json").string();
          return n;
        }
      } catch (const std::exception&) {
        // A malformed fhir.json is skipped; the DICOM history may still hold a note.
      }
    }
  }
  if (!trim(study.additionalPatientHistory).empty()) {
    n.text = trim(study.additionalPatientHistory);
    n.source = "dicom:AdditionalPatientHistory";
    return n;
  }
  n.source = "none";
  return n;
}

}  // namespace workflow
