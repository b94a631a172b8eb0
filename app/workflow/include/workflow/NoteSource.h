#pragma once
/// NoteSource: which clinical note goes with a study, in this order: an explicit file (--note), note.txt
/// beside (or inside) the study folder, the text fields of fhir.json there, the DICOM
/// AdditionalPatientHistory. None -> empty text and source "none" (the analysis is then image-only).
#include <string>

#include "workflow/StudyLoading.h"

namespace workflow {

struct NoteText {
  std::string text;    ///< UTF-8; empty when none was found
  std::string source;  ///< "file:<path>" | "note.txt:<path>" | "fhir:<path>" | "dicom:AdditionalPatientHistory" | "none"
};

/// Throws std::runtime_error when `explicitFile` is given but cannot be read.
NoteText findNote(const std::string& studyPath, const std::string& explicitFile, const LoadedStudy& study);

}  // namespace workflow
