// medseek-cli report STUDY --out DIR: analyse one study, then write the annotated reports (PDF, TID 1500 SR,
// SEG, Parametric Map, Encapsulated PDF, FHIR R4) through workflow::writeReports. Files are named by role.
#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>

#include "Commands.h"
#include "workflow/Analyzer.h"
#include "workflow/Report.h"

namespace cli {
namespace {
struct ReportArgs {
  std::string study, out, formats = "pdf,sr,seg,pm,epdf,fhir", paper = "a4", decision, reader, comment,
      editedCategory;
  workflow::AnalysisOptions options;
};

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}
}  // namespace

void addReportCommand(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<ReportArgs>();
  auto* c = app.add_subcommand("report",
                               "Analyze one study and write report.pdf, sr.dcm (TID 1500), seg.dcm, pm.dcm (Grad-CAM), "
                               "epdf.dcm and fhir.json into --out (research use only)");
  c->add_option("study", a->study, "study folder, DICOMDIR or file")->required();
  c->add_option("--out", a->out, "output folder (created)")->required();
  c->add_option("--formats", a->formats, "comma-separated subset of pdf,sr,seg,pm,epdf,fhir");
  c->add_option("--paper", a->paper, "a4 | letter")->check(CLI::IsMember({"a4", "letter"}));
  addAnalysisOptions(c, a->options, "report and narrative language: en | zh");
  c->add_option("--decision", a->decision, "radiologist decision: accepted | edited | rejected")
      ->check(CLI::IsMember({"accepted", "edited", "rejected"}));
  c->add_option("--reader", a->reader, "radiologist name (with --decision)");
  c->add_option("--comment", a->comment, "radiologist comment (with --decision)");
  c->add_option("--edited-category", a->editedCategory, "Lung-RADS category set by the radiologist (--decision edited)");
  c->callback([a, &ctx] {
    workflow::ReportOptions ro;
    ro.formats = splitList(a->formats);
    for (const auto& f : ro.formats)
      if (f != "pdf" && f != "sr" && f != "seg" && f != "pm" && f != "epdf" && f != "fhir")
        throw UsageError("--formats: unknown format '" + f + "' (pdf, sr, seg, pm, epdf, fhir)");
    ro.language = a->options.language;
    ro.paper = a->paper;
    if (!a->decision.empty()) {
      workflow::RadiologistDecision d;
      d.verdict = a->decision == "accepted" ? workflow::Verdict::Accepted
                  : a->decision == "edited" ? workflow::Verdict::Edited
                                            : workflow::Verdict::Rejected;
      d.readerName = a->reader;
      d.comment = a->comment;
      d.editedLungRadsCategory = a->editedCategory;
      ro.decision = d;
    }
    const auto r = workflow::analyzeStudy(a->study, a->options);
    const auto t0 = std::chrono::steady_clock::now();
    const auto files = workflow::writeReports(r, ro, a->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& f : files) std::cout << f << "\n";
    std::cout << "reports written in " << seconds << " s (analysis " << r.totalSeconds << " s)\n";
    ctx.exitCode = r.explanation.outOfScope ? 1 : 0;
  });
}

}  // namespace cli
