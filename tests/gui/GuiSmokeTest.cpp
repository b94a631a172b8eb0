// GUI smoke tests (label gui): run the real `medseek` executable on a generated study under the
// display the test runs in (Xvfb in CI), grab the window to PNG and check what a user would see.
#include <gtest/gtest.h>

#include <QImage>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <utility>

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

bool near(QRgb p, int r, int g, int b, int tol = 14) {
  return std::abs(qRed(p) - r) <= tol && std::abs(qGreen(p) - g) <= tol && std::abs(qBlue(p) - b) <= tol;
}

/// Column (or row) of `region` with the most pixels of colour (r,g,b), and that count.
std::pair<int, int> strongestLine(const QImage& img, QRect region, bool vertical, int r, int g, int b) {
  int best = -1, bestCount = 0;
  const int n = vertical ? region.width() : region.height();
  for (int t = 0; t < n; ++t) {
    int count = 0;
    const int m = vertical ? region.height() : region.width();
    for (int u = 0; u < m; ++u) {
      const int x = vertical ? region.left() + t : region.left() + u;
      const int y = vertical ? region.top() + u : region.top() + t;
      if (near(img.pixel(x, y), r, g, b)) ++count;
    }
    if (count > bestCount) {
      bestCount = count;
      best = vertical ? region.left() + t : region.top() + t;
    }
  }
  return {best, bestCount};
}

/// Centroid and count of the pixels of `region` that the jet overlay turned clearly blue.
struct Blob {
  double x = 0, y = 0;
  long count = 0;
};
Blob blueBlob(const QImage& img, QRect region) {
  Blob blob;
  for (int y = region.top(); y <= region.bottom(); ++y)
    for (int x = region.left(); x <= region.right(); ++x) {
      const QRgb p = img.pixel(x, y);
      if (qBlue(p) - qRed(p) > 60 && qBlue(p) - qGreen(p) > 30) {
        blob.x += x;
        blob.y += y;
        ++blob.count;
      }
    }
  if (blob.count > 0) {
    blob.x /= blob.count;
    blob.y /= blob.count;
  }
  return blob;
}

bool brightNeutral(QRgb p) {
  return qGray(p) > 170 && std::abs(qRed(p) - qGreen(p)) < 15 && std::abs(qGreen(p) - qBlue(p)) < 15;
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

// Crosshair colours: sagittal plane yellow, coronal plane green, axial plane red (gui/SliceView.cpp).
constexpr int kYellow[3] = {230, 200, 40}, kGreen[3] = {60, 200, 60}, kRed[3] = {220, 60, 60};

TEST(GuiSmoke, ScreenshotShowsFourLinkedViewsWithCrosshairAndOverlayAtTheJumpTarget) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("views");
  const fs::path png = fs::temp_directory_path() / "medseek_gui_views.png";
  fs::remove(png);
  // A point in the right lung: the views centre on it, the demo overlay (Gaussian) sits on it.
  const auto r = testsupport::run("timeout 90 " + quote(MEDSEEK_GUI_EXE) + " " + quote(study.string()) +
                                  " --layout 2x2 --jump-to=-80,0,-150 --demo-overlay --screenshot " +
                                  quote(png.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  QImage img(QString::fromStdString(png.string()));
  ASSERT_FALSE(img.isNull()) << "no screenshot written";
  const int w = img.width(), h = img.height();
  const QRect axial(0, 0, w / 2, h / 2), coronal(w / 2, 0, w / 2, h / 2),
      sagittal(0, h / 2, w / 2, h / 2 - 30), view3d(w / 2, h / 2, w / 2, h / 2 - 30);

  // Axial view: the sagittal plane is a vertical yellow line, the coronal plane a horizontal green one.
  const auto [axX, axXCount] = strongestLine(img, axial, true, kYellow[0], kYellow[1], kYellow[2]);
  const auto [axY, axYCount] = strongestLine(img, axial, false, kGreen[0], kGreen[1], kGreen[2]);
  EXPECT_GT(axXCount, 100) << "no sagittal crosshair line in the axial view";
  EXPECT_GT(axYCount, 100) << "no coronal crosshair line in the axial view";
  // Coronal view: vertical yellow (sagittal) and horizontal red (axial) lines.
  const auto [coX, coXCount] = strongestLine(img, coronal, true, kYellow[0], kYellow[1], kYellow[2]);
  const auto [coY, coYCount] = strongestLine(img, coronal, false, kRed[0], kRed[1], kRed[2]);
  EXPECT_GT(coXCount, 100) << "no sagittal crosshair line in the coronal view";
  EXPECT_GT(coYCount, 100) << "no axial crosshair line in the coronal view";
  // Sagittal view: vertical green (coronal) and horizontal red (axial) lines.
  const auto [saX, saXCount] = strongestLine(img, sagittal, true, kGreen[0], kGreen[1], kGreen[2]);
  const auto [saY, saYCount] = strongestLine(img, sagittal, false, kRed[0], kRed[1], kRed[2]);
  EXPECT_GT(saXCount, 100) << "no coronal crosshair line in the sagittal view";
  EXPECT_GT(saYCount, 100) << "no axial crosshair line in the sagittal view";

  // The overlay is centred on the crosshair in every 2-D view.
  const std::tuple<const char*, QRect, int, int> views[] = {
      {"axial", axial, axX, axY}, {"coronal", coronal, coX, coY}, {"sagittal", sagittal, saX, saY}};
  for (const auto& [name, region, x, y] : views) {
    // Near the crosshair only: the sliders and toolbar are blue too.
    const Blob blob = blueBlob(img, QRect(x - 80, y - 80, 161, 161).intersected(region));
    EXPECT_GT(blob.count, 200) << "no overlay in the " << name << " view";
    EXPECT_NEAR(blob.x, x, 6) << name;
    EXPECT_NEAR(blob.y, y, 6) << name;
  }

  // Radiological convention: the target is in the patient's right lung, so in the axial view more of the
  // body (bright in the lung window) lies to the right of the crosshair (the patient's left) than to the
  // left.
  const int row = axY + 60;
  int left = 0, right = 0;
  for (int x = axial.left(); x < axial.right(); ++x)
    if (brightNeutral(img.pixel(x, row))) (x < axX ? left : right)++;
  EXPECT_GT(right, left * 3 / 2) << "patient left is not on screen right (left " << left << ", right "
                                 << right << ")";

  // The 3-D view rendered something (not a uniform background) and shows the overlay.
  EXPECT_GT(greyStats(img, view3d).stddev, 15.0) << "3-D view looks blank";
  EXPECT_GT(blueBlob(img, view3d).count, 20) << "no overlay in the 3-D view";
  fs::remove_all(study);
}

TEST(GuiSmoke, ScrollBenchmarkReportsFirstImageAndFrameTimes) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("bench");
  const auto r = testsupport::run("timeout 90 " + quote(MEDSEEK_GUI_EXE) + " " + quote(study.string()) +
                                  " --benchmark-scroll 20");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("first image after setVolume:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ms/frame"), std::string::npos) << r.output;
  fs::remove_all(study);
}
