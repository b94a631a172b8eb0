#pragma once
/// CohortWriter: writes synthetic phantom cases as study folders a hospital tool would recognise:
///   <out>/<folder>/CT/*.dcm   CT Image Storage series (one file per slice)
///   <out>/<folder>/note.txt   clinical note (UTF-8)
///   <out>/<folder>/fhir.json  FHIR R4 Bundle of the patient record
///   <out>/<folder>/truth.json ground truth (nodules, Brock probability, label, Lung-RADS)
/// plus <out>/cohort.json and <out>/cohort.csv (manifest). Each study folder is written to a temporary
/// name and renamed when complete, so an interrupted run never leaves a half-written study behind.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "imaging/CtSeriesWriter.h"
#include "phantom/CohortGenerator.h"

namespace workflow {

struct CohortWriteOptions {
  std::uint64_t seed = 1;
  int cases = 1;
  int firstIndex = 0;
  phantom::PhantomOptions phantom;
  imaging::TransferSyntax transferSyntax = imaging::TransferSyntax::ExplicitVrLittleEndian;
  int threads = 0;  ///< 0: hardware concurrency
};

struct WrittenCase {
  int index = 0;
  std::string folder;  ///< absolute path of the study folder
  std::string studyInstanceUid, patientId, lungRads;
  bool cancer = false;
  double brockProbability = 0;
};

/// DICOM metadata of a phantom case (patient, study, series, history) for the CT writer.
imaging::CtSeriesMetadata seriesMetadataFor(const phantom::Case& c);

/// Writes one generated case into `folder` (created; replaced if it exists).
WrittenCase writeCase(const phantom::Case& c, const std::string& folder,
                      imaging::TransferSyntax syntax = imaging::TransferSyntax::ExplicitVrLittleEndian);

/// Generates and writes `options.cases` cases under `outDir` and the manifest. `progress(done, total)`.
std::vector<WrittenCase> writeCohort(const std::string& outDir, const CohortWriteOptions& options,
                                     const std::function<void(int, int)>& progress = {});

/// First index (from 0) of a clearly positive case for the demo: malignant, Lung-RADS 4B, one nodule.
int findDemoCaseIndex(const phantom::CohortGenerator& generator, int searchLimit = 2000);

}  // namespace workflow
