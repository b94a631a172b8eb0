#include "workflow/Screening.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <sstream>
#include <thread>

#include "ScreeningDb.h"
#include "imaging/CtVolume.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"
#include "imaging/SeriesSelector.h"
#include "multimodal/Model.h"
#include "multimodal/Preprocessing.h"
#include "multimodal/Runtime.h"
#include "workflow/AnalysisJson.h"
#include "workflow/Analyzer.h"
#include "workflow/NoteSource.h"
#include "workflow/RemoveTree.h"
#ifndef MEDSEEK_NO_REPORTS
#include "workflow/Report.h"
#endif

namespace workflow {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// MEDSEEK_TRACE_SCREEN=1: one line per finished study on stderr with the moments (seconds from the start of
// the run) it started loading, started preprocessing (after the model's gate), its round on the model thread
// and its finishing: where a run's time goes.
bool traceScreen() {
  static const bool on = std::getenv("MEDSEEK_TRACE_SCREEN") != nullptr;
  return on;
}

double threadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double threadFaults() {  // page faults of this thread so far (minor: fresh pages; major: read from disk)
  rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_minflt + u.ru_majflt);
}
double processCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

constexpr const char* kAnalysed = "analysed";
constexpr const char* kOutOfScope = "out_of_scope";
constexpr const char* kFailed = "failed";

// ---------------------------------------------------------------------------------------------- files

/// The name `path` is written under before its rename onto `path`: this process's own (name.tmp<pid>), the
/// pattern a resumed run clears (removeStaleTemporaries).
fs::path temporaryFor(const fs::path& path) { return path.string() + ".tmp" + std::to_string(::getpid()); }

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so readers (and a
/// run killed half-way) see either the old or the new file, never a partial one.
void writeAtomically(const fs::path& path, const std::string& content) {
  const fs::path tmp = temporaryFor(path);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write '" + tmp.string() + "'");
    f << content;
    f.flush();
    if (!f) throw std::runtime_error("writing '" + tmp.string() + "' failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    throw std::runtime_error("cannot rename '" + tmp.string() + "' to '" + path.string() +
                             "': " + ec.message());
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string safeDirName(const std::string& key) {
  std::string s;
  for (char c : key)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return s.empty() ? "_" : s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// ------------------------------------------------------------------------------------------ notes CSV

/// RFC 4180 CSV: "key,note" rows after a header line; quoted fields may hold commas, quotes ("") and
/// line breaks. Keys are PatientID or AccessionNumber values.
std::map<std::string, std::string> readNotesCsv(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ScreeningUsageError("cannot read the notes CSV '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false, any = false;
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      records.back().push_back(field);
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      records.back().push_back(field);
      field.clear();
      records.emplace_back();
      ++line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted)
    throw ScreeningUsageError("notes CSV '" + path + "': a quoted field is not closed (line " +
                              std::to_string(line) + ")");
  if (!field.empty() || !records.back().empty()) records.back().push_back(field);
  (void)any;
  std::map<std::string, std::string> notes;
  for (std::size_t r = 1; r < records.size(); ++r) {  // record 0 is the header
    const auto& rec = records[r];
    if (rec.empty() || (rec.size() == 1 && trim(rec[0]).empty())) continue;
    if (rec.size() < 2)
      throw ScreeningUsageError("notes CSV '" + path + "': record " + std::to_string(r + 1) +
                                " has no note column (expected: key,note)");
    notes[trim(rec[0])] = trim(rec[1]);
  }
  return notes;
}

// ------------------------------------------------------------------------------------------ discovery

struct FoundStudy {
  DiscoveredStudy info;
  imaging::PatientEntry patient;  // patient fields; `studies` holds exactly this study
};

fs::path commonFolder(const imaging::StudyEntry& st) {
  fs::path common;
  bool first = true;
  std::string_view lastPrefix;  // the text before the last '/' of the previous instance's path
  for (const auto& se : st.series)
    for (const auto& in : se.instances) {
      // Paths that share their text up to the last '/' share their folder: most instances of a study lie
      // in one or a few folders, so the path arithmetic below runs once per folder, not once per file.
      const auto slash = in.path.rfind('/');
      const std::string_view prefix(in.path.data(), slash == std::string::npos ? 0 : slash);
      if (!first && prefix == lastPrefix) continue;
      lastPrefix = prefix;
      const fs::path dir = fs::path(in.path).parent_path().lexically_normal();
      if (first) {
        common = dir;
        first = false;
        continue;
      }
      fs::path c;
      auto a = common.begin(), b = dir.begin();
      for (; a != common.end() && b != dir.end() && *a == *b; ++a, ++b) c /= *a;
      common = c;
    }
  return common;
}

bool isUnder(const std::string& file, const std::string& folder) {
  return file.size() > folder.size() && file.compare(0, folder.size(), folder) == 0 &&
         file[folder.size()] == '/';
}

std::vector<FoundStudy> discover(const std::vector<std::string>& inputs) {
  std::vector<std::string> absolute;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!fs::exists(in, ec)) throw ScreeningUsageError("input '" + in + "' does not exist");
    absolute.push_back(fs::absolute(in).lexically_normal().string());
  }
  // An input inside another input would index its files twice.
  std::sort(absolute.begin(), absolute.end());
  std::vector<std::string> roots;
  for (const auto& a : absolute)
    if (roots.empty() || (a != roots.back() && !isUnder(a, roots.back()))) roots.push_back(a);
  absolute = roots;
  auto index = imaging::DicomIndex::scan(absolute);
  std::vector<FoundStudy> out;
  for (auto& p : index.patients) {
    // Each study moves into its own entry with a copy of the patient's fields (tens of thousands of
    // instance records: copying them was a noticeable part of the setup).
    auto studies = std::move(p.studies);
    p.studies.clear();
    for (auto& st : studies) {
      FoundStudy f;
      f.patient = p;
      f.info.folder = commonFolder(st).string();
      f.info.key = st.studyInstanceUid.empty() ? "folder:" + f.info.folder : st.studyInstanceUid;
      f.info.patientId = p.patientId;
      f.info.accession = st.accessionNumber;
      f.patient.studies.push_back(std::move(st));
      out.push_back(std::move(f));
    }
  }
  // Unparseable DICOM-looking files belong to the study whose folder holds them; files outside every
  // study become a failed pseudo-study of their folder, so that nothing is skipped silently.
  std::map<std::string, FoundStudy> orphans;
  for (const auto& problem : index.problems) {
    FoundStudy* owner = nullptr;
    for (auto& f : out)
      if (isUnder(problem, f.info.folder) && (!owner || f.info.folder.size() > owner->info.folder.size()))
        owner = &f;
    if (owner) {
      owner->info.problems.push_back(problem);
      continue;
    }
    const std::string file = problem.substr(0, problem.find(": "));
    const std::string folder = fs::path(file).parent_path().string();
    auto& o = orphans[folder];
    o.info.key = "folder:" + folder;
    o.info.folder = folder;
    o.info.problems.push_back(problem);
  }
  for (auto& [folder, o] : orphans) out.push_back(std::move(o));
  std::sort(out.begin(), out.end(), [](const FoundStudy& a, const FoundStudy& b) {
    return a.info.folder != b.info.folder ? a.info.folder < b.info.folder : a.info.key < b.info.key;
  });
  return out;
}

/// Files in the study folder that are neither part of the study nor companion files (note, FHIR, truth):
/// named in a failure reason, since a slice replaced by garbage shows up as a gap in the series.
std::string strayFiles(const FoundStudy& f) {
  std::set<std::string> known;
  for (const auto& st : f.patient.studies)
    for (const auto& se : st.series)
      for (const auto& in : se.instances) known.insert(fs::path(in.path).lexically_normal().string());
  std::vector<std::string> stray;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(f.info.folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string ext = it->path().extension().string();
    if (ext == ".txt" || ext == ".json" || ext == ".csv" || ext == ".xml" || ext == ".pdf" || ext == ".mha")
      continue;
    if (known.count(it->path().lexically_normal().string())) continue;
    stray.push_back(fs::relative(it->path(), f.info.folder, ec).string());
  }
  if (stray.empty()) return "";
  std::sort(stray.begin(), stray.end());
  const std::size_t n = stray.size();
  if (n > 5) stray.resize(5);
  return "; not readable as DICOM in " + f.info.folder + ": " + join(stray, ", ") +
         (n > 5 ? " (+" + std::to_string(n - 5) + " more)" : "");
}

// --------------------------------------------------------------------------------------- preparation

struct Prepared {
  std::size_t index = 0;  // into the to-do list
  bool ok = false;
  bool cancelled = false;
  std::string error;
  LoadedStudy study;
  NoteText note;
  multimodal::PreprocessedVolume pre;
  std::string seriesChoice;
  double loadSeconds = 0, preprocessSeconds = 0;
  Clock::time_point started, preprocessStarted;         // for MEDSEEK_TRACE_SCREEN (after the model's gate)
  double loadCpuSeconds = 0, preprocessCpuSeconds = 0;  // this thread's CPU time in them
  double loadFaults = 0, preprocessFaults = 0;           // and its page faults
};

NoteText pairNote(const FoundStudy& f, const LoadedStudy& study,
                  const std::map<std::string, std::string>& csv, const std::string& csvPath) {
  LoadedStudy withoutHistory;  // note.txt / fhir.json beside the study come first
  NoteText n = findNote(f.info.folder, "", withoutHistory);
  if (n.source != "none") return n;
  for (const std::string& key : {f.info.accession, f.info.patientId}) {
    if (key.empty()) continue;
    const auto it = csv.find(key);
    if (it != csv.end() && !it->second.empty()) return {it->second, "csv:" + csvPath + "#" + key};
  }
  return findNote(f.info.folder, "", study);  // DICOM history, else "none"
}

/// The model's preprocessing options, once the model has loaded: workers load their first studies while it
/// loads and wait here before preprocessing. open(nullptr): the model failed to load (the run stops).
class ModelGate {
 public:
  void open(const multimodal::PreprocessOptions* options) {
    std::lock_guard<std::mutex> lock(m_);
    if (options) options_ = *options;
    failed_ = options == nullptr;
    open_ = true;
    cv_.notify_all();
  }
  /// Blocks until open; null when the model failed.
  const multimodal::PreprocessOptions* wait() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return open_; });
    return failed_ ? nullptr : &options_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false, failed_ = false;
  multimodal::PreprocessOptions options_;
};

Prepared prepare(const FoundStudy& f, std::size_t index, const std::map<std::string, std::string>& csv,
                 const std::string& csvPath, ModelGate& gate, int threads, const std::atomic<bool>& halt) {
  Prepared p;
  p.index = index;
  const auto t0 = Clock::now();
  p.started = t0;
  const double c0 = threadCpuSeconds(), f0 = threadFaults();
  try {
    if (f.patient.studies.empty())
      throw std::runtime_error("unreadable DICOM file(s): " + join(f.info.problems, "; "));
    imaging::DicomIndex sub;
    sub.patients = {f.patient};
    const auto ranked = imaging::rankSeriesForChestCt(sub);
    if (ranked.empty() || !ranked.front().eligible) {
      std::vector<std::string> why;
      for (const auto& c : ranked) why.push_back(c.series->label() + ": " + join(c.reasons, ", "));
      throw std::runtime_error("no series eligible for chest-CT analysis in " + f.info.folder + " (" +
                               join(why, "; ") + ")");
    }
    std::vector<std::string> choice{ranked.front().series->label() + " selected (" +
                                    join(ranked.front().reasons, ", ") + ")"};
    for (std::size_t i = 1; i < ranked.size(); ++i)
      choice.push_back(ranked[i].series->label() +
                       (ranked[i].eligible ? " not first choice (" : " excluded (") +
                       join(ranked[i].reasons, ", ") + ")");
    p.seriesChoice = join(choice, "; ");
    imaging::LoadOptions lo;
    lo.threads = threads;
    lo.progress = [&halt](double) { return !halt.load(); };
    p.study = toLoadedStudy(f.info.folder, imaging::loadSeries(*ranked.front().series, lo));
    for (const auto& problem : f.info.problems)
      p.study.warnings.push_back("unreadable file ignored: " + problem);
    p.note = pairNote(f, p.study, csv, csvPath);
    p.loadSeconds = since(t0);
    const auto t1 = Clock::now();
    const double c1 = threadCpuSeconds(), f1 = threadFaults();
    p.loadCpuSeconds = c1 - c0;
    p.loadFaults = f1 - f0;
    const multimodal::PreprocessOptions* preOptions = gate.wait();
    if (!preOptions) throw std::runtime_error("the model did not load");  // halt is set: cancelled
    p.preprocessStarted = Clock::now();
    auto po = *preOptions;
    po.threads = threads;
    p.pre = multimodal::preprocessVolume(*p.study.volume, po);
    p.preprocessSeconds = since(t1);
    p.preprocessCpuSeconds = threadCpuSeconds() - c1;
    p.preprocessFaults = threadFaults() - f1;
    p.ok = true;
  } catch (const std::exception& e) {
    if (halt.load()) {
      p.cancelled = true;
    } else {
      p.error = e.what();
      if (!f.patient.studies.empty()) p.error += strayFiles(f);
    }
    p.loadSeconds = since(t0);
  }
  return p;
}

/// A prepared study after the model's batched pass, waiting for a worker to finish its explanation.
struct FinishJob {
  Prepared prepared;
  std::shared_ptr<const explain::ModelPass> pass;  // null: failed before or in the model
  double modelSeconds = 0;                         // the study's share of its batch's model time
  int round = 0;                                   // for MEDSEEK_TRACE_SCREEN: the model's round, its span
  Clock::time_point roundStart, roundEnd;
};

/// The work shared by the CPU workers and the model thread. Workers finish explanations first (that frees
/// memory and commits results), else prepare the next study while the prepared queue has room (a slot is
/// reserved before loading, so a worker never blocks holding a loaded study); the model thread takes
/// rounds of prepared studies and hands back finish jobs.
class WorkQueue {
 public:
  WorkQueue(std::size_t studies, std::size_t capacity) : total_(studies), capacity_(capacity) {}

  enum class Task { Finish, Prepare, Done };
  /// Blocks until there is something to do; Done once no study is left to prepare (or preparing was
  /// stopped) and the model thread has closed the finish queue and it is empty.
  Task next(FinishJob& job, std::size_t& index) {
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      if (!finish_.empty()) {
        job = std::move(finish_.front());
        finish_.pop_front();
        return Task::Finish;
      }
      if (!stopped_ && next_ < total_ && prepared_.size() + preparing_ < capacity_) {
        index = next_++;
        ++preparing_;
        return Task::Prepare;
      }
      if (finishClosed_ && (stopped_ || next_ >= total_)) return Task::Done;
      cv_.wait(lock);
    }
  }
  void prepared(Prepared&& p) {
    std::lock_guard<std::mutex> lock(m_);
    --preparing_;
    if (!stopped_) prepared_.push_back(std::move(p));
    cv_.notify_all();
  }
  /// Waits for one prepared study, then up to `wait` for more, up to `max`. Returns empty when `stop`
  /// was raised or preparing was stopped.
  std::vector<Prepared> popRound(std::size_t max, std::chrono::milliseconds wait, const std::atomic<bool>* stop) {
    std::vector<Prepared> out;
    std::unique_lock<std::mutex> lock(m_);
    while (prepared_.empty()) {
      if (stopped_ || (stop && stop->load())) return out;
      cv_.wait_for(lock, std::chrono::milliseconds(50));  // polls `stop` (set by a signal handler)
    }
    const auto deadline = Clock::now() + wait;
    while (out.size() < max) {
      if (prepared_.empty() && !cv_.wait_until(lock, deadline, [&] { return !prepared_.empty() || stopped_; })) break;
      if (prepared_.empty()) break;
      out.push_back(std::move(prepared_.front()));
      prepared_.pop_front();
    }
    cv_.notify_all();  // room for more preparation
    return out;
  }
  void pushFinish(std::vector<FinishJob>&& jobs) {
    std::lock_guard<std::mutex> lock(m_);
    for (auto& j : jobs) finish_.push_back(std::move(j));
    cv_.notify_all();
  }
  /// No more finish jobs will come; with stopPreparing, the workers finish what is queued and return.
  void closeFinish() {
    std::lock_guard<std::mutex> lock(m_);
    finishClosed_ = true;
    cv_.notify_all();
  }
  /// Starts no further study and drops the prepared ones (they are redone on --resume).
  void stopPreparing() {
    std::lock_guard<std::mutex> lock(m_);
    stopped_ = true;
    prepared_.clear();
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<FinishJob> finish_;
  std::deque<Prepared> prepared_;
  std::size_t total_, capacity_, next_ = 0, preparing_ = 0;
  bool stopped_ = false, finishClosed_ = false;
};

/// Finished studies on their way to the database: the committer thread writes whatever has arrived in one
/// transaction, re-renders the worklist and reports progress.
struct Finished {
  ScreeningRow row;
  double loadCpuSeconds = 0, preprocessCpuSeconds = 0, explainCpuSeconds = 0, deviceWaitSeconds = 0;
  double loadFaults = 0, preprocessFaults = 0, explainFaults = 0;
  ScreeningProgress event;
  std::string modelSha256;
};
class FinishedQueue {
 public:
  void push(Finished&& f) {
    std::lock_guard<std::mutex> lock(m_);
    q_.push_back(std::move(f));
    cv_.notify_one();
  }
  /// Everything queued (waits for at least one); empty once closed and drained.
  std::vector<Finished> popAll() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return closed_ || !q_.empty(); });
    std::vector<Finished> out(std::make_move_iterator(q_.begin()), std::make_move_iterator(q_.end()));
    q_.clear();
    return out;
  }
  void close() {
    std::lock_guard<std::mutex> lock(m_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Finished> q_;
  bool closed_ = false;
};

// ------------------------------------------------------------------------------------------ rendering

json number(double v, int decimals) {
  if (!std::isfinite(v)) return nullptr;
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

std::string csvField(const json& v) {
  std::string s;
  if (v.is_null()) return "";
  if (v.is_string())
    s = v.get<std::string>();
  else if (v.is_boolean())
    s = v.get<bool>() ? "true" : "false";
  else
    s = v.dump();
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

int statusOrder(const std::string& s) {
  return s == kAnalysed ? 0 : s == kOutOfScope ? 1 : 2;
}

struct RenderInput {
  fs::path outDir;
  std::set<std::string> discovered;  // keys found under the inputs in this run
  const ScreeningOptions* options = nullptr;
  std::string modelSha256, device;
  bool complete = false, interrupted = false;
  double wallSeconds = 0, runLoad = 0, runPre = 0, runModel = 0, runExplain = 0;
  double setupSeconds = 0;  // lock, database, discovery: before the first study starts
  double modelReadySeconds = 0;  // from the start until the model had loaded (overlapping the first loads)
  double runLoadCpu = 0, runPreCpu = 0, runExplainCpu = 0, runDeviceWait = 0, processCpu = 0;
  double runLoadFaults = 0, runPreFaults = 0, runExplainFaults = 0, workerIdle = 0;
  int modelRounds = 0, firstRoundStudies = 0, modelStudies = 0;
  double modelWait = 0, firstRound = 0, firstRoundModel = 0;
  imaging::VoxelBufferCounts voxelBuffers;  // served during this run
  int processedThisRun = 0, skippedAsFinished = 0;
};

/// Renders worklist.json, worklist.csv and summary.json from the database rows.
ScreeningSummary render(ScreeningDb& db, const RenderInput& in) {
  auto rows = db.rows();
  std::vector<json> list;
  for (const auto& [key, r] : rows) list.push_back(json::parse(r.rowJson));
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
    const int sa = statusOrder(a["status"]), sb = statusOrder(b["status"]);
    if (sa != sb) return sa < sb;
    if (sa == 0) {
      const double pa = a["probability"].is_number() ? a["probability"].get<double>() : -1;
      const double pb = b["probability"].is_number() ? b["probability"].get<double>() : -1;
      if (pa != pb) return pa > pb;
    }
    return a["study_uid"].get<std::string>() < b["study_uid"].get<std::string>();
  });
  static const std::vector<std::string> columns{
      "rank",       "study_uid",   "patient_id", "accession",         "status",
      "reason",     "probability", "lung_rads",  "brock_probability", "top_finding",
      "image_only", "note_source", "result",     "study_path",        "series_uid"};
  nlohmann::ordered_json worklist = nlohmann::ordered_json::array();
  std::string csv =
      "rank,study_uid,patient_id,accession,status,reason,probability,lung_rads,brock_probability,"
      "top_lobe,top_diameter_mm,top_type,image_only,note_source,result,study_path,series_uid\n";
  int rank = 0;
  ScreeningSummary s;
  for (auto& row : list) {
    row["rank"] = ++rank;
    nlohmann::ordered_json ordered = nlohmann::ordered_json::object();  // keys in the column order above
    for (const auto& c : columns) ordered[c] = row.value(c, json(nullptr));
    for (auto it = row.begin(); it != row.end(); ++it)
      if (!ordered.contains(it.key())) ordered[it.key()] = it.value();
    worklist.push_back(ordered);
    const json& tf = row["top_finding"];
    std::vector<json> cells{row["rank"],
                            row["study_uid"],
                            row["patient_id"],
                            row["accession"],
                            row["status"],
                            row["reason"],
                            row["probability"],
                            row["lung_rads"],
                            row["brock_probability"],
                            tf.is_object() ? tf["lobe"] : json(nullptr),
                            tf.is_object() ? tf["diameter_mm"] : json(nullptr),
                            tf.is_object() ? tf["type"] : json(nullptr),
                            row["image_only"],
                            row["note_source"],
                            row["result"],
                            row["study_path"],
                            row["series_uid"]};
    for (std::size_t i = 0; i < cells.size(); ++i) csv += (i ? "," : "") + csvField(cells[i]);
    csv += "\n";
    const std::string status = row["status"];
    if (status == kAnalysed)
      ++s.analysed;
    else if (status == kOutOfScope)
      ++s.outOfScope;
    else
      ++s.failed;
    if (status != kAnalysed)
      s.failures.push_back({row["study_uid"], row.value("study_path", ""), status, row.value("reason", "")});
  }
  std::set<std::string> all = in.discovered;
  for (const auto& [key, r] : rows) all.insert(key);
  s.discovered = static_cast<int>(all.size());
  s.notProcessed = s.discovered - s.analysed - s.outOfScope - s.failed;
  s.interrupted = in.interrupted;
  s.device = in.device;
  s.processedThisRun = in.processedThisRun;
  s.skippedAsFinished = in.skippedAsFinished;
  s.wallSeconds = in.wallSeconds;
  s.setupSeconds = in.setupSeconds;
  s.modelReadySeconds = in.modelReadySeconds;
  s.loadSeconds = in.runLoad;
  s.preprocessSeconds = in.runPre;
  s.modelSeconds = in.runModel;
  s.explainSeconds = in.runExplain;
  s.loadCpuSeconds = in.runLoadCpu;
  s.preprocessCpuSeconds = in.runPreCpu;
  s.explainCpuSeconds = in.runExplainCpu;
  s.deviceWaitSeconds = in.runDeviceWait;
  s.processCpuSeconds = in.processCpu;
  s.loadFaults = in.runLoadFaults;
  s.preprocessFaults = in.runPreFaults;
  s.explainFaults = in.runExplainFaults;
  s.workerIdleSeconds = in.workerIdle;
  s.modelRounds = in.modelRounds;
  s.modelWaitSeconds = in.modelWait;
  s.firstRoundSeconds = in.firstRound;
  s.firstRoundModelSeconds = in.firstRoundModel;
  s.firstRoundStudies = in.firstRoundStudies;
  s.modelStudies = in.modelStudies;
  s.freshVoxelBuffers = in.voxelBuffers.fresh;
  s.reusedVoxelBuffers = in.voxelBuffers.reused;
  double allLoad = 0, allPre = 0, allModel = 0, allExplain = 0;
  for (const auto& [key, r] : rows) {
    allLoad += r.loadSeconds;
    allPre += r.preprocessSeconds;
    allModel += r.modelSeconds;
    allExplain += r.explainSeconds;
  }
  json failures = json::array();
  for (const auto& f : s.failures)
    failures.push_back(
        {{"study_uid", f.studyKey}, {"study_path", f.folder}, {"status", f.status}, {"reason", f.reason}});
  std::vector<std::string> pending;
  for (const auto& k : all)
    if (!rows.count(k)) pending.push_back(k);
  json summary = {
      {"discovered", s.discovered},
      {"analysed", s.analysed},
      {"out_of_scope", s.outOfScope},
      {"failed", s.failed},
      {"not_processed", s.notProcessed},
      {"complete", in.complete && s.notProcessed == 0},
      {"interrupted", in.interrupted},
      {"failures", failures},
      {"not_processed_studies", pending},
      {"inputs", in.options->inputs},
      {"model_sha256", in.modelSha256},
      {"device", in.device},
      {"batch", in.options->batch},
      {"workers", in.options->workers},
      {"this_run",
       {{"processed", in.processedThisRun},
        {"skipped_as_finished", in.skippedAsFinished},
        {"wall_seconds", in.wallSeconds},
        {"studies_per_second", in.wallSeconds > 0 ? in.processedThisRun / in.wallSeconds : 0.0},
        {"setup_seconds", in.setupSeconds},
        {"model_ready_seconds", in.modelReadySeconds},
        {"pipeline_studies_per_second",
         in.wallSeconds > in.setupSeconds ? in.processedThisRun / (in.wallSeconds - in.setupSeconds) : 0.0},
        {"seconds",
         {{"load", in.runLoad},
          {"preprocess", in.runPre},
          {"model", in.runModel},
          {"explain", in.runExplain}}},
        {"cpu_seconds",
         {{"load", in.runLoadCpu},
          {"preprocess", in.runPreCpu},
          {"preprocess_waiting_for_device", in.runDeviceWait},
          {"explain", in.runExplainCpu},
          {"process", in.processCpu}}},
        {"page_faults", {{"load", in.runLoadFaults}, {"preprocess", in.runPreFaults}, {"explain", in.runExplainFaults}}},
        {"worker_idle_seconds", in.workerIdle},
        {"model_thread",
         {{"rounds", in.modelRounds},
          {"waiting_seconds", in.modelWait},
          {"first_round_seconds", in.firstRound},
          {"studies", in.modelStudies},
          {"first_round_studies", in.firstRoundStudies},
          {"first_round_model_seconds", in.firstRoundModel},
          {"batch", in.options->batch},
          {"queue", effectiveQueue(*in.options)},
          {"batch_wait_ms", in.options->batchWaitMs}}},
        {"ct_buffers", {{"fresh", in.voxelBuffers.fresh}, {"reused", in.voxelBuffers.reused}}}}},
      {"all_runs_seconds",
       {{"load", allLoad}, {"preprocess", allPre}, {"model", allModel}, {"explain", allExplain}}},
      {"timing_note",
       "load, preprocess and explain run on the CPU workers in parallel with the model thread, so the sums "
       "exceed the wall time; model = each study's share of its batch's pass on the device (forward, Grad-CAM "
       "backward, note occlusion forwards), explain = findings measured on the CT, note evidence, narrative, "
       "writing the result"}};
  s.worklistJson = (in.outDir / "worklist.json").string();
  s.worklistCsv = (in.outDir / "worklist.csv").string();
  s.summaryJson = (in.outDir / "summary.json").string();
  s.database = (in.outDir / "screening.db").string();
  writeAtomically(s.worklistJson, worklist.dump(2) + "\n");
  writeAtomically(s.worklistCsv, csv);
  writeAtomically(s.summaryJson, summary.dump(2) + "\n");
  return s;
}

/// Temporary files of a run that was killed while writing (name.tmp<pid>, report.tmp<pid>/): only this
/// program writes into the output folder, and the run lock is held, so they are garbage.
void removeStaleTemporaries(const fs::path& out) {
  std::error_code ec;
  std::vector<fs::path> stale;
  auto collect = [&stale](const fs::path& dir) {
    std::error_code e;
    for (fs::directory_iterator it(dir, e), end; !e && it != end; it.increment(e))
      if (it->path().filename().string().find(".tmp") != std::string::npos) stale.push_back(it->path());
  };
  collect(out);
  for (fs::directory_iterator it(out / "studies", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory()) collect(it->path());
  for (const auto& p : stale) removeTree(p, ec);
}

/// One run per output folder at a time: an advisory lock the kernel drops when the process dies.
class RunLock {
 public:
  explicit RunLock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw ScreeningUsageError("cannot create '" + file.string() + "'");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw ScreeningUsageError("another `screen` is running on " + file.parent_path().string() + " (lock " +
                                file.string() + ")");
    }
  }
  ~RunLock() { ::close(fd_); }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

std::vector<DiscoveredStudy> discoverStudies(const std::vector<std::string>& inputs) {
  std::vector<DiscoveredStudy> out;
  for (auto& f : discover(inputs)) out.push_back(std::move(f.info));
  return out;
}

ScreeningSummary runScreening(const ScreeningOptions& options, const ScreeningProgressFn& progress,
                              const std::atomic<bool>* stop) {
  const auto tStart = Clock::now();
  const double cpuStart = processCpuSeconds();
  if (options.inputs.empty()) throw ScreeningUsageError("no input folder given");
  if (options.outDir.empty()) throw ScreeningUsageError("no output folder given (--out)");
  if (options.batch < 1 || options.workers < 1)
    throw ScreeningUsageError("--batch and --workers must be at least 1");
  if (options.queue < 0 || options.batchWaitMs < 0)
    throw ScreeningUsageError("--queue and --batch-wait must not be negative");
#ifdef MEDSEEK_NO_REPORTS
  if (options.reports)
    throw ScreeningUsageError("--report: this build has no reports (it was configured with MEDSEEK_HEADLESS)");
#endif
  auto say = [&](const std::string& m) {
    if (progress) {
      ScreeningProgress p;
      p.message = m;
      p.elapsedSeconds = since(tStart);
      progress(p);
    }
  };
  const fs::path out = fs::absolute(options.outDir);
  std::error_code ec;
  fs::create_directories(out / "studies", ec);
  if (ec)
    throw ScreeningUsageError("cannot create the output folder '" + out.string() + "': " + ec.message());
  RunLock lock(out / "screening.lock");
  removeStaleTemporaries(out);
  ScreeningDb db((out / "screening.db").string());
  const int existing = db.rowCount();
  if (existing > 0 && !options.resume)
    throw ScreeningUsageError(
        out.string() + "/screening.db already holds " + std::to_string(existing) +
        " screened studies: pass --resume to continue that run, or choose another --out");
  std::map<std::string, std::string> csv;
  if (!options.notesCsv.empty()) csv = readNotesCsv(options.notesCsv);

  // The model loads (and the GPU starts up) on a thread of its own while the studies are discovered.
  say("loading the model");
  auto loading = std::async(std::launch::async, [&options] {
    AnalysisOptions ao;
    ao.modelPath = options.modelPath;
    ao.device = options.device;
    ao.language = options.language;
    ao.threads = options.threads;
    ao.cudnnAutotune = options.cudnnAutotune;
    // On CUDA the model thread's own CPU work is small: one LibTorch CPU thread keeps its thread pool from
    // spinning on the cores the workers need (with all cores, each small CPU op waited for busy threads).
    if (ao.threads == 0 && options.device != "cpu" && multimodal::runtimeInfo().cudaAvailable) ao.threads = 1;
    ao.heatmapOnCtGrid = options.heatmaps || options.reports;
    // Rounds come in every size up to the batch, each size a capture of its own, while the workers use the
    // GPU too: the batched passes run eagerly.
    ao.cudaGraphs = false;
    return std::make_unique<Analyzer>(ao);
  });
  say("discovering studies");
  const std::vector<FoundStudy> found = discover(options.inputs);
  if (found.empty()) throw ScreeningUsageError("no DICOM studies found under " + join(options.inputs, ", "));
  if (db.meta("inputs").empty()) db.setMeta("inputs", json(options.inputs).dump());

  const auto finished = db.rows();
  std::vector<const FoundStudy*> todo;
  std::set<std::string> discovered;
  int skipped = 0;
  for (const auto& f : found) {
    if (!discovered.insert(f.info.key).second) continue;  // the same study twice (overlapping inputs)
    const auto it = finished.find(f.info.key);
    if (it != finished.end() && it->second.status != kFailed) {  // failed ones are retried
      ++skipped;
      continue;
    }
    todo.push_back(&f);
  }

  RenderInput ri;
  ri.outDir = out;
  ri.discovered = discovered;
  ri.options = &options;
  ri.skippedAsFinished = skipped;

  if (todo.empty()) {  // nothing left: re-render (e.g. after a crash between commit and rendering)
    ri.complete = true;
    ri.device = db.meta("device");
    ri.modelSha256 = db.meta("model_sha256");
    ri.wallSeconds = since(tStart);
    return render(db, ri);
  }

  // The workers start loading studies at once; each waits for the model (its preprocessing options and
  // device) only before preprocessing. `loaded` is set before the gate opens, and finish jobs exist only
  // after the model thread has run.
  std::unique_ptr<Analyzer> loaded;
  ModelGate gate;
  ri.modelSha256 = db.meta("model_sha256");

  // The finishing half of one study (worker thread): the explanation from its model pass, result.json,
  // heatmap and reports (atomically), and its worklist row.
  auto finishStudy = [&](FinishJob& job) {
    const auto finishStart = Clock::now();
    Prepared& p = job.prepared;
    const FoundStudy& f = *todo[p.index];
    const std::string dirName = safeDirName(f.info.key);
    Finished done;
    ScreeningRow& row = done.row;
    row.key = f.info.key;
    row.folder = f.info.folder;
    row.loadSeconds = p.loadSeconds;
    row.preprocessSeconds = p.preprocessSeconds;
    row.modelSeconds = job.modelSeconds;
    done.loadCpuSeconds = p.loadCpuSeconds;
    done.preprocessCpuSeconds = p.preprocessCpuSeconds;
    done.deviceWaitSeconds = p.pre.deviceWaitSeconds;
    done.loadFaults = p.loadFaults;
    done.preprocessFaults = p.preprocessFaults;
    const double explainCpu0 = threadCpuSeconds(), explainFaults0 = threadFaults();
    json j = {{"study_uid", f.info.key},      {"patient_id", f.info.patientId}, {"accession", f.info.accession},
              {"study_path", f.info.folder},  {"probability", nullptr},         {"lung_rads", nullptr},
              {"brock_probability", nullptr}, {"top_finding", nullptr},         {"result", nullptr},
              {"series_uid", nullptr}};
    double probability = 0;
    if (p.ok && job.pass) {
      try {
        const auto t0 = Clock::now();
        const NoteText note = p.note;
        AnalysisResult r = loaded->finish(std::move(p.study), note, &p.pre, *job.pass);
        const auto& e = r.explanation;
        done.modelSha256 = r.modelSha256;
        r.loadSeconds = p.loadSeconds;
        const fs::path dir = out / "studies" / dirName;
        fs::create_directories(dir);
        if (options.heatmaps && !e.heatmap.values.empty()) {
          const fs::path tmp = temporaryFor(dir / "heatmap.mha");
          writeHeatmapMha(e.heatmap, tmp.string());
          fs::rename(tmp, dir / "heatmap.mha");
        }
#ifndef MEDSEEK_NO_REPORTS
        if (options.reports && !e.outOfScope) {
          const fs::path tmp = temporaryFor(dir / "report");
          removeTree(tmp);
          ReportOptions ro;
          ro.language = options.language;
          ro.noteText = r.note.text;
          writeReports(r, ro, tmp.string());
          removeTree(dir / "report");
          fs::rename(tmp, dir / "report");
        }
#endif
        row.explainSeconds = since(t0);
        done.explainCpuSeconds = threadCpuSeconds() - explainCpu0;
        done.explainFaults = threadFaults() - explainFaults0;
        r.analysisSeconds = job.modelSeconds + row.explainSeconds;
        r.explanation.totalSeconds = r.analysisSeconds;
        r.totalSeconds = p.loadSeconds + p.preprocessSeconds + r.analysisSeconds;
        row.resultJson = analysisToJson(r);
        writeAtomically(dir / "result.json", row.resultJson + "\n");
        row.status = e.outOfScope ? kOutOfScope : kAnalysed;
        j["status"] = row.status;
        const bool imageOnly = !e.usedNote;
        std::vector<std::string> reasons;
        if (e.outOfScope) reasons.push_back(e.outOfScopeReason);
        if (imageOnly)
          reasons.push_back("image-only: no clinical note (note.txt, fhir.json, notes CSV, DICOM history)");
        j["reason"] = join(reasons, "; ");
        j["series_uid"] = r.study.seriesInstanceUid;
        j["series_choice"] = p.seriesChoice;
        j["image_only"] = imageOnly;
        j["note_source"] = r.note.source;
        j["result"] = "studies/" + dirName + "/result.json";
        if (!e.outOfScope) {
          probability = e.probability;
          j["probability"] = number(e.probability, 6);
          if (!e.lungRadsCategory.empty()) j["lung_rads"] = e.lungRadsCategory;
          if (e.brock.computed) j["brock_probability"] = number(e.brock.probability, 6);
          if (!e.findings.empty()) {
            const auto& tf = e.findings.front();
            j["top_finding"] = {{"lobe", tf.lobe},
                                {"diameter_mm", tf.measured ? number(tf.diameterMm, 1) : json(nullptr)},
                                {"type", tf.measured ? json(tf.type) : json(nullptr)}};
          }
        }
        j["warnings"] = r.study.warnings;
      } catch (const std::exception& ex) {
        p.ok = false;
        p.error = std::string("analysis failed: ") + ex.what();
      }
    }
    if (!p.ok) {
      row.status = kFailed;
      row.resultJson.clear();
      j["status"] = kFailed;
      j["reason"] = p.error;
      j["image_only"] = nullptr;
      j["note_source"] = nullptr;
    }
    row.rowJson = j.dump();
    if (traceScreen()) {
      auto at = [&](Clock::time_point t) {  // -1: the study never got there (it failed before)
        return t == Clock::time_point{} ? -1.0 : std::chrono::duration<double>(t - tStart).count();
      };
      std::fprintf(stderr,
                   "trace-screen: study %zu load %.3f preprocess %.3f-%.3f round %d %.3f-%.3f finish %.3f-%.3f %s\n",
                   p.index, at(p.started), at(p.preprocessStarted),
                   p.preprocessStarted == Clock::time_point{} ? -1.0 : at(p.preprocessStarted) + p.preprocessSeconds,
                   job.round, at(job.roundStart), at(job.roundEnd), at(finishStart), at(Clock::now()),
                   row.status.c_str());
    }
    done.event.studyKey = row.key;
    done.event.status = row.status;
    done.event.probability = probability;
    return done;
  };

  // Freed CT buffers are reused by the next study of the same size (no fresh page faults per volume), up
  // to an eighth of the physical memory and 8 GB; off again when the run ends.
  const double physical = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  imaging::setVoxelBufferRecycling(static_cast<std::size_t>(std::min(physical / 8, 8.0 * (1 << 30))));
  struct RecyclingOff {
    ~RecyclingOff() { imaging::setVoxelBufferRecycling(0); }
  } recyclingOff;

  ri.setupSeconds = since(tStart);
  const imaging::VoxelBufferCounts buffersAtStart = imaging::voxelBufferCounts();

  // Workers: load + decode + pair the note + preprocess, and finish explanations, overlapped with the model
  // thread (this one), which runs each round of prepared studies as one batch. A committer thread writes
  // finished studies to the database.
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int workerThreads = std::max(1, static_cast<int>(hw) / (options.workers + 1));
  WorkQueue work(todo.size(), static_cast<std::size_t>(effectiveQueue(options)));
  FinishedQueue toCommit;
  std::atomic<bool> halt{false};
  std::mutex idleMutex;
  std::vector<std::thread> workers;
  for (int w = 0; w < options.workers; ++w)
    workers.emplace_back([&] {
      FinishJob job;
      std::size_t i = 0;
      double idle = 0;
      for (;;) {
        const auto tw = Clock::now();
        const auto task = work.next(job, i);
        idle += since(tw);
        if (task == WorkQueue::Task::Done) break;
        if (task == WorkQueue::Task::Prepare) {
          work.prepared(prepare(*todo[i], i, csv, options.notesCsv, gate, workerThreads, halt));
        } else {
          toCommit.push(finishStudy(job));
          job = FinishJob{};
        }
      }
      std::lock_guard<std::mutex> lock(idleMutex);
      ri.workerIdle += idle;
    });

  int done = 0;
  std::string committerError;
  std::thread committer([&] {
    auto lastRender = Clock::now();
    for (;;) {
      std::vector<Finished> batch = toCommit.popAll();
      if (batch.empty()) return;
      try {
        std::vector<ScreeningRow> rows;
        for (auto& f : batch) {
          if (ri.modelSha256.empty() && !f.modelSha256.empty()) {
            ri.modelSha256 = f.modelSha256;
            db.setMeta("model_sha256", f.modelSha256);
            db.setMeta("device", ri.device);
          }
          ri.runLoad += f.row.loadSeconds;
          ri.runPre += f.row.preprocessSeconds;
          ri.runModel += f.row.modelSeconds;
          ri.runExplain += f.row.explainSeconds;
          ri.runLoadCpu += f.loadCpuSeconds;
          ri.runPreCpu += f.preprocessCpuSeconds;
          ri.runExplainCpu += f.explainCpuSeconds;
          ri.runDeviceWait += f.deviceWaitSeconds;
          ri.runLoadFaults += f.loadFaults;
          ri.runPreFaults += f.preprocessFaults;
          ri.runExplainFaults += f.explainFaults;
          rows.push_back(std::move(f.row));
        }
        db.put(rows);  // one transaction: all of it or nothing survives a kill
        ri.processedThisRun = done + static_cast<int>(rows.size());
        ri.wallSeconds = since(tStart);
        if (since(lastRender) >= 1.0 || done == 0) {  // the final render follows the run
          render(db, ri);
          lastRender = Clock::now();
        }
        for (auto& f : batch) {
          f.event.done = ++done;
          f.event.total = static_cast<int>(todo.size());
          f.event.alreadyDone = skipped;
          f.event.elapsedSeconds = since(tStart);
          if (progress) progress(f.event);
        }
      } catch (const std::exception& e) {
        committerError = e.what();
        halt = true;
        return;
      }
    }
  });
  // Ends the run. With `abandon` no further study starts (prepared ones are dropped and redone on
  // --resume); the explanations already queued are finished and committed either way.
  auto shutdown = [&](bool abandon) {
    if (abandon) {
      halt = true;
      work.stopPreparing();
    }
    work.closeFinish();
    for (auto& t : workers)
      if (t.joinable()) t.join();
    toCommit.close();
    if (committer.joinable()) committer.join();
  };

  // The model, loaded meanwhile: a failure stops the run before any study is recorded (the workers' studies
  // are dropped as cancelled).
  try {
    loaded = loading.get();
  } catch (...) {
    halt = true;
    gate.open(nullptr);
    shutdown(true);
    throw;
  }
  ri.device = loaded->model().info().device;
  {
    multimodal::PreprocessOptions preOptions = loaded->model().preprocessOptions();
    // On a GPU machine the workers' costliest CPU step, the resample, runs on the model's GPU as well.
    if (options.resampleOnGpu && ri.device.rfind("cuda", 0) == 0) preOptions.device = ri.device;
    gate.open(&preOptions);
  }
  ri.modelReadySeconds = since(tStart);

  std::size_t received = 0;
  bool interrupted = false;
  int rounds = 0;  // the model thread's own figures, handed to the final render after the committer has ended
  double modelWait = 0, firstRound = 0, firstRoundModel = 0;
  int firstRoundStudies = 0, modelStudies = 0;
  try {
    while (received < todo.size() && !halt.load()) {
      const auto tWait = Clock::now();
      std::vector<Prepared> round = work.popRound(static_cast<std::size_t>(options.batch),
                                                  std::chrono::milliseconds(options.batchWaitMs), stop);
      modelWait += since(tWait);
      if (stop && stop->load()) {  // asked to stop: the round taken is redone on --resume
        interrupted = true;
        break;
      }
      const auto roundStart = Clock::now();
      if (!round.empty() && rounds++ == 0) firstRound = since(tStart);
      received += round.size();
      std::vector<FinishJob> jobs;
      std::vector<std::size_t> ok;  // jobs whose study reached the model
      for (auto& p : round) {
        if (p.cancelled) continue;
        if (p.ok) ok.push_back(jobs.size());
        jobs.push_back({std::move(p), nullptr, 0});
      }
      // One batched pass for the round; when it fails, each study alone, so that one bad study fails alone.
      auto runCases = [&](const std::vector<std::size_t>& idx) {
        std::vector<Analyzer::BatchCase> cases;
        for (std::size_t k : idx) {
          const Prepared& p = jobs[k].prepared;
          cases.push_back({&p.study, &p.note, &p.pre});
        }
        const auto t0 = Clock::now();
        auto passes = loaded->runModel(cases);
        const double share = since(t0) / static_cast<double>(idx.size());
        for (std::size_t c = 0; c < idx.size(); ++c) {
          jobs[idx[c]].pass = passes[c];
          jobs[idx[c]].modelSeconds = share;
        }
      };
      if (!ok.empty()) {
        try {
          runCases(ok);
        } catch (const std::exception& batchError) {
          for (std::size_t k : ok) {
            try {
              runCases({k});
            } catch (const std::exception& e) {
              jobs[k].prepared.ok = false;
              jobs[k].prepared.error = std::string("analysis failed: ") + e.what();
            }
          }
        }
      }
      const auto roundEnd = Clock::now();
      modelStudies += static_cast<int>(ok.size());
      if (rounds == 1) {
        for (std::size_t k : ok) firstRoundModel += jobs[k].modelSeconds;
        firstRoundStudies = static_cast<int>(ok.size());
      }
      for (auto& j : jobs) {
        j.round = rounds;
        j.roundStart = roundStart;
        j.roundEnd = roundEnd;
      }
      work.pushFinish(std::move(jobs));
    }
  } catch (...) {
    shutdown(true);
    throw;
  }
  shutdown(interrupted || halt.load());
  if (!committerError.empty()) throw std::runtime_error(committerError);
  ri.interrupted = interrupted;
  ri.complete = !interrupted;
  ri.modelRounds = rounds;
  ri.modelWait = modelWait;
  ri.firstRound = firstRound;
  ri.firstRoundModel = firstRoundModel;
  ri.firstRoundStudies = firstRoundStudies;
  ri.modelStudies = modelStudies;
  ri.processedThisRun = done;
  ri.wallSeconds = since(tStart);
  ri.processCpu = processCpuSeconds() - cpuStart;
  const imaging::VoxelBufferCounts buffersAtEnd = imaging::voxelBufferCounts();
  ri.voxelBuffers = {buffersAtEnd.fresh - buffersAtStart.fresh, buffersAtEnd.reused - buffersAtStart.reused};
  return render(db, ri);
}

}  // namespace workflow
