#pragma once
/// Analysis: the result of the ONE headless pipeline (study folder -> explained result) and its options.
/// Plain types, usable without LibTorch (the GUI reads them back from the worker's JSON, see
/// AnalysisJson.h). The pipeline itself is workflow::Analyzer in workflow/Analyzer.h (target
/// workflow_analysis, which links LibTorch):
///
///   workflow::AnalysisOptions opt;  opt.language = "en";
///   workflow::Analyzer analyzer(opt);                       // loads the model once (throws ModelError)
///   workflow::AnalysisResult r = analyzer.analyze("/data/case0001");
///   r.explanation.heatmap.values;      // CAM on the CT grid of r.study.volume, 0..1 (overlay voxel for voxel)
///   r.explanation.findings[0].centerLps;  // jump-to (LPS mm); sliceFirst..sliceLast
///   std::cout << r.explanation.narrativeText();
#include <functional>
#include <memory>
#include <string>

#include "explain/Explanation.h"
#include "workflow/NoteSource.h"
#include "workflow/StudyLoading.h"

namespace workflow {

struct AnalysisOptions {
  std::string modelPath;         ///< empty: multimodal::Model::defaultPath()
  std::string device = "auto";   ///< auto | cpu | cuda
  std::string language = "en";   ///< narrative: en | zh
  std::string noteFile;          ///< explicit note; empty: note.txt / fhir.json / DICOM history
  std::string seriesUid;         ///< series to analyse; empty: the best chest-CT series of the study
  bool gradCamPlusPlus = false;
  bool heatmapOnCtGrid = true;   ///< false saves memory in batch mode (findings are still measured)
  int threads = 0;               ///< 0: library defaults
  bool cudnnAutotune = false;    ///< see multimodal::ModelOptions::cudnnAutotune
  std::string expertStatsPath;   ///< empty: expert_stats.json beside the weights
  bool cudaGraphs = true;        ///< see explain::ExplainOptions::cudaGraphs
};

struct AnalysisResult {
  LoadedStudy study;             ///< includes the volume the heatmap is laid on
  NoteText note;
  explain::Explanation explanation;
  std::string modelPath, modelSha256, modelVersion;
  std::string device;  ///< where the model ran: "cpu" | "cuda" | "cuda:0" ...
  double loadSeconds = 0, analysisSeconds = 0, totalSeconds = 0;
};

}  // namespace workflow
