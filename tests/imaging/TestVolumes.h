#pragma once
// Small synthetic CT volumes and scratch folders for the imaging tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "imaging/CtSeriesWriter.h"
#include "imaging/CtVolume.h"

namespace testvol {

/// Every transfer syntax the writer supports, in enum order (for parameterised tests).
inline std::vector<imaging::TransferSyntax> everyTransferSyntax() {
  std::vector<imaging::TransferSyntax> v;
  for (const auto& name : imaging::transferSyntaxNames()) v.push_back(imaging::transferSyntaxFromName(name));
  return v;
}

/// A 64x64x20 body-like phantom: air outside an ellipse of soft tissue, lungs, a bright spine,
/// plus a deterministic pattern that exercises the full HU range used by CT.
inline imaging::CtVolume makeVolume(int nx = 64, int ny = 64, int nz = 20, double dz = 1.25) {
  imaging::VolumeGeometry g;
  g.size = {nx, ny, nz};
  g.spacingMm = {0.7, 0.75, dz};
  g.originLps = {-22.4, -24.0, -100.0};
  imaging::CtVolume v(g);
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const double x = (i - nx / 2.0) / (nx / 2.0), y = (j - ny / 2.0) / (ny / 2.0);
        int hu = -1024;
        if (x * x + y * y < 0.8) hu = 40 + ((i * 7 + j * 3 + k * 11) % 23) - 11;
        if ((x - 0.35) * (x - 0.35) + y * y < 0.08 || (x + 0.35) * (x + 0.35) + y * y < 0.08)
          hu = -850 + ((i + 2 * j + 5 * k) % 31);
        if (std::fabs(x) < 0.1 && y > 0.4 && y < 0.6) hu = 1200 + k * 10;
        v.at(i, j, k) = static_cast<int16_t>(hu);
      }
  return v;
}

inline imaging::CtSeriesMetadata makeMeta(const std::string& patientId = "MS-TEST-1",
                                          const std::string& seriesUid = "1.2.826.0.1.3680043.10.1234.1.2") {
  imaging::CtSeriesMetadata m;
  m.patientId = patientId;
  m.patientName = "Test^Patient";
  m.patientSex = "F";
  m.patientAge = "062Y";
  m.patientBirthDate = "19640101";
  m.studyInstanceUid = "1.2.826.0.1.3680043.10.1234.1";
  m.seriesInstanceUid = seriesUid;
  m.frameOfReferenceUid = "1.2.826.0.1.3680043.10.1234.1.9";
  m.studyDate = "20260101";
  m.studyTime = "101500";
  m.accessionNumber = "A1";
  m.additionalPatientHistory = "62 y/o female, former smoker, 30 pack-years";
  return m;
}

/// A fresh scratch folder removed at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("medseek_imaging_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace testvol
