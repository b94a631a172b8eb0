// `medseek-cli screen` tested as a user runs it: a 20-study phantom cohort with three broken studies and
// one without any note; exit codes, the worklist, the summary, kill -9 + --resume.
//
// ctest runs every test in its own process, so the cohort and the reference run are cached under the
// build folder (the reference is keyed by the CLI binary's time stamp) behind a file lock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "Process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using testsupport::quote;
using testsupport::run;

namespace {
std::string cli() {
  return quote(MEDSEEK_CLI_EXE);
}

std::string readText(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
json readJson(const fs::path& p) {
  return json::parse(readText(p));
}

std::vector<fs::path> sortedFiles(const fs::path& dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

/// Overwrites the value of an explicit-VR little-endian element with 2-byte length (e.g. CS, LT) in place.
/// Returns false when the element is absent.
bool patchElement(const fs::path& file, std::uint16_t group, std::uint16_t element, const char vr[2],
                  const std::function<void(std::string&)>& edit) {
  std::string bytes = readText(file);
  const char tag[6] = {static_cast<char>(group & 0xff),
                       static_cast<char>(group >> 8),
                       static_cast<char>(element & 0xff),
                       static_cast<char>(element >> 8),
                       vr[0],
                       vr[1]};
  const auto at = bytes.find(std::string(tag, 6), 132);
  if (at == std::string::npos) return false;
  const std::size_t len =
      static_cast<unsigned char>(bytes[at + 6]) | (static_cast<unsigned char>(bytes[at + 7]) << 8);
  std::string value = bytes.substr(at + 8, len);
  edit(value);
  bytes.replace(at + 8, len, value.substr(0, len));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  return true;
}

struct FileLock {
  int fd;
  explicit FileLock(const fs::path& p) : fd(::open(p.c_str(), O_RDWR | O_CREAT, 0644)) {
    ::flock(fd, LOCK_EX);
  }
  ~FileLock() { ::close(fd); }
};

int dbRowCount(const fs::path& db) {
  if (!fs::exists(db)) return 0;
  sqlite3* h = nullptr;
  int n = 0;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM studies", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return n;
}

bool anyTempFile(const fs::path& out) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().find(".tmp") != std::string::npos) return true;
  return false;
}

/// Starts a command line (sh -c 'exec ...') and returns the pid of the program itself.
pid_t spawn(const std::string& commandLine) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + commandLine).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

/// The phantom cohort (20 studies; #3 misses a middle slice, #8 has a truncated slice, #13 is MR, #17 has
/// no note at all) and an uninterrupted reference run on it.
struct Cohort {
  fs::path root, cohort, ref;
  std::vector<fs::path> studies;
  std::string refOutput;
  int refExit = -1;
};

const Cohort& cohort() {
  static Cohort c = [] {
    Cohort k;
    k.root = fs::path(MEDSEEK_BINARY_DIR) / "test-data" / "screen";
    fs::create_directories(k.root);
    FileLock lock(k.root / ".lock");
    k.cohort = k.root / "cohort-v1";
    if (!fs::exists(k.cohort / ".complete")) {
      fs::remove_all(k.cohort);
      const auto r = run(cli() + " phantom --cases 20 --seed 8 --size small --threads 2 --out " +
                         quote(k.cohort.string()));
      if (r.exitCode != 0) throw std::runtime_error("phantom failed: " + r.output);
      std::vector<fs::path> dirs;
      for (const auto& e : fs::directory_iterator(k.cohort))
        if (fs::is_directory(e.path() / "CT")) dirs.push_back(e.path());
      std::sort(dirs.begin(), dirs.end());
      if (dirs.size() != 20)
        throw std::runtime_error("phantom wrote " + std::to_string(dirs.size()) + " studies");
      auto slices = [&](int i) { return sortedFiles(dirs[i] / "CT"); };
      fs::remove(slices(3)[slices(3).size() / 2]);  // a gap in the middle of the series
      const fs::path truncated = slices(8)[slices(8).size() / 2];
      fs::resize_file(truncated, fs::file_size(truncated) / 2);
      for (const auto& f : slices(13))  // every slice says MR
        if (!patchElement(f, 0x0008, 0x0060, "CS", [](std::string& v) { v = "MR"; }))
          throw std::runtime_error("no Modality in " + f.string());
      fs::remove(dirs[17] / "note.txt");
      fs::remove(dirs[17] / "fhir.json");
      for (const auto& f : slices(17))  // blank the AdditionalPatientHistory (same length, spaces)
        patchElement(f, 0x0010, 0x21B0, "LT", [](std::string& v) { v.assign(v.size(), ' '); });
      std::ofstream(k.cohort / ".complete") << "ok\n";
    }
    for (const auto& e : fs::directory_iterator(k.cohort))
      if (fs::is_directory(e.path() / "CT")) k.studies.push_back(e.path());
    std::sort(k.studies.begin(), k.studies.end());
    struct stat st {};
    ::stat(MEDSEEK_CLI_EXE, &st);
    k.ref = k.root / ("ref-" + std::to_string(st.st_mtime));
    if (!fs::exists(k.ref / ".complete")) {
      fs::remove_all(k.ref);
      const auto r =
          run(cli() + " screen " + quote(k.cohort.string()) + " --device cpu --out " + quote(k.ref.string()));
      std::ofstream(k.ref / "output.txt") << r.output;
      std::ofstream(k.ref / "exit.txt") << r.exitCode;
      std::ofstream(k.ref / ".complete") << "ok\n";
    }
    k.refOutput = readText(k.ref / "output.txt");
    k.refExit = std::stoi(readText(k.ref / "exit.txt"));
    return k;
  }();
  return c;
}

const json* rowOf(const json& worklist, const fs::path& folder) {
  for (const auto& r : worklist)
    if (fs::path(r["study_path"].get<std::string>()).parent_path() == folder ||
        fs::path(r["study_path"].get<std::string>()) == folder)
      return &r;
  return nullptr;
}
}  // namespace

TEST(Screen, BrokenStudiesAreFailedWithReasonsAndTheSummaryReconciles) {
  const auto& c = cohort();
  EXPECT_EQ(c.refExit, 1) << c.refOutput;
  const json s = readJson(c.ref / "summary.json");
  EXPECT_EQ(s["discovered"], 20);
  EXPECT_EQ(s["analysed"], 17) << s.dump(2);
  EXPECT_EQ(s["failed"], 3) << s.dump(2);
  EXPECT_EQ(s["out_of_scope"], 0);
  EXPECT_EQ(s["discovered"].get<int>(),
            s["analysed"].get<int>() + s["out_of_scope"].get<int>() + s["failed"].get<int>());
  EXPECT_EQ(s["failures"].size(), 3u);
  EXPECT_TRUE(s["complete"].get<bool>());
  const json w = readJson(c.ref / "worklist.json");
  ASSERT_EQ(w.size(), 20u);
  // Each broken study fails with a reason that names its problem; the output lists them on stderr.
  const json* gap = rowOf(w, c.studies[3]);
  const json* truncated = rowOf(w, c.studies[8]);
  const json* mr = rowOf(w, c.studies[13]);
  ASSERT_TRUE(gap && truncated && mr);
  for (const json* r : {gap, truncated, mr}) {
    EXPECT_EQ((*r)["status"], "failed") << r->dump();
    EXPECT_NE(c.refOutput.find((*r)["study_uid"].get<std::string>()), std::string::npos) << c.refOutput;
  }
  EXPECT_NE((*gap)["reason"].get<std::string>().find("missing slice"), std::string::npos) << gap->dump();
  EXPECT_NE((*truncated)["reason"].get<std::string>().find("truncated"), std::string::npos)
      << truncated->dump();
  const std::string truncatedFile =
      sortedFiles(c.studies[8] / "CT")[sortedFiles(c.studies[8] / "CT").size() / 2].filename();
  EXPECT_NE((*truncated)["reason"].get<std::string>().find(truncatedFile), std::string::npos)
      << truncated->dump();
  EXPECT_NE((*mr)["reason"].get<std::string>().find("modality MR"), std::string::npos) << mr->dump();
  // CSV has the same rows, and every analysed study has its result.json.
  const std::string csv = readText(c.ref / "worklist.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 21) << csv;
  for (const auto& r : w) {
    if (r["status"] == "analysed") {
      EXPECT_TRUE(fs::exists(c.ref / r["result"].get<std::string>())) << r.dump();
    }
  }
}

TEST(Screen, WorklistIsRankedByDescendingProbabilityWithFailuresLast) {
  const auto& c = cohort();
  const json w = readJson(c.ref / "worklist.json");
  ASSERT_EQ(w.size(), 20u);
  double previous = 2;
  bool failedSeen = false;
  std::set<double> distinct;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto& r = w[i];
    EXPECT_EQ(r["rank"], static_cast<int>(i + 1));
    if (r["status"] == "analysed") {
      EXPECT_FALSE(failedSeen) << "analysed after a failed row at rank " << i + 1;
      const double p = r["probability"];
      EXPECT_LE(p, previous) << "rank " << i + 1;
      previous = p;
      distinct.insert(p);
      const json result = readJson(c.ref / r["result"].get<std::string>());
      EXPECT_NEAR(result["probability"].get<double>(), p, 1e-6);  // the row is the result's probability
      EXPECT_FALSE(r["lung_rads"].is_null());
    } else {
      failedSeen = true;
    }
  }
  EXPECT_GT(distinct.size(), 5u) << "probabilities should differ between cases";
}

TEST(Screen, StudyWithoutAnyNoteIsAnalysedImageOnly) {
  const auto& c = cohort();
  const json w = readJson(c.ref / "worklist.json");
  const json* bare = rowOf(w, c.studies[17]);
  ASSERT_TRUE(bare);
  EXPECT_EQ((*bare)["status"], "analysed") << bare->dump();
  EXPECT_EQ((*bare)["image_only"], true) << bare->dump();
  EXPECT_EQ((*bare)["note_source"], "none");
  EXPECT_NE((*bare)["reason"].get<std::string>().find("image-only"), std::string::npos);
  const json* withNote = rowOf(w, c.studies[0]);
  ASSERT_TRUE(withNote);
  EXPECT_EQ((*withNote)["image_only"], false);
  EXPECT_EQ((*withNote)["note_source"].get<std::string>().rfind("note.txt:", 0), 0u) << withNote->dump();
}

TEST(Screen, NotesCsvSuppliesTheNoteByPatientId) {
  const auto& c = cohort();
  const json ref = readJson(c.ref / "worklist.json");
  const std::string patient = (*rowOf(ref, c.studies[17]))["patient_id"];
  const fs::path out = c.root / ("csv-" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  std::ofstream(out / "notes.csv")
      << "key,note\nnobody,\"irrelevant\"\n"
      << patient << ",\"67-year-old woman, former smoker, 40 pack-years; mother had lung cancer\"\n";
  const auto r = run(cli() + " screen " + quote(c.studies[17].string()) + " --device cpu --notes " +
                     quote((out / "notes.csv").string()) + " --out " + quote((out / "run").string()));
  EXPECT_EQ(r.exitCode, 0) << r.output;
  const json w = readJson(out / "run" / "worklist.json");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0]["image_only"], false) << w[0].dump();
  EXPECT_EQ(w[0]["note_source"].get<std::string>().rfind("csv:", 0), 0u) << w[0].dump();
  fs::remove_all(out);
}

TEST(Screen, ReportFlagWritesEveryReportFormatBesideEachResult) {
  const auto& c = cohort();
  const fs::path out = c.root / ("report-" + std::to_string(::getpid()));
  fs::remove_all(out);
  // The highest-ranked study of the reference run: it has a measured nodule, so the SEG is written too.
  const json ref = readJson(c.ref / "worklist.json");
  ASSERT_FALSE(ref.empty());
  ASSERT_TRUE(ref[0].contains("top_finding")) << ref[0].dump();
  const fs::path study = fs::path(ref[0]["study_path"].get<std::string>()).parent_path();
  const auto r = run(cli() + " screen " + quote(study.string()) + " --device cpu --report --out " +
                     quote(out.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json w = readJson(out / "worklist.json");
  ASSERT_EQ(w.size(), 1u);
  const fs::path studyDir = out / fs::path(w[0]["result"].get<std::string>()).parent_path();  // relative to --out
  for (const char* f : {"report.pdf", "sr.dcm", "seg.dcm", "pm.dcm", "epdf.dcm", "fhir.json"})
    EXPECT_TRUE(fs::is_regular_file(studyDir / "report" / f)) << (studyDir / "report" / f) << "\n" << r.output;
  EXPECT_FALSE(anyTempFile(out));
  fs::remove_all(out);
}

// --queue bounds how many studies (each holding its CT) are prepared ahead of the model and --batch-wait how
// long a round waits for more: with one and no wait, every round holds one study, however large the batch,
// and the results are those of the batched run.
TEST(Screen, QueueOfOneWithoutBatchWaitGivesOneStudyPerRoundAndTheSameResults) {
  const auto& c = cohort();
  const json refSummary = readJson(c.ref / "summary.json");
  const json& refModel = refSummary["this_run"]["model_thread"];
  EXPECT_EQ(refModel["queue"], 6) << refModel.dump();  // batch 4 + workers 2
  EXPECT_GE(refModel["rounds"].get<int>(), 5) << refModel.dump();  // 20 studies, at most 4 per round
  EXPECT_LT(refModel["rounds"].get<int>(), 20) << refModel.dump();
  const fs::path out = c.root / ("queue-" + std::to_string(::getpid()));
  fs::remove_all(out);
  std::string inputs;
  for (int i : {0, 1, 2, 4, 5}) inputs += " " + quote(c.studies[i].string());
  const auto r = run(cli() + " screen" + inputs + " --device cpu --batch 4 --workers 2 --queue 1 --batch-wait 0 --out " +
                     quote(out.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json s = readJson(out / "summary.json");
  EXPECT_EQ(s["this_run"]["model_thread"]["rounds"], 5) << s.dump(2);
  EXPECT_EQ(s["this_run"]["model_thread"]["studies"], 5);  // the later rounds' model share rests on these
  EXPECT_EQ(s["this_run"]["model_thread"]["first_round_studies"], 1);
  EXPECT_GT(s["this_run"]["model_thread"]["first_round_model_seconds"].get<double>(), 0.0);
  EXPECT_LT(s["this_run"]["model_thread"]["first_round_model_seconds"].get<double>(),
            s["this_run"]["seconds"]["model"].get<double>());
  EXPECT_EQ(s["this_run"]["model_thread"]["queue"], 1);
  EXPECT_EQ(s["this_run"]["model_thread"]["batch_wait_ms"], 0);
  const json w = readJson(out / "worklist.json"), ref = readJson(c.ref / "worklist.json");
  ASSERT_EQ(w.size(), 5u);
  for (int i : {0, 1, 2, 4, 5}) {
    const json* mine = rowOf(w, c.studies[i]);
    const json* theirs = rowOf(ref, c.studies[i]);
    ASSERT_TRUE(mine && theirs) << c.studies[i];
    EXPECT_EQ((*mine)["probability"], (*theirs)["probability"]) << mine->dump();
    EXPECT_EQ((*mine)["lung_rads"], (*theirs)["lung_rads"]) << mine->dump();
  }
  fs::remove_all(out);
}

TEST(Screen, NonEmptyDatabaseWithoutResumeIsAUsageError) {
  const auto& c = cohort();
  const auto r = run(cli() + " screen " + quote(c.studies[0].string()) + " --out " + quote(c.ref.string()));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
  const auto missing =
      run(cli() + " screen /nonexistent/medseek/ldct --out " + quote((c.root / "unused").string()));
  EXPECT_EQ(missing.exitCode, 2) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent/medseek/ldct"), std::string::npos) << missing.output;
}

// The model loads while the workers already read the first studies: weights that cannot be loaded stop the
// run with a usage/environment error naming the file, and no study is recorded (none is marked failed).
TEST(Screen, UnloadableWeightsStopTheRunAndRecordNoStudy) {
  const auto& c = cohort();
  const fs::path out = c.root / ("badweights-" + std::to_string(::getpid()));
  const fs::path weights = c.root / "not-a-model.msw";
  std::ofstream(weights) << "this is not a weights file\n";
  const auto r = run(cli() + " screen " + quote(c.cohort.string()) + " --device cpu --workers 4 --out " +
                     quote(out.string()) + " --weights " + quote(weights.string()));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find(weights.string()), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out / "worklist.json")) << r.output;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((out / "screening.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM studies", -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  fs::remove_all(out);
  fs::remove(weights);
}

TEST(Screen, SlowKilledRunsResumedGiveTheSameWorklistAsAnUninterruptedRun) {
  const auto& c = cohort();
  const fs::path out = c.root / ("resume-" + std::to_string(::getpid()));
  fs::remove_all(out);
  const fs::path db = out / "screening.db";
  const std::string base = cli() + " screen " + quote(c.cohort.string()) + " --device cpu --batch 2 --out " +
                           quote(out.string()) + " >>" + quote(out.string() + ".log") + " 2>&1";
  bool hitWrite = false;
  // Kill after the 1st, 5th and 12th committed study, then once while a file is being written.
  const std::vector<int> killAt{1, 5, 12, -1};
  for (std::size_t round = 0; round < killAt.size(); ++round) {
    const pid_t pid = spawn(base + (round ? " --resume" : ""));
    ASSERT_GT(pid, 0);
    const int before = dbRowCount(db);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool exited = false;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      const int rows =
          dbRowCount(db);  // the write round watches once this run has committed (stale files are gone)
      if (killAt[round] > 0 ? rows >= killAt[round]
                            : (rows > before && anyTempFile(out)) || rows >= before + 4) {
        if (killAt[round] < 0) hitWrite = anyTempFile(out);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(killAt[round] > 0 ? 20000 : 200));
    }
    EXPECT_FALSE(exited) << "round " << round << " finished before it could be killed";
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      EXPECT_TRUE(WIFSIGNALED(status));
    }
  }
  const auto final = run(base.substr(0, base.find(" >>")) + " --resume");
  EXPECT_EQ(final.exitCode, 1) << final.output;
  // Same worklist (it holds no timing fields), no duplicates, every study once in the database.
  const json w = readJson(out / "worklist.json"), ref = readJson(c.ref / "worklist.json");
  EXPECT_EQ(w, ref) << "resumed:\n" << w.dump(1) << "\nreference:\n" << ref.dump(1);
  std::set<std::string> keys;
  for (const auto& r : w) keys.insert(r["study_uid"].get<std::string>());
  EXPECT_EQ(keys.size(), w.size());
  EXPECT_EQ(dbRowCount(db), 20);
  const json s = readJson(out / "summary.json");
  EXPECT_EQ(s["analysed"], 17);
  EXPECT_EQ(s["failed"], 3);
  EXPECT_EQ(s["not_processed"], 0);
  // The last resume recomputed only what was not finished (failed ones are retried).
  EXPECT_LT(s["this_run"]["processed"].get<int>(), 20) << s.dump(2);
  std::cerr << "kill during a file write " << (hitWrite ? "hit" : "missed (killed between writes)") << "\n";
  fs::remove_all(out);
  fs::remove(out.string() + ".log");
}

TEST(Screen, SlowCtrlCStopsAfterTheCurrentRoundAndLeavesAResumableRun) {
  const auto& c = cohort();
  const fs::path out = c.root / ("sigint-" + std::to_string(::getpid()));
  fs::remove_all(out);
  const pid_t pid = spawn(cli() + " screen " + quote(c.cohort.string()) + " --device cpu --batch 1 --out " +
                          quote(out.string()) + " >" + quote(out.string() + ".log") + " 2>&1");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (dbRowCount(out / "screening.db") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string log = readText(out.string() + ".log");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_NE(log.find("--resume"), std::string::npos) << log;
  const json s = readJson(out / "summary.json");
  EXPECT_TRUE(s["interrupted"].get<bool>());
  EXPECT_GT(s["not_processed"].get<int>(), 0) << s.dump(2);
  EXPECT_EQ(s["discovered"], 20);
  EXPECT_EQ(dbRowCount(out / "screening.db"), s["analysed"].get<int>() + s["failed"].get<int>());
  fs::remove_all(out);
  fs::remove(out.string() + ".log");
}
