// DICOM objects derived from a CT series (SR TID 1500, SEG, Parametric Map, Encapsulated PDF): written
// into the source study, valid for dciodvfy, and read back by DCMTK with the voxels that were written.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "Process.h"
#include "TestVolumes.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmfg/fgseg.h"
#include "dcmtk/dcmpmap/dpmparametricmapiod.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segutils.h"
#include "imaging/DerivedObjects.h"

namespace {

bool have(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

/// Lines of dciodvfy output that start with "Error".
std::string dciodvfyErrors(const std::string& file) {
  const auto r = testsupport::run("dciodvfy -new " + testsupport::quote(file));
  std::istringstream in(r.output);
  std::string line, errors;
  while (std::getline(in, line))
    if (line.rfind("Error", 0) == 0) errors += line + "\n";
  return errors;
}

struct Fixture {
  testvol::TempDir dir{"derived"};
  imaging::CtVolume ct = testvol::makeVolume(32, 28, 10, 2.0);
  imaging::SourceSeries source;
  imaging::DerivedSeriesInfo info;
  Fixture() {
    imaging::writeCtSeries(ct, testvol::makeMeta(), (dir.path() / "CT").string());
    source = imaging::findSourceSeries(dir.str(), testvol::makeMeta().seriesInstanceUid, ct.geometry());
    info.device.softwareVersion = "1.2.3";
    info.device.sha256 = std::string(64, 'a');
  }
  std::vector<std::uint8_t> sphere(int ci, int cj, int ck, double r) const {
    const auto& g = ct.geometry();
    std::vector<std::uint8_t> m(g.voxelCount(), 0);
    for (int k = 0; k < g.size[2]; ++k)
      for (int j = 0; j < g.size[1]; ++j)
        for (int i = 0; i < g.size[0]; ++i)
          if ((i - ci) * (i - ci) + (j - cj) * (j - cj) + (k - ck) * (k - ck) <= r * r) m[ct.index(i, j, k)] = 1;
    return m;
  }
};

}  // namespace

TEST(DerivedObjects, SourceSeriesListsEverySliceInVolumeOrder) {
  Fixture f;
  ASSERT_EQ(f.source.slices.size(), 10u);
  EXPECT_EQ(f.source.studyInstanceUid, testvol::makeMeta().studyInstanceUid);
  for (const auto& s : f.source.slices) {
    EXPECT_FALSE(s.sopInstanceUid.empty());
    EXPECT_EQ(s.sopClassUid, "1.2.840.10008.5.1.4.1.1.2");
  }
  EXPECT_THROW(imaging::findSourceSeries(f.dir.str(), "1.2.3.4.5", f.ct.geometry()), imaging::DicomError);
}

TEST(DerivedObjects, SegmentationReadsBackWithTheWrittenMasks) {
  Fixture f;
  const auto a = f.sphere(10, 10, 4, 2.5), b = f.sphere(22, 18, 6, 1.5);
  const std::string file = (f.dir.path() / "seg.dcm").string();
  imaging::writeSegmentation(f.source, f.ct.geometry(), {{"Nodule 1", a}, {"Nodule 2", b}}, f.info, file);
  if (have("dciodvfy")) EXPECT_EQ(dciodvfyErrors(file), "");

  DcmSegmentation* raw = nullptr;
  ASSERT_TRUE(DcmSegmentation::loadFile(file.c_str(), raw).good());
  std::unique_ptr<DcmSegmentation> seg(raw);
  EXPECT_EQ(seg->getNumberOfSegments(), 2u);
  const auto& g = f.ct.geometry();
  std::vector<std::vector<std::uint8_t>> back(2, std::vector<std::uint8_t>(g.voxelCount(), 0));
  for (size_t n = 0; n < seg->getNumberOfFrames(); ++n) {
    auto* pos = dynamic_cast<FGPlanePosPatient*>(seg->getFunctionalGroups().get(n, DcmFGTypes::EFG_PLANEPOSPATIENT));
    auto* sg = dynamic_cast<FGSegmentation*>(seg->getFunctionalGroups().get(n, DcmFGTypes::EFG_SEGMENTATION));
    ASSERT_TRUE(pos && sg);
    Float64 x = 0, y = 0, z = 0;
    pos->getImagePositionPatient(x, y, z);
    Uint16 number = 0;
    sg->getReferencedSegmentNumber(number);
    const int k = static_cast<int>(std::lround((z - g.originLps[2]) / g.spacingMm[2]));
    std::unique_ptr<DcmIODTypes::Frame> frame(
        DcmSegUtils::unpackBinaryFrame(seg->getFrame(n), static_cast<Uint16>(g.size[1]), static_cast<Uint16>(g.size[0])));
    ASSERT_TRUE(frame);
    for (int v = 0; v < g.size[0] * g.size[1]; ++v)
      back[number - 1][static_cast<size_t>(k) * g.size[0] * g.size[1] + v] = frame->pixData[v] ? 1 : 0;
  }
  EXPECT_EQ(back[0], a);
  EXPECT_EQ(back[1], b);

  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(file.c_str()).good());
  OFString study, series;
  ff.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, study);
  ff.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series);
  EXPECT_EQ(std::string(study.c_str()), f.source.studyInstanceUid);
  EXPECT_NE(std::string(series.c_str()), f.source.seriesInstanceUid);
  OFString refSeries;
  EXPECT_TRUE(ff.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, refSeries, 0, OFTrue).good());
}

TEST(DerivedObjects, ParametricMapReadsBackTheFloatVoxels) {
  Fixture f;
  const auto& g = f.ct.geometry();
  imaging::ParametricMapContent pm;
  pm.values.resize(g.voxelCount());
  for (size_t i = 0; i < pm.values.size(); ++i) pm.values[i] = static_cast<float>((i % 997) / 996.0);
  const std::string file = (f.dir.path() / "pm.dcm").string();
  imaging::writeParametricMap(f.source, g, pm, f.info, file);
  if (have("dciodvfy")) EXPECT_EQ(dciodvfyErrors(file), "");
  auto loaded = DPMParametricMapIOD::loadFile(file.c_str());
  DPMParametricMapIOD** map = OFget<DPMParametricMapIOD*>(&loaded);
  ASSERT_TRUE(map && *map);
  std::unique_ptr<DPMParametricMapIOD> holder(*map);
  auto frames = holder->getFrames();
  auto* f32 = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
  ASSERT_TRUE(f32);
  const size_t slice = static_cast<size_t>(g.size[0]) * g.size[1];
  for (int k = 0; k < g.size[2]; ++k) {
    const Float32* data = f32->getFrame(static_cast<size_t>(k));
    ASSERT_TRUE(data) << "frame " << k;
    for (size_t v = 0; v < slice; ++v) ASSERT_EQ(data[v], pm.values[k * slice + v]) << "frame " << k << " voxel " << v;
  }
}

TEST(DerivedObjects, MeasurementReportHoldsTid1500TreeWithTheNumbers) {
  Fixture f;
  imaging::MeasurementReportContent c;
  c.aiProbability = 0.873;
  c.lungRadsCategory = "4B";
  c.lungRadsManagement = "Diagnostic chest CT, PET/CT, tissue sampling";
  c.brockProbability = 0.412;
  imaging::ReportedNodule n;
  n.sliceK = 4;
  n.longAxisMm = 17.34;
  n.shortAxisMm = 12.1;
  n.meanDiameterMm = 14.72;
  n.meanHu = 35;
  n.hasMeanHu = true;
  n.type = "solid";
  n.lobe = "RUL";
  c.nodules.push_back(n);
  c.radiologistDecision = "accepted";
  c.radiologistName = "Li^Wei";
  const std::string file = (f.dir.path() / "sr.dcm").string();
  imaging::writeMeasurementReport(f.source, c, f.info, file);
  if (have("dciodvfy")) EXPECT_EQ(dciodvfyErrors(file), "");
  if (!have("dsrdump")) GTEST_SKIP() << "dsrdump missing";
  const auto dump = testsupport::run("dsrdump " + testsupport::quote(file)).output;
  for (const char* expected : {"Imaging Measurement Report", "Nodule 1", "17.3", "12.1", "14.7", "Upper lobe of right lung",
                               "0.873", "0.412", "4B", "Li^Wei", "Source of Measurement"})
    EXPECT_NE(dump.find(expected), std::string::npos) << expected << "\n" << dump;
}

TEST(DerivedObjects, EncapsulatedPdfKeepsTheDocumentBytes) {
  Fixture f;
  const std::string pdf = (f.dir.path() / "r.pdf").string();
  const std::string body = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                           "trailer<</Root 1 0 R>>\n%%EOF\n";
  std::ofstream(pdf, std::ios::binary) << body;
  const std::string file = (f.dir.path() / "epdf.dcm").string();
  imaging::writeEncapsulatedPdf(f.source, pdf, "AI report", f.info, file);
  if (have("dciodvfy")) EXPECT_EQ(dciodvfyErrors(file), "");
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(file.c_str()).good());
  const Uint8* bytes = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(ff.getDataset()->findAndGetUint8Array(DCM_EncapsulatedDocument, bytes, &count).good());
  ASSERT_GE(count, body.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes), body.size()), body);
  EXPECT_THROW(imaging::writeEncapsulatedPdf(f.source, (f.dir.path() / "missing.pdf").string(), "x", f.info, file),
               imaging::DicomError);
}
