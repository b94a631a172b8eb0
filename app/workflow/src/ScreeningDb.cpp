#include "ScreeningDb.h"

#include <sqlite3.h>

#include <stdexcept>

namespace workflow {
namespace {
struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};
std::string column(sqlite3_stmt* s, int i) {
  const auto* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}
}  // namespace

ScreeningDb::ScreeningDb(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, 10000);
  exec("PRAGMA journal_mode=WAL");
  // NORMAL in WAL mode survives a killed process (only a power loss can drop the last commits).
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  exec(
      "CREATE TABLE IF NOT EXISTS studies(study_key TEXT PRIMARY KEY, status TEXT NOT NULL, folder TEXT NOT "
      "NULL,"
      " row_json TEXT NOT NULL, result_json TEXT, load_s REAL, preprocess_s REAL, model_s REAL, explain_s "
      "REAL,"
      " finished_at TEXT DEFAULT CURRENT_TIMESTAMP)");
}

ScreeningDb::~ScreeningDb() {
  sqlite3_close(db_);
}

void ScreeningDb::fail(const std::string& what) {
  throw std::runtime_error("screening database '" + path_ + "': " + what + ": " +
                           (db_ ? sqlite3_errmsg(db_) : "out of memory"));
}

void ScreeningDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("screening database '" + path_ + "': " + msg + " (in: " + sql.substr(0, 40) +
                             ")");
  }
}

int ScreeningDb::rowCount() {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM studies", -1, &st.s, nullptr) != SQLITE_OK) fail("query");
  if (sqlite3_step(st.s) != SQLITE_ROW) fail("count");
  return sqlite3_column_int(st.s, 0);
}

std::map<std::string, ScreeningRow> ScreeningDb::rows() {
  std::map<std::string, ScreeningRow> out;
  Statement st;
  if (sqlite3_prepare_v2(
          db_,
          "SELECT study_key, status, folder, row_json, result_json, load_s, preprocess_s, model_s,"
          " explain_s FROM studies",
          -1, &st.s, nullptr) != SQLITE_OK)
    fail("query");
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    ScreeningRow r;
    r.key = column(st.s, 0);
    r.status = column(st.s, 1);
    r.folder = column(st.s, 2);
    r.rowJson = column(st.s, 3);
    r.resultJson = column(st.s, 4);
    r.loadSeconds = sqlite3_column_double(st.s, 5);
    r.preprocessSeconds = sqlite3_column_double(st.s, 6);
    r.modelSeconds = sqlite3_column_double(st.s, 7);
    r.explainSeconds = sqlite3_column_double(st.s, 8);
    out[r.key] = std::move(r);
  }
  if (rc != SQLITE_DONE) fail("read");
  return out;
}

void ScreeningDb::put(const std::vector<ScreeningRow>& rows) {
  if (rows.empty()) return;
  exec("BEGIN IMMEDIATE");
  try {
    Statement st;
    if (sqlite3_prepare_v2(
            db_,
            "INSERT OR REPLACE INTO studies(study_key, status, folder, row_json, result_json, load_s,"
            " preprocess_s, model_s, explain_s) VALUES(?,?,?,?,?,?,?,?,?)",
            -1, &st.s, nullptr) != SQLITE_OK)
      fail("prepare insert");
    for (const auto& r : rows) {
      sqlite3_reset(st.s);
      sqlite3_bind_text(st.s, 1, r.key.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 2, r.status.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 3, r.folder.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st.s, 4, r.rowJson.c_str(), -1, SQLITE_TRANSIENT);
      if (r.resultJson.empty())
        sqlite3_bind_null(st.s, 5);
      else
        sqlite3_bind_text(st.s, 5, r.resultJson.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(st.s, 6, r.loadSeconds);
      sqlite3_bind_double(st.s, 7, r.preprocessSeconds);
      sqlite3_bind_double(st.s, 8, r.modelSeconds);
      sqlite3_bind_double(st.s, 9, r.explainSeconds);
      if (sqlite3_step(st.s) != SQLITE_DONE) fail("insert study " + r.key);
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void ScreeningDb::setMeta(const std::string& key, const std::string& value) {
  Statement st;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", -1, &st.s, nullptr) !=
      SQLITE_OK)
    fail("prepare meta");
  sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) fail("write meta " + key);
}

std::string ScreeningDb::meta(const std::string& key) {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key=?", -1, &st.s, nullptr) != SQLITE_OK)
    fail("query meta");
  sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(st.s) == SQLITE_ROW ? column(st.s, 0) : "";
}

}  // namespace workflow
