// medseek-cli convert SERIES --out vol.nrrd|.nii.gz|.mha: loads a DICOM series (validated, HU) and writes
// a research volume.
#include <iostream>

#include "Commands.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"
#include "imaging/VolumeIo.h"

namespace cli {
namespace {
struct ConvertArgs {
  std::string input, out, seriesUid;
  double isotropicMm = 0;
  int threads = 0;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void addConvertCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<ConvertArgs>();
  auto* cmd = app.add_subcommand(
      "convert", "Load a DICOM CT series (validated, HU) and write it as NRRD, NIfTI or MetaImage");
  cmd->add_option("series", args->input,
                  "Series folder, file or DICOMDIR (the best chest-CT series is used unless --series)")
      ->required();
  cmd->add_option("--out", args->out, "Output volume: .nrrd, .nhdr, .nii, .nii.gz, .mha or .mhd")->required();
  cmd->add_option("--series", args->seriesUid, "SeriesInstanceUID to convert");
  cmd->add_option("--isotropic", args->isotropicMm, "Resample to cubic voxels of this size (mm, trilinear)");
  cmd->add_option("--threads", args->threads, "Decoder threads (0: all cores)");
  cmd->callback([&ctx, args] {
    const std::string& o = args->out;
    if (!(endsWith(o, ".nrrd") || endsWith(o, ".nhdr") || endsWith(o, ".nii") || endsWith(o, ".nii.gz") ||
          endsWith(o, ".mha") || endsWith(o, ".mhd")))
      throw UsageError("--out must end in .nrrd, .nhdr, .nii, .nii.gz, .mha or .mhd: " + o);
    if (args->isotropicMm < 0) throw UsageError("--isotropic must be positive");
    imaging::LoadOptions options;
    options.threads = args->threads;
    imaging::LoadedSeries loaded;
    if (!args->seriesUid.empty()) {
      const auto index = imaging::DicomIndex::scan(args->input);
      const auto* series = index.findSeries(args->seriesUid);
      if (!series) throw imaging::DicomError(args->input + ": no series " + args->seriesUid);
      loaded = imaging::loadSeries(*series, options);
    } else {
      loaded = imaging::loadBestSeries(args->input, options);
    }
    for (const auto& w : loaded.warnings) std::cerr << "medseek-cli: warning: " << w << "\n";
    imaging::CtVolume volume = args->isotropicMm > 0
                                   ? imaging::resampleIsotropic(loaded.volume, args->isotropicMm)
                                   : std::move(loaded.volume);
    imaging::writeVolume(volume, o);
    const auto& g = volume.geometry();
    std::cout << o << ": " << g.size[0] << "x" << g.size[1] << "x" << g.size[2] << " voxels, "
              << g.spacingMm[0] << " x " << g.spacingMm[1] << " x " << g.spacingMm[2] << " mm, series "
              << loaded.seriesInstanceUid << " (\"" << loaded.seriesDescription << "\", patient "
              << loaded.patientId << ")\n";
    ctx.exitCode = 0;
  });
}
}  // namespace cli
