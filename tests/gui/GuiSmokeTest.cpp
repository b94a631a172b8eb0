// GUI smoke tests (label gui): run the real `medseek` executable on a generated study under the
// display the test runs in (Xvfb in CI), grab the window to PNG and check what a user would see.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>
#include <utility>

#include "Process.h"
#include "imaging/CtSeriesWriter.h"
#include "phantom/CohortGenerator.h"
#include "workflow/CohortWriter.h"

namespace fs = std::filesystem;
using testsupport::quote;

namespace {
/// A path under the temporary folder that is private to this test process (two checkouts, or ctest -j,
/// may run these tests at the same time).
fs::path tmpPath(const std::string& name) {
  const fs::path n(name);  // the pid goes before the extension: medseek_gui_views_123.png
  return fs::temp_directory_path() / (n.stem().string() + "_" + std::to_string(::getpid()) + n.extension().string());
}

fs::path writeSmallStudy(const std::string& name) {
  const fs::path dir = tmpPath("medseek_gui_" + name);
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

/// Runs medseek with its settings in a private folder (no state from earlier runs or the user).
testsupport::ProcessResult runMedseek(const std::string& args, int timeoutS = 90,
                                      const std::string& env = {}) {
  const fs::path config = tmpPath("medseek_gui_config");
  return testsupport::run("XDG_CONFIG_HOME=" + quote(config.string()) + " " + env + " timeout " +
                          std::to_string(timeoutS) + " " + quote(MEDSEEK_GUI_EXE) + " " + args);
}

QJsonObject readJson(const fs::path& file) {
  QFile f(QString::fromStdString(file.string()));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

/// Where a view lies in the screenshot (from --dump-state).
QRect viewRect(const QJsonObject& state, const char* view) {
  const QJsonArray r = state["view_rects"].toObject()[view].toArray();
  return r.size() == 4 ? QRect(r[0].toInt(), r[1].toInt(), r[2].toInt(), r[3].toInt()) : QRect();
}

/// A small positive study (the demo case of seed 2026 at small size: one malignant nodule, Lung-RADS
/// 4B) written by `medseek-cli phantom --demo --size small`; returns the true nodule centre (LPS mm).
std::array<double, 3> writeDemoStudy(const fs::path& dir) {
  fs::remove_all(dir);
  const auto r = testsupport::run(quote(MEDSEEK_CLI_EXE) + " phantom --demo --size small --seed 2026 --out " +
                                  quote(dir.string()));
  EXPECT_EQ(r.exitCode, 0) << r.output;
  const QJsonArray c =
      readJson(dir / "truth.json")["nodules"].toArray().at(0).toObject()["center_lps_mm"].toArray();
  EXPECT_EQ(c.size(), 3) << "truth.json has no nodule centre";
  return {c.at(0).toDouble(), c.at(1).toDouble(), c.at(2).toDouble()};
}

std::string point(const std::array<double, 3>& p) {
  return "--jump-to=" + std::to_string(p[0]) + "," + std::to_string(p[1]) + "," + std::to_string(p[2]);
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
  const fs::path png = tmpPath("medseek_gui_slice.png");
  fs::remove(png);
  const auto r = runMedseek(quote(study.string()) + " --screenshot " + quote(png.string()), 60);
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
  const fs::path empty = tmpPath("medseek_gui_empty");
  fs::create_directories(empty);
  const auto r = runMedseek(quote(empty.string()) + " --quit-after-ms 300", 60);
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_NE(r.output.find("medseek_gui_empty"), std::string::npos) << r.output;
}

// Crosshair colours: sagittal plane yellow, coronal plane green, axial plane red (gui/SliceView.cpp).
constexpr int kYellow[3] = {230, 200, 40}, kGreen[3] = {60, 200, 60}, kRed[3] = {220, 60, 60};

TEST(GuiSmoke, ScreenshotShowsFourLinkedViewsWithCrosshairAndOverlayAtTheJumpTarget) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("views");
  const fs::path png = tmpPath("medseek_gui_views.png");
  fs::remove(png);
  // A point in the right lung: the views centre on it, the demo overlay (Gaussian) sits on it.
  const fs::path stateFile = tmpPath("medseek_gui_views.json");
  const auto r =
      runMedseek(quote(study.string()) + " --layout 2x2 --jump-to=-80,0,-150 --demo-overlay --screenshot " +
                 quote(png.string()) + " --dump-state " + quote(stateFile.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  QImage img(QString::fromStdString(png.string()));
  ASSERT_FALSE(img.isNull()) << "no screenshot written";
  const QJsonObject state = readJson(stateFile);
  const QRect axial = viewRect(state, "axial"), coronal = viewRect(state, "coronal"),
              sagittal = viewRect(state, "sagittal"), view3d = viewRect(state, "volume");
  ASSERT_GT(axial.width(), 200) << "view rectangles missing from --dump-state";

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
  const auto r = runMedseek(quote(study.string()) + " --benchmark-scroll 20");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("first image after setVolume:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ms/frame"), std::string::npos) << r.output;
  fs::remove_all(study);
}

namespace {
/// Pixels of `region` within `radius` of (cx, cy) that the jet overlay coloured (blue or red/yellow
/// dominant, saturated), excluding the thin crosshair lines (only their colours are in the region
/// otherwise, and they are too few to pass the thresholds used below).
long overlayPixels(const QImage& img, QRect region, int cx, int cy, int radius) {
  long n = 0;
  const QRect box = QRect(cx - radius, cy - radius, 2 * radius + 1, 2 * radius + 1).intersected(region);
  for (int y = box.top(); y <= box.bottom(); ++y)
    for (int x = box.left(); x <= box.right(); ++x) {
      const QRgb p = img.pixel(x, y);
      if (qBlue(p) - qRed(p) > 60 && qBlue(p) - qGreen(p) > 30) ++n;
    }
  return n;
}
}  // namespace

TEST(GuiSmoke, AnalyzeOverlaysTheHeatmapOnTheTrueNoduleShowsTheNarrativeAndExportsTheDecision) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path dir = tmpPath("medseek_gui_analyze");
  const auto truth = writeDemoStudy(dir / "demo");
  const fs::path before = dir / "before.png", after = dir / "after.png", stateBefore = dir / "before.json",
                 stateAfter = dir / "after.json", reports = dir / "reports";
  const std::string common = quote((dir / "demo").string()) + " --layout 2x2 " + point(truth);
  const auto r0 = runMedseek(
      common + " --screenshot " + quote(before.string()) + " --dump-state " + quote(stateBefore.string()),
      60);
  ASSERT_EQ(r0.exitCode, 0) << r0.output;
  const auto r = runMedseek(common + " --analyze --screenshot " + quote(after.string()) + " --dump-state " +
                                quote(stateAfter.string()) + " --export " + quote(reports.string()) +
                                " --decision reject --quit-after-ms 55000",
                            60);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("analysis finished"), std::string::npos) << r.output;

  // Result state: bound to the series shown, narrative and calibrated probability shown, CPU in the status
  // bar.
  const QJsonObject s0 = readJson(stateBefore), s = readJson(stateAfter);
  EXPECT_FALSE(s0["has_result"].toBool());
  ASSERT_TRUE(s["has_result"].toBool()) << r.output;
  EXPECT_TRUE(s["overlay_shown"].toBool());
  const QJsonObject result = s["result"].toObject();
  EXPECT_EQ(result["series_uid"].toString(), s["series_uid"].toString());
  EXPECT_TRUE(s["narrative"].toString().contains("nodule")) << s["narrative"].toString().toStdString();
  EXPECT_TRUE(s["narrative"].toString().contains("Lung-RADS"));
  EXPECT_TRUE(s["summary"].toString().contains("calibrated on synthetic validation data"));
  EXPECT_TRUE(s["summary"].toString().contains("Lung-RADS " + result["lung_rads"].toString()));
  EXPECT_TRUE(s["status_model"].toString().startsWith("CPU")) << s["status_model"].toString().toStdString();
  EXPECT_GT(s["highlighted_phrases"].toInt(), 0) << "no note phrase highlighted";
  const QJsonArray centres = result["finding_centers_lps_mm"].toArray();
  ASSERT_FALSE(centres.isEmpty()) << "no finding";
  const QJsonArray c = centres.at(0).toArray();
  const double d =
      std::hypot(c.at(0).toDouble() - truth[0], c.at(1).toDouble() - truth[1], c.at(2).toDouble() - truth[2]);
  EXPECT_LT(d, 10.0) << "finding 1 is " << d << " mm from the true nodule";

  // Pixels: around the crosshair (= true nodule centre) each 2-D view shows the overlay after the
  // analysis and not before it.
  const QImage img0(QString::fromStdString(before.string())), img(QString::fromStdString(after.string()));
  ASSERT_FALSE(img.isNull() || img0.isNull());
  for (const char* view : {"axial", "coronal", "sagittal"}) {
    const QRect region = viewRect(s, view);
    ASSERT_GT(region.width(), 100) << view;
    const bool axial = std::string(view) == "axial";
    // Crosshair lines: axial view yellow | and green -, coronal yellow | and red -, sagittal green | and red
    // -.
    const auto vLine = strongestLine(img, region, true, kYellow[0], kYellow[1], kYellow[2]);
    const auto hLine = strongestLine(img, region, false, axial ? kGreen[0] : kRed[0],
                                     axial ? kGreen[1] : kRed[1], axial ? kGreen[2] : kRed[2]);
    int cx = vLine.first, cy = hLine.first;
    if (std::string(view) == "sagittal")
      cx = strongestLine(img, region, true, kGreen[0], kGreen[1], kGreen[2]).first;
    ASSERT_GE(cx, 0) << view;
    ASSERT_GE(cy, 0) << view;
    EXPECT_GT(overlayPixels(img, region, cx, cy, 50), 100)
        << "no heatmap at the true nodule in the " << view << " view";
    EXPECT_LT(overlayPixels(img0, region, cx, cy, 50), 20) << view << " view is blue before the analysis";
  }
  EXPECT_GT(blueBlob(img, viewRect(s, "volume")).count, 20) << "no heatmap in the 3-D view";

  // Export: reports written in process with the reader's decision (rejected -> FHIR status cancelled).
  ASSERT_TRUE(fs::exists(reports / "report.pdf")) << r.output;
  ASSERT_TRUE(fs::exists(reports / "fhir.json"));
  std::ifstream fhir(reports / "fhir.json");
  const std::string text((std::istreambuf_iterator<char>(fhir)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"cancelled\""), std::string::npos);
  EXPECT_NE(text.find("medseek --decision"), std::string::npos);
  fs::remove_all(dir);
}

namespace {
/// The demo case written in process with a second series (a copy with another UID) beside the first.
std::pair<fs::path, std::string> writeTwoSeriesStudy(const fs::path& dir) {
  fs::remove_all(dir);
  phantom::PhantomOptions options;
  options.size = phantom::SizePreset::Small;
  const phantom::CohortGenerator gen(2026, options);
  const auto c = gen.generate(workflow::findDemoCaseIndex(gen));
  workflow::writeCase(c, dir.string());
  imaging::CtSeriesMetadata meta = workflow::seriesMetadataFor(c);
  meta.seriesInstanceUid = c.seriesInstanceUid + ".7";
  meta.seriesDescription = "Second copy";
  meta.seriesNumber = 7;
  imaging::writeCtSeries(c.volume, meta, (dir / "CT2").string());
  return {dir, meta.seriesInstanceUid};
}
}  // namespace

TEST(GuiSmoke, ClickingAFindingInTheNarrativeMovesTheViewsToIt) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path dir = tmpPath("medseek_gui_click");
  const auto truth = writeDemoStudy(dir / "demo");
  const fs::path state = dir / "state.json";
  const auto r = runMedseek(quote((dir / "demo").string()) + " --analyze --click-finding 1 --dump-state " +
                                quote(state.string()) + " --quit-after-ms 55000",
                            60);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const QJsonObject s = readJson(state);
  const QJsonArray c = s["crosshair_lps_mm"].toArray(),
                   f = s["result"].toObject()["finding_centers_lps_mm"].toArray();
  ASSERT_EQ(c.size(), 3);
  ASSERT_FALSE(f.isEmpty());
  // The crosshair starts at the volume centre, far from the nodule; the click moves it onto the finding
  // (to the voxel nearest its centre) and so onto the true nodule.
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(c.at(a).toDouble(), f.at(0).toArray().at(a).toDouble(), 2.6) << "axis " << a;
    EXPECT_NEAR(c.at(a).toDouble(), truth[a], 10.0) << "axis " << a;
  }
  fs::remove_all(dir);
}

TEST(GuiSmoke, ShowingAnotherSeriesOrStudyDropsTheResult) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path dir = tmpPath("medseek_gui_rebind");
  const auto [study, secondUid] = writeTwoSeriesStudy(dir / "two");
  const fs::path other = writeSmallStudy("rebind_other");
  const fs::path series = dir / "series.json", studyState = dir / "study.json";
  const auto r1 = runMedseek(quote(study.string()) + " --analyze --then-series " + quote(secondUid) +
                                 " --dump-state " + quote(series.string()) + " --quit-after-ms 55000",
                             60);
  ASSERT_EQ(r1.exitCode, 0) << r1.output;
  EXPECT_NE(r1.output.find("analysis finished"), std::string::npos) << r1.output;
  const QJsonObject s1 = readJson(series);
  EXPECT_EQ(s1["series"].toArray().size(), 2);
  EXPECT_EQ(s1["series_uid"].toString().toStdString(), secondUid);
  EXPECT_FALSE(s1["has_result"].toBool()) << "the result of series 1 is still shown on series 7";
  EXPECT_FALSE(s1["overlay_shown"].toBool());
  EXPECT_TRUE(s1["narrative"].toString().isEmpty());

  const auto r2 = runMedseek(quote(study.string()) + " --analyze --then-open " + quote(other.string()) +
                                 " --dump-state " + quote(studyState.string()) + " --quit-after-ms 55000",
                             60);
  ASSERT_EQ(r2.exitCode, 0) << r2.output;
  const QJsonObject s2 = readJson(studyState);
  EXPECT_EQ(s2["study_path"].toString().toStdString(), other.string());
  EXPECT_FALSE(s2["has_result"].toBool()) << "the result of the first study is still shown on the second";
  EXPECT_FALSE(s2["overlay_shown"].toBool());
  EXPECT_FALSE(s2["summary"].toString().contains("Lung-RADS"));
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST(GuiSmoke, NarrativeLanguageChineseIsUsedForTheAnalysisAndRemembered) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("lang_zh");
  const fs::path config = tmpPath("medseek_gui_config_zh");
  fs::remove_all(config);
  const std::string env = "XDG_CONFIG_HOME=" + quote(config.string());  // own settings: --lang persists
  const fs::path state = tmpPath("medseek_gui_lang_state.json");
  const auto r = runMedseek(quote(study.string()) + " --lang zh --analyze --dump-state " + quote(state.string()) +
                                " --quit-after-ms 55000",
                            60, env);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const QString narrative = readJson(state)["narrative"].toString();
  ASSERT_FALSE(narrative.isEmpty());
  EXPECT_TRUE(narrative.contains(QString::fromUtf8("概率"))) << narrative.toStdString();
  // The choice is remembered: the next start without --lang analyses in Chinese again.
  const auto r2 = runMedseek(quote(study.string()) + " --analyze --dump-state " + quote(state.string()) +
                                 " --quit-after-ms 55000",
                             60, env);
  ASSERT_EQ(r2.exitCode, 0) << r2.output;
  EXPECT_TRUE(readJson(state)["narrative"].toString().contains(QString::fromUtf8("概率")));
  fs::remove_all(study);
  fs::remove_all(config);
  fs::remove(state);
}

TEST(GuiSmoke, WorkerFailureIsReportedWithItsReasonInsteadOfCrashing) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("worker_fails");
  const fs::path worker = tmpPath("medseek_gui_failing_worker.sh");
  {
    std::ofstream w(worker);
    w << "#!/bin/sh\necho 'progress model 0.00' >&2\necho 'medseek-cli: model weights are truncated' "
         ">&2\nexit 2\n";
  }
  fs::permissions(worker, fs::perms::owner_all);
  const fs::path state = tmpPath("medseek_gui_worker_fails.json");
  const auto r = runMedseek(
      quote(study.string()) + " --analyze --dump-state " + quote(state.string()) + " --quit-after-ms 20000",
      60, "MEDSEEK_CLI=" + quote(worker.string()));
  EXPECT_EQ(r.exitCode, 4) << r.output;
  EXPECT_NE(r.output.find("model weights are truncated"), std::string::npos) << r.output;
  EXPECT_FALSE(readJson(state)["has_result"].toBool());
  fs::remove_all(study);
  fs::remove(worker);
}

TEST(GuiSmoke, CancellingTheAnalysisKillsTheWorkerAndKeepsNoResult) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  const fs::path study = writeSmallStudy("worker_cancel");
  const fs::path worker = tmpPath("medseek_gui_slow_worker.sh");
  const fs::path pidFile = tmpPath("medseek_gui_slow_worker.pid");
  fs::remove(pidFile);
  {
    std::ofstream w(worker);
    w << "#!/bin/sh\necho $$ > " << quote(pidFile.string())
      << "\necho 'progress model 0.00' >&2\nexec sleep 60\n";
  }
  fs::permissions(worker, fs::perms::owner_all);
  const fs::path state = tmpPath("medseek_gui_worker_cancel.json");
  // --quit-after-ms while the analysis runs cancels it (exit code 5).
  const auto r = runMedseek(
      quote(study.string()) + " --analyze --dump-state " + quote(state.string()) + " --quit-after-ms 3000",
      60, "MEDSEEK_CLI=" + quote(worker.string()));
  EXPECT_EQ(r.exitCode, 5) << r.output;
  EXPECT_NE(r.output.find("analysis failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cancelled"), std::string::npos) << r.output;
  EXPECT_FALSE(readJson(state)["has_result"].toBool());
  std::ifstream in(pidFile);
  pid_t pid = 0;
  ASSERT_TRUE(in >> pid) << "the worker did not start";
  bool gone = false;
  for (int i = 0; i < 20 && !gone; ++i) {
    gone = ::kill(pid, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "worker " << pid << " still runs after the cancel";
  if (!gone) ::kill(pid, SIGKILL);
  fs::remove_all(study);
  fs::remove(worker);
  fs::remove(pidFile);
}

TEST(GuiSmoke, WorklistOpensTheRankOneStudyWithItsBatchResultAndListsAllRows) {
  if (!std::getenv("DISPLAY")) GTEST_SKIP() << "no X display (run under xvfb-run)";
  // Per process: other checkouts may run the gui tests on the same machine at the same time.
  const fs::path root = fs::temp_directory_path() / ("medseek_gui_worklist_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path cohort = root / "cohort", out = root / "screen";
  auto r = testsupport::run(quote(MEDSEEK_CLI_EXE) +
                            " phantom --cases 3 --seed 8 --size small --threads 2 --out " +
                            quote(cohort.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  r = testsupport::run(quote(MEDSEEK_CLI_EXE) + " screen " + quote(cohort.string()) + " --device cpu --out " +
                       quote(out.string()));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  QFile wl(QString::fromStdString((out / "worklist.json").string()));
  ASSERT_TRUE(wl.open(QIODevice::ReadOnly));
  const QJsonArray rows = QJsonDocument::fromJson(wl.readAll()).array();
  ASSERT_EQ(rows.size(), 3);
  const QJsonObject first = rows.at(0).toObject();
  ASSERT_EQ(first["rank"].toInt(), 1);

  const fs::path state = root / "state.json";
  r = runMedseek("--worklist " + quote(out.string()) + " --open-rank 1 --quit-after-ms 1500 --dump-state " +
                     quote(state.string()),
                 60);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const QJsonObject s = readJson(state);
  EXPECT_EQ(s["study_path"].toString(), first["study_path"].toString());
  EXPECT_EQ(s["series_uid"].toString(), first["series_uid"].toString());
  const QJsonObject w = s["worklist"].toObject();
  EXPECT_EQ(w["opened_rank"].toInt(), 1);
  ASSERT_EQ(w["rows"].toArray().size(), 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(w["rows"].toArray().at(i).toObject()["study_uid"], rows.at(i).toObject()["study_uid"]);
  // The batch result is shown without rerunning the analysis (and without a heatmap overlay).
  if (first["status"].toString() == "analysed") {
    EXPECT_TRUE(s["has_result"].toBool()) << r.output;
    EXPECT_EQ(s["result_source"].toString(), "worklist");
    EXPECT_NEAR(s["result"].toObject()["probability"].toDouble(), first["probability"].toDouble(), 1e-3);
    EXPECT_FALSE(s["overlay_shown"].toBool());
  }
  // The study browser shows a thumbnail for the series.
  EXPECT_GE(s["thumbnails_shown"].toInt(), 1) << r.output;
  EXPECT_EQ(s["thumbnails_failed"].toInt(), 0) << r.output;

  // A malformed worklist exits with a reason naming the file.
  const fs::path bad = root / "bad.json";
  std::ofstream(bad) << "{ not json";
  r = runMedseek("--worklist " + quote(bad.string()) + " --quit-after-ms 500", 30);
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_NE(r.output.find(bad.string()), std::string::npos) << r.output;
  fs::remove_all(root);
}
