// GUI smoke tests (label gui): run the real `medseek` executable on a generated study under the
// display the test runs in (Xvfb in CI), grab the window to PNG and check what a user would see.
#include <gtest/gtest.h>

#include <QImage>
#include <cmath>
#include <filesystem>

#include "Process.h"
#include "imaging/CtSeriesWriter.h"
#include "phantom/CohortGenerator.h"

namespace fs = std::filesystem;
using testsupport::quote;

namespace {
fs::path writeSmallStudy(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("medseek_gui_" + name);
  fs::remove_all(dir);
  phantom::CohortGenerator gen(11);
  const auto c = gen.generate(0);
  imaging::CtSeriesMetadata meta;
  meta.patientId = c.patientId;
  meta.patientName = c.patientName;
  meta.studyInstanceUid = c.studyInstanceUid;
  meta.seriesInstanceUid = c.seriesInstanceUid;
  meta.frameOfReferenceUid = c.frameOfReferenceUid;
  meta.studyDate = c.studyDate;
  imaging::writeCtSeries(c.volume, meta, (dir / "CT").string());
  return dir;
}

struct Stats {
  double mean = 0, stddev = 0;
};
Stats greyStats(const QImage& img, QRect r) {
  double sum = 0, sum2 = 0;
  long n = 0;
  for (int y = r.top(); y <= r.bottom(); ++y)
    for (int x = r.left(); x <= r.right(); ++x) {
      const double v = qGray(img.pixel(x, y));
      sum += v;
      sum2 += v * v;
      ++n;
    }
  Stats s;
  s.mean = sum / n;
  s.stddev = std::sqrt(std::max(0.0, sum2 / n - s.mean * s.mean));
  return s;
}
}  // namespace

TEST(GuiSmoke, MedseekLinksNoQt5Library) {
  const auto r = testsupport::run("ldd " + quote(MEDSEEK_GUI_EXE));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(r.output.find("libQt5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("libQt6Widgets"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("libvtkRenderingOpenGL2"), std::string::npos) << r.output;
}

TEST(GuiSmoke, MainWindowShowsTheAxialSliceOfAGeneratedStudy) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("slice");
  const fs::path png = fs::temp_directory_path() / "medseek_gui_slice.png";
  fs::remove(png);
  const auto r = testsupport::run("timeout 60 " + quote(MEDSEEK_GUI_EXE) + " " + quote(study.string()) +
                                  " --screenshot " + quote(png.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  QImage img(QString::fromStdString(png.string()));
  ASSERT_FALSE(img.isNull()) << "no screenshot written";
  // The VTK view fills the centre of the window: a CT slice in lung window has dark lungs, bright
  // body wall and black air outside, so the centre region must be neither uniform nor black.
  const QRect centre(img.width() / 4, img.height() / 4, img.width() / 2, img.height() / 2);
  const Stats s = greyStats(img, centre);
  EXPECT_GT(s.stddev, 25.0) << "VTK view looks blank (mean " << s.mean << ")";
  EXPECT_GT(s.mean, 10.0);
  fs::remove_all(study);
}

TEST(GuiSmoke, UnreadableStudyExitsWithAReasonInsteadOfCrashing) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path empty = fs::temp_directory_path() / "medseek_gui_empty";
  fs::create_directories(empty);
  const auto r = testsupport::run("timeout 60 " + quote(MEDSEEK_GUI_EXE) + " " + quote(empty.string()) +
                                  " --quit-after-ms 300");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_NE(r.output.find("medseek_gui_empty"), std::string::npos) << r.output;
}
