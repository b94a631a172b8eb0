#pragma once
/// Screening: the batch pipeline behind `medseek-cli screen`. Discovers the studies under folders,
/// pairs each with its clinical note, analyses them (CPU workers load + preprocess while the model
/// thread explains), records every study in an SQLite database (OUT/screening.db, WAL) and renders a
/// risk-ranked worklist from it. Resumable: a run killed at any moment and restarted with `resume`
/// finishes the remaining studies without recomputing or duplicating the finished ones.
///
///   workflow::ScreeningOptions opt;
///   opt.inputs = {"/data/ldct/2026-11-28"};  opt.outDir = "/data/worklists/2026-11-28";
///   std::atomic<bool> stop{false};                      // set from a SIGINT handler to stop cleanly
///   auto s = workflow::runScreening(opt, [](const workflow::ScreeningProgress& p) { show(p); }, &stop);
///   // OUT/worklist.json, worklist.csv, summary.json, studies/<study_uid>/result.json, screening.db
///   s.failed; s.failures[0].reason;                     // nothing is skipped silently
///
/// Pipeline: `workers` CPU threads load, decode and preprocess studies (at most `queue` ahead of the model);
/// the model thread takes up to `batch` prepared studies per round (waiting at most `batchWaitMs` for more) and runs them as one batched pass on the
/// device (forward + Grad-CAM backward + the note's occlusion forwards; the image batch sits in pinned
/// memory on CUDA); the workers then finish each study (findings measured on the CT, note evidence,
/// narrative, result.json) while the model runs the next round, preferring that over loading more; a
/// committer thread writes finished studies to the database (one transaction per group that has arrived)
/// and re-renders the worklist at most once a second (and at the end).
/// Limitations: one study = one StudyInstanceUID (its folder is the common folder of its files); a
/// study split over several input folders is treated as one; the DICOM history is the last note source.
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace workflow {

/// Bad usage or environment (non-empty database without resume, missing input, unreadable notes CSV).
struct ScreeningUsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ScreeningOptions {
  std::vector<std::string> inputs;  ///< folders (searched recursively), DICOMDIR files or DICOM files
  std::string outDir;
  std::string device = "auto";  ///< auto | cpu | cuda
  std::string modelPath;        ///< empty: multimodal::Model::defaultPath()
  std::string language = "en";  ///< narrative language in result.json
  int batch = 4;                ///< prepared studies per batched model pass (>= 1)
  int workers = 2;              ///< CPU threads that load, decode, preprocess and finish studies (>= 1)
  int threads = 0;              ///< model CPU threads (0: all cores on CPU, 1 when the model runs on CUDA)
  bool resume = false;          ///< continue the run recorded in OUT/screening.db
  std::string notesCsv;         ///< CSV "key,note" with key = PatientID or AccessionNumber
  bool reports = false;         ///< also write PDF/SR/SEG/PM/EPDF/FHIR into studies/<uid>/report/
  bool heatmaps = false;        ///< also write studies/<uid>/heatmap.mha
  bool resampleOnGpu = true;    ///< workers resample each CT on the model's GPU (when it runs on CUDA)
  bool cudnnAutotune = false;   ///< CUDA: cuDNN picks its convolution algorithms by timing them per shape
  /// Studies prepared or being prepared ahead of the model (each holds its CT in memory until finished);
  /// 0: batch + workers.
  int queue = 0;
  int batchWaitMs = 50;  ///< after the first prepared study of a round, how long the model waits for more
};

/// The studies a run prepares ahead of its model: `queue`, or batch + workers when it is 0.
inline int effectiveQueue(const ScreeningOptions& o) {
  return o.queue > 0 ? o.queue : o.batch + o.workers;
}

/// One study found under the inputs (before loading).
struct DiscoveredStudy {
  std::string key;     ///< StudyInstanceUID ("folder:<path>" when the files carry none)
  std::string folder;  ///< common folder of its files
  std::string patientId, accession;
  std::vector<std::string> problems;  ///< files under the folder that could not be parsed
};

struct ScreeningProgress {
  int done = 0, total = 0;       ///< studies finished in this run / to do in this run
  int alreadyDone = 0;           ///< finished in an earlier run (resume)
  std::string studyKey, status;  ///< the study just finished: analysed | out_of_scope | failed
  double probability = 0;
  double elapsedSeconds = 0;
  std::string message;  ///< phase messages ("loading the model") when studyKey is empty
};

struct ScreeningFailure {
  std::string studyKey, folder, status, reason;
};

struct ScreeningSummary {
  int discovered = 0, analysed = 0, outOfScope = 0, failed = 0, notProcessed = 0;
  int processedThisRun = 0, skippedAsFinished = 0;
  bool interrupted = false;
  std::vector<ScreeningFailure> failures;  ///< failed and out-of-scope studies with reasons
  double wallSeconds = 0;
  double setupSeconds = 0;  ///< of wallSeconds: before the first study started (lock, database, discovery)
  /// From the start until the model had loaded; it loads on its own thread during discovery and the first
  /// studies' loading (the workers wait for it only before preprocessing).
  double modelReadySeconds = 0;
  double loadSeconds = 0, preprocessSeconds = 0, modelSeconds = 0, explainSeconds = 0;  ///< this run, summed
  /// This run: the workers' CPU time in load, preprocess and explain (their own threads, summed); of the
  /// preprocess wall time, how long the workers waited for the device's resample; the whole process's CPU
  /// time (user + system, all threads) from the start of the run.
  double loadCpuSeconds = 0, preprocessCpuSeconds = 0, explainCpuSeconds = 0, deviceWaitSeconds = 0;
  double processCpuSeconds = 0;
  /// This run: page faults (minor + major) the workers took in each phase (fresh memory first touched);
  /// how long the workers waited for work (summed over workers); CT voxel buffers served fresh by the
  /// system and reused from the run's recycling pool.
  double loadFaults = 0, preprocessFaults = 0, explainFaults = 0;
  double workerIdleSeconds = 0;
  /// This run's model thread: batched rounds run, how long it waited for prepared studies in all (from the
  /// model being ready to the last round), and when the first round started (from the start of the run).
  int modelRounds = 0;
  double modelWaitSeconds = 0, firstRoundSeconds = 0;
  /// The first round's model time and studies: on a GPU it carries the one-off loading of the libraries
  /// and kernels (a model share without it is the later rounds' compute per study).
  /// modelStudies: the studies this run's rounds passed to the model.
  double firstRoundModelSeconds = 0;
  int firstRoundStudies = 0, modelStudies = 0;
  std::size_t freshVoxelBuffers = 0, reusedVoxelBuffers = 0;
  std::string device;                                            ///< the device the model ran on
  std::string worklistJson, worklistCsv, summaryJson, database;  ///< paths written
};

using ScreeningProgressFn = std::function<void(const ScreeningProgress&)>;

/// Studies under `inputs`, sorted by folder then key. Throws ScreeningUsageError for a missing input.
std::vector<DiscoveredStudy> discoverStudies(const std::vector<std::string>& inputs);

/// Runs (or resumes) a screening. `stop` (may be null) is polled: when it becomes true the run stops
/// after the current round, leaving a resumable database (summary.interrupted = true).
/// Throws ScreeningUsageError (usage/environment) or std::runtime_error (model, database).
ScreeningSummary runScreening(const ScreeningOptions& options, const ScreeningProgressFn& progress = {},
                              const std::atomic<bool>* stop = nullptr);

}  // namespace workflow
