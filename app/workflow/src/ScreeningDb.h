#pragma once
// ScreeningDb (private to workflow_analysis): the SQLite record of a screening run, one row per study.
// WAL journal + one transaction per model round: a process killed at any moment leaves either the
// whole round or none of it, never a half row; readers (the tests, a dashboard) never block the writer.
#include <map>
#include <string>
#include <vector>

struct sqlite3;

namespace workflow {

struct ScreeningRow {
  std::string key, status, folder;
  std::string rowJson;     ///< the worklist row (without rank)
  std::string resultJson;  ///< the full analysis JSON (empty when failed)
  double loadSeconds = 0, preprocessSeconds = 0, modelSeconds = 0, explainSeconds = 0;
};

class ScreeningDb {
 public:
  /// Opens or creates `path`. Throws std::runtime_error naming the file and SQLite's message.
  explicit ScreeningDb(const std::string& path);
  ~ScreeningDb();
  ScreeningDb(const ScreeningDb&) = delete;
  ScreeningDb& operator=(const ScreeningDb&) = delete;

  int rowCount();
  std::map<std::string, ScreeningRow> rows();
  /// Writes all rows in one transaction (replacing rows of the same key).
  void put(const std::vector<ScreeningRow>& rows);
  void setMeta(const std::string& key, const std::string& value);
  std::string meta(const std::string& key);

 private:
  void exec(const std::string& sql);
  [[noreturn]] void fail(const std::string& what);
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace workflow
