// medseek-cli info PATH: patients/studies/series under a file, folder or DICOMDIR, with the series the
// analysis would use and the reason every other series is excluded.
#include <iostream>

#include "Commands.h"
#include "workflow/StudyInfo.h"

namespace cli {
void addInfoCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand(
      "info",
      "List patients, studies and series in a DICOM file, folder (recursive) or DICOMDIR, with the "
      "series selected for chest-CT analysis and why the others are excluded");
  auto path = std::make_shared<std::string>();
  cmd->add_option("path", *path, "DICOM file, folder or DICOMDIR")->required();
  cmd->callback([&ctx, path] {
    std::cout << workflow::describePath(*path);
    ctx.exitCode = 0;
  });
}
}  // namespace cli
