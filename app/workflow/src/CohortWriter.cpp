#include "workflow/CohortWriter.h"
#include "workflow/RemoveTree.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace workflow {
namespace fs = std::filesystem;

namespace {
void writeText(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

imaging::CtSeriesMetadata seriesMetadataFor(const phantom::Case& c) {
  imaging::CtSeriesMetadata m;
  m.patientId = c.patientId;
  m.patientName = c.patientName;
  m.patientSex = c.record.sex == phantom::Sex::Female ? "F" : "M";
  char age[8];
  std::snprintf(age, sizeof age, "%03dY", std::clamp(c.record.ageYears, 0, 999));
  m.patientAge = age;
  m.patientBirthDate = c.patientBirthDate;
  m.studyInstanceUid = c.studyInstanceUid;
  m.seriesInstanceUid = c.seriesInstanceUid;
  m.frameOfReferenceUid = c.frameOfReferenceUid;
  m.studyDate = c.studyDate;
  m.studyTime = c.studyTime;
  m.accessionNumber = c.accessionNumber;
  m.convolutionKernel = c.kernel;
  m.ctdiVolMgy = c.ctdiVolMgy;
  m.additionalPatientHistory = c.shortHistory;
  char desc[64];
  std::snprintf(desc, sizeof desc, "Chest %.3gmm %s", c.volume.geometry().spacingMm[2], c.kernel.c_str());
  m.seriesDescription = desc;
  return m;
}

WrittenCase writeCase(const phantom::Case& c, const std::string& folder, imaging::TransferSyntax syntax) {
  const fs::path final(folder);
  const fs::path tmp = final.string() + ".partial";
  removeTree(tmp);
  fs::create_directories(tmp);
  imaging::CtSeriesWriteOptions wo;
  wo.transferSyntax = syntax;
  wo.threads = 1;  // cases are already written in parallel
  imaging::writeCtSeries(c.volume, seriesMetadataFor(c), (tmp / "CT").string(), wo);
  writeText(tmp / "note.txt", c.note + "\n");
  writeText(tmp / "fhir.json", c.fhirBundleJson());
  writeText(tmp / "truth.json", c.truthJson());
  removeTree(final);
  fs::rename(tmp, final);
  WrittenCase w;
  w.index = c.index;
  w.folder = fs::absolute(final).string();
  w.studyInstanceUid = c.studyInstanceUid;
  w.patientId = c.patientId;
  w.lungRads = clinical::toString(c.lungRads);
  w.cancer = c.cancer;
  w.brockProbability = c.brockProbability;
  return w;
}

std::vector<WrittenCase> writeCohort(const std::string& outDir, const CohortWriteOptions& options,
                                     const std::function<void(int, int)>& progress) {
  if (options.cases < 1) throw std::invalid_argument("--cases must be at least 1");
  fs::create_directories(outDir);
  phantom::PhantomOptions phantomOptions = options.phantom;
  phantomOptions.threads = 1;  // cases are generated in parallel: one thread each
  const phantom::CohortGenerator gen(options.seed, phantomOptions);
  std::vector<WrittenCase> written(static_cast<size_t>(options.cases));
  std::atomic<int> next{0}, done{0};
  std::mutex errorMutex;
  std::string firstError;
  const int threads = std::max(1, std::min(options.cases, options.threads > 0
                                                              ? options.threads
                                                              : static_cast<int>(std::thread::hardware_concurrency())));
  auto worker = [&] {
    for (int i = next++; i < options.cases; i = next++) {
      try {
        const int index = options.firstIndex + i;
        char name[32];
        std::snprintf(name, sizeof name, "case%05d", index);
        written[static_cast<size_t>(i)] =
            writeCase(gen.generate(index), (fs::path(outDir) / name).string(), options.transferSyntax);
        const int d = ++done;
        if (progress) progress(d, options.cases);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (firstError.empty()) firstError = e.what();
        next = options.cases;  // stop handing out work
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (!firstError.empty()) throw std::runtime_error(firstError);

  nlohmann::json manifest;
  manifest["generator_version"] = phantom::kGeneratorVersion;
  manifest["seed"] = options.seed;
  manifest["size"] = options.phantom.size == phantom::SizePreset::Full ? "full" : "small";
  manifest["cases"] = nlohmann::json::array();
  std::ofstream csv(fs::path(outDir) / "cohort.csv");
  csv << "index,folder,study_uid,patient_id,cancer,brock_probability,lung_rads\n";
  for (const auto& w : written) {
    const std::string folder = fs::path(w.folder).filename().string();
    manifest["cases"].push_back({{"index", w.index}, {"folder", folder}, {"study_uid", w.studyInstanceUid},
                                 {"patient_id", w.patientId}, {"cancer", w.cancer},
                                 {"brock_probability", w.brockProbability}, {"lung_rads", w.lungRads}});
    csv << w.index << ',' << folder << ',' << w.studyInstanceUid << ',' << w.patientId << ','
        << (w.cancer ? 1 : 0) << ',' << w.brockProbability << ',' << w.lungRads << '\n';
  }
  writeText(fs::path(outDir) / "cohort.json", manifest.dump(2) + "\n");
  return written;
}

int findDemoCaseIndex(const phantom::CohortGenerator& generator, int searchLimit) {
  for (int i = 0; i < searchLimit; ++i) {
    const auto c = generator.generateRecord(i);
    if (c.cancer && c.nodules.size() == 1 && c.lungRads == clinical::LungRadsCategory::C4B &&
        c.brockProbability > 0.3)
      return i;
  }
  throw std::runtime_error("no clearly positive case among the first " + std::to_string(searchLimit) +
                           " cases of this seed");
}

}  // namespace workflow
