#include "workflow/Worklist.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace workflow {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string text(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::runtime_error(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

std::optional<double> number(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw std::runtime_error(std::string("\"") + key + "\" is not a number");
  return it->get<double>();
}

}  // namespace

std::string worklistFile(const std::string& path) {
  std::error_code ec;
  // A folder, or a name that is neither an existing file nor a .json file: the screening output folder.
  if (fs::is_directory(path, ec) || (!fs::exists(path, ec) && fs::path(path).extension() != ".json"))
    return (fs::path(path) / "worklist.json").string();
  return path;
}

std::vector<WorklistRow> readWorklist(const std::string& path) {
  const std::string file = worklistFile(path);
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw WorklistError("worklist " + file +
                        ": cannot be read (is this a medseek-cli screen output folder?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    throw WorklistError("worklist " + file + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_array()) throw WorklistError("worklist " + file + ": expected a JSON array of studies");
  const fs::path base = fs::absolute(fs::path(file)).parent_path();
  std::vector<WorklistRow> rows;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const json& j = doc[i];
    try {
      if (!j.is_object()) throw std::runtime_error("not an object");
      WorklistRow r;
      const auto rank = j.find("rank");
      if (rank == j.end() || !rank->is_number_integer()) throw std::runtime_error("no integer \"rank\"");
      r.rank = rank->get<int>();
      r.studyUid = text(j, "study_uid");
      r.status = text(j, "status");
      if (r.studyUid.empty()) throw std::runtime_error("no \"study_uid\"");
      if (r.status.empty()) throw std::runtime_error("no \"status\"");
      r.patientId = text(j, "patient_id");
      r.accession = text(j, "accession");
      r.reason = text(j, "reason");
      r.probability = number(j, "probability");
      r.brockProbability = number(j, "brock_probability");
      r.lungRads = text(j, "lung_rads");
      if (const auto tf = j.find("top_finding"); tf != j.end() && tf->is_object()) {
        WorklistFinding f;
        f.lobe = text(*tf, "lobe");
        f.type = text(*tf, "type");
        f.diameterMm = number(*tf, "diameter_mm");
        r.topFinding = f;
      }
      if (const auto io = j.find("image_only"); io != j.end() && io->is_boolean())
        r.imageOnly = io->get<bool>();
      r.noteSource = text(j, "note_source");
      const std::string result = text(j, "result");
      if (!result.empty()) {
        fs::path p(result);
        r.resultPath = (p.is_absolute() ? p : base / p).lexically_normal().string();
      }
      r.studyPath = text(j, "study_path");
      r.seriesUid = text(j, "series_uid");
      rows.push_back(std::move(r));
    } catch (const std::exception& e) {
      throw WorklistError("worklist " + file + ": entry " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  return rows;
}

}  // namespace workflow
