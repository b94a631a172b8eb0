#pragma once
/// Worklist: reads the risk-ranked worklist that `medseek-cli screen` writes (OUT/worklist.json), so the
/// GUI can list it and open a study. Torch-free (the GUI links it).
///
///   std::vector<workflow::WorklistRow> rows = workflow::readWorklist("/data/worklists/2026-11-28");
///   rows[0].studyPath; rows[0].seriesUid; rows[0].resultPath;   // absolute, "" when absent
///
/// Accepts the screening output folder or the worklist.json file. Relative paths in the file (the
/// per-study result.json) are resolved against the file's folder. Limitations: reads the JSON only,
/// not screening.db (the worklist is rendered from it after every round, so it is current).
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace workflow {

/// Thrown when a worklist cannot be read; the message names the file and the problem.
class WorklistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The largest finding of an analysed study.
struct WorklistFinding {
  std::string lobe, type;
  std::optional<double> diameterMm;
};

/// One row of worklist.json.
struct WorklistRow {
  int rank = 0;
  std::string studyUid, patientId, accession;
  std::string status;  ///< analysed | out_of_scope | failed
  std::string reason;  ///< why out of scope / failed ("" when analysed)
  std::optional<double> probability, brockProbability;
  std::string lungRads;
  std::optional<WorklistFinding> topFinding;
  bool imageOnly = false;
  std::string noteSource;
  std::string resultPath;  ///< absolute path of studies/<uid>/result.json; "" when none
  std::string studyPath, seriesUid;
};

/// The worklist.json file for `path` (the file itself, or the folder holding it).
std::string worklistFile(const std::string& path);

/// Reads the rows in file order (rank order). Throws WorklistError naming the file and the problem
/// (missing, not JSON, not an array, a row without rank/study_uid/status, a value of the wrong type).
std::vector<WorklistRow> readWorklist(const std::string& path);

}  // namespace workflow
