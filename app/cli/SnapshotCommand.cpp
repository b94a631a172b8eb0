// medseek-cli snapshot: a lung/mediastinum/bone window PNG of one axial slice of a study, headless.
#include <cmath>
#include <iostream>
#include <map>

#include "Commands.h"
#include "imaging/KeyImage.h"
#include "workflow/StudyLoading.h"

namespace cli {
void addSnapshotCommand(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string study, out, window = "lung";
    int slice = -1;
    std::vector<double> atLps;
    double circleMm = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("snapshot", "Write a PNG of one axial slice of a study (no display needed)");
  cmd->add_option("study", a->study, "Study folder, DICOMDIR or file")->required();
  cmd->add_option("--out", a->out, "PNG file to write")->required();
  cmd->add_option("--slice", a->slice, "Slice index k (0 = first in volume order; default: middle)");
  cmd->add_option("--at", a->atLps, "LPS point x y z in mm: the slice through it")->expected(3);
  cmd->add_option("--circle", a->circleMm, "With --at: draw a circle of this radius (mm) around the point");
  cmd->add_option("--window", a->window, "lung, mediastinum or bone")
      ->check(CLI::IsMember({"lung", "mediastinum", "bone"}));
  cmd->callback([a, &ctx] {
    const auto study = workflow::loadStudy(a->study);
    const auto& g = study.volume->geometry();
    int k = a->slice >= 0 ? a->slice : g.size[2] / 2;
    imaging::KeyImageOptions opt;
    if (!a->atLps.empty()) {
      const std::array<double, 3> p{a->atLps[0], a->atLps[1], a->atLps[2]};
      k = static_cast<int>(std::lround(g.ijkFromLps(p)[2]));
      if (a->circleMm > 0) opt.circles.push_back({p, a->circleMm});
    }
    if (k < 0 || k >= g.size[2])
      throw UsageError("slice " + std::to_string(k) + " is outside the series (0.." +
                       std::to_string(g.size[2] - 1) + ")");
    static const std::map<std::string, std::pair<double, double>> kWindows{
        {"lung", {1500, -600}}, {"mediastinum", {350, 40}}, {"bone", {2000, 300}}};
    std::tie(opt.window, opt.level) = kWindows.at(a->window);
    imaging::writeAxialPng(*study.volume, k, a->out, opt);
    std::cout << "slice " << k << " of series " << study.seriesInstanceUid << " written to " << a->out << "\n";
    ctx.exitCode = 0;
  });
}
}  // namespace cli
