#pragma once
/// StudyInfo: the text summary of what a path holds, shared by `medseek-cli info` and the GUI.
#include <string>

namespace workflow {
/// Human-readable listing of the DICOM series found under `path`. Throws imaging::DicomError.
std::string describePath(const std::string& path);
}  // namespace workflow
