#pragma once
/// AnalysisJson: the analysis result as JSON (keys documented in `medseek-cli analyze --help`), and the
/// heatmap as a MetaImage (.mha, float32, LPS geometry of the CT) for viewers (Slicer, ITK-SNAP).
/// The readers turn both back into the plain types, so the GUI (which must not link LibTorch) can run
/// `medseek-cli analyze --json --cam FILE.mha` out of process and show the result:
///
///   workflow::AnalysisResult r = workflow::analysisFromJson(stdoutText);   // no volume, no heatmap values
///   r.explanation.heatmap.values = workflow::readHeatmapMha("cam.mha", loaded.volume->geometry()).values;
///
/// Limitations: the JSON does not hold the CT volume, the CAM cell grid values or the note text.
#include <stdexcept>
#include <string>

#include "workflow/Analysis.h"

namespace workflow {

/// Thrown when analysis JSON or a heatmap file cannot be read back (message names the key or file).
class AnalysisJsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string analysisToJson(const AnalysisResult& result, int indent = 2);

/// Reads what analysisToJson wrote. `study` holds path, patient ID and the study/series UIDs only (no
/// volume); `explanation.heatmap.values` stays empty (see readHeatmapMha). Throws AnalysisJsonError.
AnalysisResult analysisFromJson(const std::string& json);
/// The explanation part of analysisFromJson.
explain::Explanation explanationFromJson(const std::string& json);

/// Writes heatmap.values on heatmap.geometry. Throws std::runtime_error when empty or unwritable.
void writeHeatmapMha(const explain::Heatmap& heatmap, const std::string& path);
/// Reads a heatmap written by writeHeatmapMha (uncompressed MET_FLOAT, 3-D, data in the file) and
/// checks that it lies on `ctGrid` (size, spacing, origin, direction); throws AnalysisJsonError
/// naming the difference otherwise. Returns geometry + values (method/cells are left empty).
explain::Heatmap readHeatmapMha(const std::string& path, const imaging::VolumeGeometry& ctGrid);

}  // namespace workflow
