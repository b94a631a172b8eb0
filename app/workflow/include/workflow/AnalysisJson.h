#pragma once
/// AnalysisJson: the analysis result as JSON (keys documented in `medseek-cli analyze --help`), and the
/// heatmap as a MetaImage (.mha, float32, LPS geometry of the CT) for viewers (Slicer, ITK-SNAP).
#include <string>

#include "workflow/Analysis.h"

namespace workflow {

std::string analysisToJson(const AnalysisResult& result, int indent = 2);
/// Writes heatmap.values on heatmap.geometry. Throws std::runtime_error when empty or unwritable.
void writeHeatmapMha(const explain::Heatmap& heatmap, const std::string& path);

}  // namespace workflow
