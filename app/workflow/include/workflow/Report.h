#pragma once
/// Report: writes the annotated reports of one analysed study — the API behind the GUI's Export
/// button, the batch `--report` flag and `medseek-cli report`.
///
///   workflow::ReportOptions opt;             // all formats, English, A4
///   opt.language = "zh";  opt.paper = "letter";
///   opt.decision = workflow::RadiologistDecision{workflow::Verdict::Accepted, "Dr. Li", "2026-11-29T10:00:00Z"};
///   auto files = workflow::writeReports(result, opt, "/out/case0001");   // result: AnalysisResult
///   // -> report.pdf, sr.dcm, seg.dcm, pm.dcm, epdf.dcm, fhir.json (named by role, never by patient)
///
/// DICOM objects (TID 1500 SR, SEG, Parametric Map, Encapsulated PDF) go into the ORIGINAL study (same
/// StudyInstanceUID, new series) and reference the CT instances the result was computed on; the PDF
/// (Qt, headless) and the FHIR R4 DiagnosticReport bundle are bound to the same study/series UIDs.
/// Limitations: the source CT files must still exist at `study.path` (their SOP UIDs are re-read);
/// SEG masks are derived from the CT (> -500 HU inside a sphere of the measured diameter) when no mask
/// is given; the PDF lays out at most 8 findings in the table.
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "explain/Explanation.h"
#include "workflow/StudyLoading.h"

namespace workflow {

struct AnalysisResult;

/// Thrown for unusable report options or output directories (DICOM problems stay imaging::DicomError).
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Verdict { Accepted, Edited, Rejected };
std::string toString(Verdict v);  ///< "accepted" | "edited" | "rejected"

/// The reading radiologist's decision on the AI result (optional; absent = not yet reviewed).
struct RadiologistDecision {
  Verdict verdict = Verdict::Accepted;
  std::string readerName;  ///< DICOM PN style or free text ("Li^Wei" / "Dr. Li Wei")
  std::string time;        ///< ISO 8601, e.g. 2026-11-29T10:00:00Z (empty: report time)
  std::string comment;
  /// Edited values (Verdict::Edited); empty = unchanged.
  std::string editedLungRadsCategory, editedManagement;
};

struct ReportOptions {
  /// Any of pdf, sr, seg, pm, epdf, fhir (epdf implies writing the PDF first).
  std::vector<std::string> formats{"pdf", "sr", "seg", "pm", "epdf", "fhir"};
  std::string language = "en";  ///< en | zh (PDF text)
  std::string paper = "a4";     ///< a4 | letter
  std::optional<RadiologistDecision> decision;
  std::string modelName = "MedSeek multimodal MoE";
  std::string modelVersion;     ///< empty: the application version
  std::string noteText;         ///< clinical note (indication); empty: study.additionalPatientHistory
  int maxKeyImages = 4;         ///< 2..4
  int firstSeriesNumber = 901;  ///< SR = n, SEG = n+1, PM = n+2, EPDF = n+3
};

/// Everything a report is made of (what writeReports gets from an AnalysisResult).
struct ReportInput {
  const LoadedStudy* study = nullptr;
  const explain::Explanation* explanation = nullptr;
  std::string noteText;
  std::string modelVersion, modelSha256;
  std::vector<int> sliceInstanceNumbers;  ///< InstanceNumber of each slice k (empty: k + 1 is shown)
};

/// Writes the requested formats into outDir (created). Returns the written files in the order
/// pdf, sr, seg, pm, epdf, fhir. Throws ReportError / imaging::DicomError naming what failed.
std::vector<std::string> writeReports(const ReportInput& input, const ReportOptions& options,
                                      const std::string& outDir);
std::vector<std::string> writeReports(const LoadedStudy& study, const explain::Explanation& explanation,
                                      const ReportOptions& options, const std::string& outDir);
std::vector<std::string> writeReports(const AnalysisResult& result, const ReportOptions& options,
                                      const std::string& outDir);

/// Single writers (used by writeReports; public for tests and the GUI preview).
void writeReportPdf(const ReportInput& input, const ReportOptions& options, const std::string& pdfFile);
std::string reportFhirJson(const ReportInput& input, const ReportOptions& options,
                           const std::vector<std::string>& attachedFiles = {});

/// Nodule mask on the CT grid: voxels above `thresholdHu` within a sphere of the measured diameter
/// (plus one voxel) around the finding's centre. Empty vector when the finding has no diameter.
std::vector<std::uint8_t> noduleMask(const imaging::CtVolume& ct, const explain::Finding& finding,
                                     double thresholdHu = -500);

/// Lung-RADS category / management after the radiologist's edit (if any).
std::string effectiveCategory(const explain::Explanation& e, const ReportOptions& o);
std::string effectiveManagement(const explain::Explanation& e, const ReportOptions& o);

}  // namespace workflow
