// DICOM writers for objects derived from an analysed CT series (SR TID 1500, SEG, Parametric Map,
// Encapsulated PDF). DCMTK stays private to this file; its conditions become DicomError here.
#include "imaging/DerivedObjects.h"
#include "imaging/CtSeriesWriter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcvrobow.h"
#include "dcmtk/dcmfg/fgderimg.h"
#include "dcmtk/dcmfg/fgfracon.h"
#include "dcmtk/dcmfg/fgframeanatomy.h"
#include "dcmtk/dcmfg/fgpixeltransform.h"
#include "dcmtk/dcmfg/fgparametricmapframetype.h"
#include "dcmtk/dcmfg/fgpixmsr.h"
#include "dcmtk/dcmfg/fgplanor.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmfg/fgrealworldvaluemapping.h"
#include "dcmtk/dcmpmap/dpmparametricmapiod.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segment.h"
#include "dcmtk/dcmsr/cmr/tid1500.h"
#include "dcmtk/dcmsr/dsrdoc.h"
#include "imaging/DicomError.h"
#include "imaging/DicomIndex.h"

namespace imaging {
namespace {

constexpr const char* kPrivateScheme = "99MEDSEEK";

void check(const OFCondition& c, const std::string& what) {
  if (c.bad()) throw DicomError(what + ": " + c.text());
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// DS text (max 16 chars).
std::string ds(double v) {
  char buf[32];
  for (int p = 10; p >= 1; --p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strlen(buf) <= 16) return buf;
  }
  return "0";
}

std::unique_ptr<DcmFileFormat> loadHeader(const std::string& file) {
  auto ff = std::make_unique<DcmFileFormat>();
  check(ff->loadFileUntilTag(file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                             DCM_PixelData),
        "cannot read source image " + file);
  return ff;
}

const SourceImage& sliceOrThrow(const SourceSeries& src, int k, const std::string& what) {
  if (k < 0 || k >= static_cast<int>(src.slices.size()))
    throw DicomError(what + ": slice " + std::to_string(k) + " is outside the source series (0.." +
                     std::to_string(static_cast<int>(src.slices.size()) - 1) + ")");
  return src.slices[static_cast<std::size_t>(k)];
}

/// Patient + General Study module (and character set) of the source: the derived object belongs to
/// exactly this patient and study.
void copyPatientStudy(DcmItem& source, DcmItem& target) {
  static const DcmTagKey kTags[] = {DCM_SpecificCharacterSet, DCM_PatientName,    DCM_PatientID,
                                    DCM_IssuerOfPatientID,    DCM_PatientBirthDate, DCM_PatientSex,
                                    DCM_PatientAge,           DCM_StudyInstanceUID, DCM_StudyDate,
                                    DCM_StudyTime,            DCM_ReferringPhysicianName, DCM_StudyID,
                                    DCM_AccessionNumber,      DCM_StudyDescription};
  static const DcmTagKey kType2[] = {DCM_PatientName, DCM_PatientID,  DCM_PatientBirthDate, DCM_PatientSex,
                                     DCM_StudyDate,   DCM_StudyTime,  DCM_ReferringPhysicianName,
                                     DCM_StudyID,     DCM_AccessionNumber};
  for (const auto& tag : kTags) {
    DcmElement* e = nullptr;
    if (source.findAndGetElement(tag, e).good() && e) {
      target.insert(static_cast<DcmElement*>(e->clone()), OFTrue);
    }
  }
  for (const auto& tag : kType2)
    if (!target.tagExists(tag)) target.putAndInsertString(tag, "");
}

void putString(DcmItem& item, const DcmTagKey& tag, const std::string& value, const std::string& file) {
  check(item.putAndInsertString(tag, value.c_str()), file + ": cannot set " + DcmTag(tag).getTagName());
}

/// Series/instance identity + equipment, then write as Part-10 explicit little endian.
bool isAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void finishAndSave(DcmFileFormat& ff, DcmItem& sourceHeader, const DerivedSeriesInfo& info,
                   const std::string& seriesUid, const std::string& sopUid, const std::string& file,
                   bool needsUtf8 = false) {
  DcmDataset& d = *ff.getDataset();
  copyPatientStudy(sourceHeader, d);
  needsUtf8 = needsUtf8 || !isAscii(info.seriesDescription) || !isAscii(info.device.modelName);
  if (needsUtf8 && !d.tagExists(DCM_SpecificCharacterSet)) putString(d, DCM_SpecificCharacterSet, "ISO_IR 192", file);
  putString(d, DCM_SeriesInstanceUID, seriesUid, file);
  putString(d, DCM_SOPInstanceUID, sopUid, file);
  putString(d, DCM_SeriesNumber, std::to_string(info.seriesNumber), file);
  putString(d, DCM_InstanceNumber, std::to_string(info.instanceNumber), file);
  if (!info.seriesDescription.empty()) putString(d, DCM_SeriesDescription, info.seriesDescription, file);
  putString(d, DCM_Manufacturer, info.device.manufacturer, file);
  putString(d, DCM_ManufacturerModelName, info.device.modelName, file);
  if (!info.device.sha256.empty()) putString(d, DCM_DeviceSerialNumber, info.device.sha256.substr(0, 64), file);
  if (!info.device.softwareVersion.empty()) putString(d, DCM_SoftwareVersions, info.device.softwareVersion, file);
  if (!d.tagExists(DCM_InstanceCreationDate)) {
    putString(d, DCM_InstanceCreationDate, utcDicomDate(), file);
    putString(d, DCM_InstanceCreationTime, utcDicomTime(), file);
  }
  check(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                    EWM_updateMeta),
        "cannot write " + file);
}

/// ReferencedSeriesSequence (Common Instance Reference module) listing the referenced CT instances.
void putReferencedSeries(DcmItem& d, const SourceSeries& src, const std::set<int>& slices,
                         const std::string& file) {
  d.findAndDeleteElement(DCM_ReferencedSeriesSequence);
  DcmItem* series = nullptr;
  check(d.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, 0),
        file + ": cannot create ReferencedSeriesSequence");
  putString(*series, DCM_SeriesInstanceUID, src.seriesInstanceUid, file);
  long n = 0;
  for (int k : slices) {
    const auto& s = src.slices[static_cast<std::size_t>(k)];
    DcmItem* inst = nullptr;
    check(series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, inst, n++),
          file + ": cannot create ReferencedInstanceSequence");
    putString(*inst, DCM_ReferencedSOPClassUID, s.sopClassUid, file);
    putString(*inst, DCM_ReferencedSOPInstanceUID, s.sopInstanceUid, file);
  }
}

std::array<double, 3> column(const VolumeGeometry& g, int c) {
  return {g.directionLps[c], g.directionLps[3 + c], g.directionLps[6 + c]};
}

DSRCodedEntryValue code(const char* value, const char* scheme, const char* meaning) {
  return DSRCodedEntryValue(value, scheme, meaning);
}

DSRCodedEntryValue lobeCode(const std::string& lobe) {
  if (lobe == "RUL") return code("45653009", "SCT", "Upper lobe of right lung");
  if (lobe == "RML") return code("72481006", "SCT", "Middle lobe of right lung");
  if (lobe == "RLL") return code("266005", "SCT", "Lower lobe of right lung");
  if (lobe == "LUL") return code("44714003", "SCT", "Upper lobe of left lung");
  if (lobe == "LLL") return code("41224006", "SCT", "Lower lobe of left lung");
  return code("39607008", "SCT", "Lung");
}

std::string typeText(const std::string& t) {
  if (t == "part_solid") return "part-solid";
  if (t == "non_solid") return "non-solid (ground glass)";
  return t.empty() ? "unknown" : t;
}

void requireGeometry(const SourceSeries& src, const VolumeGeometry& g, const std::string& what) {
  if (static_cast<int>(src.slices.size()) != g.size[2])
    throw DicomError(what + ": the source series has " + std::to_string(src.slices.size()) +
                     " instances but the volume " + std::to_string(g.size[2]) + " slices");
  if (g.size[0] > 65535 || g.size[1] > 65535) throw DicomError(what + ": slice too large");
}

void addPlaneGroups(FGInterface& fg, const VolumeGeometry& g, const std::string& what) {
  FGPixelMeasures pm;
  check(pm.setPixelSpacing((ds(g.spacingMm[1]) + "\\" + ds(g.spacingMm[0])).c_str()), what + ": pixel spacing");
  check(pm.setSliceThickness(ds(g.spacingMm[2]).c_str()), what + ": slice thickness");
  check(pm.setSpacingBetweenSlices(ds(g.spacingMm[2]).c_str()), what + ": spacing between slices");
  check(fg.addShared(pm), what + ": pixel measures");
  const auto r = column(g, 0), c = column(g, 1);
  std::unique_ptr<FGPlaneOrientationPatient> o(
      FGPlaneOrientationPatient::createMinimal(ds(r[0]).c_str(), ds(r[1]).c_str(), ds(r[2]).c_str(),
                                               ds(c[0]).c_str(), ds(c[1]).c_str(), ds(c[2]).c_str()));
  if (!o) throw DicomError(what + ": cannot create plane orientation");
  check(fg.addShared(*o), what + ": plane orientation");
}

FGPlanePosPatient* planePosition(const VolumeGeometry& g, int k) {
  const auto p = g.lpsFromIjk({0.0, 0.0, static_cast<double>(k)});
  return FGPlanePosPatient::createMinimal(ds(p[0]).c_str(), ds(p[1]).c_str(), ds(p[2]).c_str());
}

FGDerivationImage* derivationOf(const SourceImage& s, const std::string& description) {
  OFVector<ImageSOPInstanceReferenceMacro> refs(1);
  refs[0].setReferencedSOPClassUID(s.sopClassUid.c_str());
  refs[0].setReferencedSOPInstanceUID(s.sopInstanceUid.c_str());
  return DcmSegmentation::createDerivationImageFG(refs, description.c_str());
}

}  // namespace

std::string newDicomUid() {
  char buf[100];
  dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
  return buf;
}

SourceSeries findSourceSeries(const std::string& studyPath, const std::string& seriesInstanceUid,
                              const VolumeGeometry& geometry) {
  const DicomIndex index = DicomIndex::scan(studyPath);
  const SeriesEntry* series = index.findSeries(seriesInstanceUid);
  if (!series) throw DicomError(studyPath + ": series " + seriesInstanceUid + " not found");
  SourceSeries out;
  out.studyInstanceUid = series->studyInstanceUid;
  out.seriesInstanceUid = series->seriesInstanceUid;
  out.frameOfReferenceUid = series->frameOfReferenceUid;
  const int n = geometry.size[2];
  out.slices.resize(static_cast<std::size_t>(std::max(n, 0)));
  std::vector<bool> seen(out.slices.size(), false);
  for (const auto& inst : series->instances) {
    if (!inst.hasPosition) throw DicomError(series->label() + ": " + inst.path + " has no ImagePositionPatient");
    const double kf = geometry.ijkFromLps(inst.positionLps)[2];
    const int k = static_cast<int>(std::lround(kf));
    if (k < 0 || k >= n || std::abs(kf - k) > 0.1 || seen[static_cast<std::size_t>(k)])
      throw DicomError(series->label() + ": instance " + inst.path + " does not match a slice of the volume");
    seen[static_cast<std::size_t>(k)] = true;
    out.slices[static_cast<std::size_t>(k)] = {inst.path, inst.sopClassUid, inst.sopInstanceUid, inst.instanceNumber};
  }
  for (int k = 0; k < n; ++k)
    if (!seen[static_cast<std::size_t>(k)])
      throw DicomError(series->label() + ": no instance for slice " + std::to_string(k));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// SR: TID 1500 Measurement Report
// ---------------------------------------------------------------------------------------------------
void writeMeasurementReport(const SourceSeries& src, const MeasurementReportContent& content,
                            const DerivedSeriesInfo& info, const std::string& file) {
  const std::string what = "SR " + file;
  if (src.slices.empty()) throw DicomError(what + ": the source series has no instances");
  auto header = loadHeader(src.slices.front().file);
  const std::string seriesUid = info.seriesInstanceUid.empty() ? newDicomUid() : info.seriesInstanceUid;
  const std::string sopUid = info.sopInstanceUid.empty() ? newDicomUid() : info.sopInstanceUid;

  TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
  check(report.setLanguage(CID5000_Languages::English, CID5001_Countries::UnitedStates), what + ": language");
  // Observer context: the algorithm as device; the reader (when the result was reviewed) as person.
  const std::string deviceUid = newDicomUid();
  check(report.getObservationContext().addDeviceObserver(
            deviceUid.c_str(), info.device.modelName.c_str(), info.device.manufacturer.c_str(),
            (info.device.modelName + " " + info.device.softwareVersion).c_str(), info.device.sha256.c_str()),
        what + ": device observer");
  if (!content.radiologistName.empty())
    check(report.getObservationContext().addPersonObserver(content.radiologistName.c_str()),
          what + ": person observer");
  if (report.addProcedureReported(DSRCodedEntryValue("24627-2", "LN", "CT Chest")).bad())
    check(report.addProcedureReported(CMR_CID100::CTUnspecifiedBodyRegion), what + ": procedure reported");

  // Image library: the slices the measurements were made on.
  std::set<int> referenced;
  for (const auto& n : content.nodules)
    if (n.sliceK >= 0) referenced.insert(n.sliceK);
  std::map<int, std::unique_ptr<DcmFileFormat>> headers;
  for (int k : referenced) headers[k] = loadHeader(sliceOrThrow(src, k, what).file);
  if (!referenced.empty()) {
    const OFCondition created = report.getImageLibrary().createNewImageLibrary();
    if (created.bad() && !report.getImageLibrary().isValid()) check(created, what + ": image library");
    check(report.getImageLibrary().addImageGroup(), what + ": image library group");
    for (int k : referenced)
      check(report.getImageLibrary().addImageEntry(*headers[k]->getDataset(),
                                                   TID1600_ImageLibrary::withAllDescriptors),
            what + ": image library entry");
  }

  using Units = CID7181_AbstractMultiDimensionalImageModelComponentUnits;
  using Value = TID1500_MeasurementReport::TID1501_Measurements::MeasurementValue;
  auto mm = [](double v) { return Value(fmt(v, 1).c_str(), Units(Units::Millimeter)); };
  const DSRCodedEntryValue sourceOfMeasurement("121112", "DCM", "Source of Measurement");

  for (const auto& n : content.nodules) {
    check(report.addIndividualMeasurements(), what + ": measurement group");
    auto& g = report.getIndividualMeasurements();
    check(g.setTrackingIdentifier(("Nodule " + std::to_string(n.number)).c_str()), what + ": tracking id");
    check(g.setTrackingUniqueIdentifier((n.trackingUid.empty() ? newDicomUid() : n.trackingUid).c_str()),
          what + ": tracking uid");
    check(g.setFinding(code("27925004", "SCT", "Nodule")), what + ": finding");
    check(g.addFindingSite(lobeCode(n.lobe)), what + ": finding site");
    auto addMeasurement = [&](const DSRCodedEntryValue& concept, const Value& v) {
      check(g.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(concept), v, OFFalse),
            what + ": measurement " + std::string(concept.getCodeMeaning().c_str()));
      if (n.sliceK >= 0)
        check(g.getMeasurement().addImage(sourceOfMeasurement, *headers[n.sliceK]->getDataset()),
              what + ": image reference");
    };
    addMeasurement(code("103339001", "SCT", "Long Axis"), mm(n.longAxisMm));
    addMeasurement(code("103340004", "SCT", "Short Axis"), mm(n.shortAxisMm));
    addMeasurement(code("81827009", "SCT", "Diameter"), mm(n.meanDiameterMm));
    if (n.volumeMl > 0)
      addMeasurement(code("118565006", "SCT", "Volume"),
                     Value(fmt(n.volumeMl * 1000.0, 1).c_str(), Units(Units::CubicMillimeter)));
    if (n.hasMeanHu)
      addMeasurement(code("373098007", "SCT", "Mean"), Value(fmt(n.meanHu, 0).c_str(), Units(Units::HounsfieldUnit)));
    if (n.aiScore >= 0)
      addMeasurement(code("MS0003", kPrivateScheme, "Grad-CAM peak in region"),
                     Value(fmt(n.aiScore, 3).c_str(), Units(Units::NoUnits)));
    check(g.addQualitativeEvaluation(code("MS0002", kPrivateScheme, "Nodule consistency"),
                                     typeText(n.type).c_str()),
          what + ": nodule type");
  }

  // Study level: AI probability (numeric) beside, never instead of, the Lung-RADS category.
  check(report.addIndividualMeasurements(), what + ": study measurement group");
  {
    auto& g = report.getIndividualMeasurements();
    check(g.setTrackingIdentifier("Study-level assessment"), what + ": tracking id");
    check(g.setTrackingUniqueIdentifier(newDicomUid().c_str()), what + ": tracking uid");
    check(g.setFinding(code("MS0010", kPrivateScheme, "Lung cancer risk")), what + ": finding");
    check(g.addFindingSite(code("39607008", "SCT", "Lung")), what + ": finding site");
    check(g.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(
                               code("MS0011", kPrivateScheme, "AI malignancy probability")),
                           Value(fmt(content.aiProbability, 3).c_str(), Units(Units::NoUnits)), OFFalse),
          what + ": AI probability");
    if (content.brockProbability >= 0)
      check(g.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(
                                 code("MS0012", kPrivateScheme, "Brock model probability")),
                             Value(fmt(content.brockProbability, 3).c_str(), Units(Units::NoUnits)), OFFalse),
            what + ": Brock probability");
  }
  if (!content.lungRadsCategory.empty())
    check(report.addQualitativeEvaluation(code("MS0020", kPrivateScheme, "Lung-RADS v2022 category"),
                                          content.lungRadsCategory.c_str()),
          what + ": Lung-RADS");
  if (!content.lungRadsManagement.empty())
    check(report.addQualitativeEvaluation(code("MS0021", kPrivateScheme, "Lung-RADS management"),
                                          content.lungRadsManagement.c_str()),
          what + ": management");
  if (!content.radiologistDecision.empty())
    check(report.addQualitativeEvaluation(code("MS0022", kPrivateScheme, "Radiologist decision"),
                                          content.radiologistDecision.c_str()),
          what + ": decision");
  if (!content.narrative.empty())
    check(report.addQualitativeEvaluation(code("MS0023", kPrivateScheme, "AI narrative"),
                                          content.narrative.c_str(), OFFalse),
          what + ": narrative");

  DSRDocument doc(DSRTypes::DT_Comprehensive3DSR);
  check(doc.setTreeFromRootTemplate(report, OFTrue), what + ": " + "report tree");
  check(doc.createNewSeriesInStudy(src.studyInstanceUid.c_str()), what + ": series");
  doc.setSeriesDescription(info.seriesDescription.empty() ? "AI measurement report" : info.seriesDescription.c_str());
  doc.setManufacturer(info.device.manufacturer.c_str());
  for (int k : referenced) {
    const auto& s = src.slices[static_cast<std::size_t>(k)];
    check(doc.getCurrentRequestedProcedureEvidence().addItem(src.studyInstanceUid.c_str(),
                                                            src.seriesInstanceUid.c_str(),
                                                            s.sopClassUid.c_str(), s.sopInstanceUid.c_str()),
          what + ": evidence");
  }
  auto& schemes = doc.getCodingSchemeIdentification();
  if (schemes.addItem(kPrivateScheme).good()) {
    schemes.setCodingSchemeName("MedSeek private codes");
    schemes.setCodingSchemeResponsibleOrganization("MedSeek");
  }
  DcmFileFormat ff;
  check(doc.write(*ff.getDataset()), what + ": cannot encode the document");
  bool utf8 = !isAscii(content.narrative) || !isAscii(content.lungRadsManagement) ||
              !isAscii(content.radiologistName) || !isAscii(content.lungRadsCategory);
  for (const auto& n : content.nodules) utf8 = utf8 || !isAscii(n.type) || !isAscii(n.lobe);
  finishAndSave(ff, *header->getDataset(), info, seriesUid, sopUid, file, utf8);
}

// ---------------------------------------------------------------------------------------------------
// SEG
// ---------------------------------------------------------------------------------------------------
void writeSegmentation(const SourceSeries& src, const VolumeGeometry& g, const std::vector<SegmentMask>& segments,
                       const DerivedSeriesInfo& info, const std::string& file) {
  const std::string what = "SEG " + file;
  requireGeometry(src, g, what);
  if (segments.empty()) throw DicomError(what + ": no segments to write");
  auto header = loadHeader(src.slices.front().file);
  const std::string seriesUid = info.seriesInstanceUid.empty() ? newDicomUid() : info.seriesInstanceUid;
  const std::string sopUid = info.sopInstanceUid.empty() ? newDicomUid() : info.sopInstanceUid;
  const Uint16 rows = static_cast<Uint16>(g.size[1]), cols = static_cast<Uint16>(g.size[0]);

  DcmSegmentation* raw = nullptr;
  IODGeneralEquipmentModule::EquipmentInfo eq(info.device.manufacturer.c_str(), info.device.modelName.c_str(),
                                               info.device.sha256.empty() ? "unknown" : info.device.sha256.c_str(),
                                               info.device.softwareVersion.empty() ? "unknown"
                                                                                 : info.device.softwareVersion.c_str());
  ContentIdentificationMacro ci(std::to_string(info.instanceNumber).c_str(), info.contentLabel.c_str(),
                                "Nodule masks", info.contentCreator.c_str());
  check(DcmSegmentation::createBinarySegmentation(raw, rows, cols, eq, ci), what + ": create");
  std::unique_ptr<DcmSegmentation> seg(raw);
  check(seg->importFromSourceImage(*header->getDataset()), what + ": patient/study/frame of reference");
  check(seg->getSegmentationSeriesModule().setSeriesNumber(std::to_string(info.seriesNumber).c_str()),
        what + ": series number");

  FGInterface& fg = seg->getFunctionalGroups();
  addPlaneGroups(fg, g, what);
  const std::string dimUid = newDicomUid();
  check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimUid.c_str(),
                                                DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
        what + ": dimension");
  check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimUid.c_str(), DCM_PlanePositionSequence,
                                                "ImagePositionPatient"),
        what + ": dimension");

  const std::size_t sliceVoxels = static_cast<std::size_t>(rows) * cols;
  std::set<int> referenced;
  std::vector<Uint8> frame(sliceVoxels);
  for (std::size_t s = 0; s < segments.size(); ++s) {
    const auto& m = segments[s];
    if (m.mask.size() != g.voxelCount())
      throw DicomError(what + ": mask of " + m.label + " has " + std::to_string(m.mask.size()) + " voxels, expected " +
                       std::to_string(g.voxelCount()));
    CodeSequenceMacro category("49755003", "SCT", "Morphologically Altered Structure");
    CodeSequenceMacro type("27925004", "SCT", "Nodule");
    DcmSegment* segment = nullptr;
    check(DcmSegment::create(segment, m.label.c_str(), category, type, DcmSegTypes::SAT_AUTOMATIC,
                             info.device.modelName.c_str()),
          what + ": segment " + m.label);
    segment->setTrackingID(m.label.c_str());
    segment->setTrackingUID(newDicomUid().c_str());
    Uint16 number = 0;
    check(seg->addSegment(segment, number), what + ": add segment " + m.label);
    bool any = false;
    for (int k = 0; k < g.size[2]; ++k) {
      const std::uint8_t* src8 = m.mask.data() + static_cast<std::size_t>(k) * sliceVoxels;
      bool nonEmpty = false;
      for (std::size_t i = 0; i < sliceVoxels; ++i) {
        frame[i] = src8[i] ? 1 : 0;
        nonEmpty |= src8[i] != 0;
      }
      if (!nonEmpty) continue;
      any = true;
      referenced.insert(k);
      std::unique_ptr<FGPlanePosPatient> pos(planePosition(g, k));
      FGFrameContent content;
      content.setDimensionIndexValues(number, 0);
      content.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1);
      std::unique_ptr<FGDerivationImage> der(
          derivationOf(src.slices[static_cast<std::size_t>(k)], "Nodule mask measured on the CT"));
      if (!pos || !der) throw DicomError(what + ": cannot create per-frame groups");
      OFVector<FGBase*> perFrame;
      perFrame.push_back(pos.get());
      perFrame.push_back(&content);
      perFrame.push_back(der.get());
      check(seg->addFrame(frame.data(), number, perFrame), what + ": frame " + std::to_string(k));
    }
    if (!any) throw DicomError(what + ": mask of " + m.label + " is empty");
  }

  DcmFileFormat ff;
  check(seg->writeDataset(*ff.getDataset()), what + ": cannot encode");
  putReferencedSeries(*ff.getDataset(), src, referenced, file);
  finishAndSave(ff, *header->getDataset(), info, seriesUid, sopUid, file);
}

// ---------------------------------------------------------------------------------------------------
// Parametric Map
// ---------------------------------------------------------------------------------------------------
void writeParametricMap(const SourceSeries& src, const VolumeGeometry& g, const ParametricMapContent& content,
                        const DerivedSeriesInfo& info, const std::string& file) {
  const std::string what = "Parametric Map " + file;
  requireGeometry(src, g, what);
  if (content.values.size() != g.voxelCount())
    throw DicomError(what + ": " + std::to_string(content.values.size()) + " values, expected " +
                     std::to_string(g.voxelCount()));
  auto header = loadHeader(src.slices.front().file);
  const std::string seriesUid = info.seriesInstanceUid.empty() ? newDicomUid() : info.seriesInstanceUid;
  const std::string sopUid = info.sopInstanceUid.empty() ? newDicomUid() : info.sopInstanceUid;
  const Uint16 rows = static_cast<Uint16>(g.size[1]), cols = static_cast<Uint16>(g.size[0]);

  IODEnhGeneralEquipmentModule::EquipmentInfo eq(
      info.device.manufacturer.c_str(), info.device.modelName.c_str(),
      info.device.sha256.empty() ? "unknown" : info.device.sha256.c_str(),
      info.device.softwareVersion.empty() ? "unknown" : info.device.softwareVersion.c_str());
  ContentIdentificationMacro ci(std::to_string(info.instanceNumber).c_str(), info.contentLabel.c_str(),
                                content.quantityMeaning.c_str(), info.contentCreator.c_str());
  auto created = DPMParametricMapIOD::create<IODFloatingPointImagePixelModule>(
      "OT", std::to_string(info.seriesNumber).c_str(), std::to_string(info.instanceNumber).c_str(), rows, cols, eq,
      ci, "VOLUME", "NONE", DPMTypes::CQ_RESEARCH);
  if (OFCondition* error = OFget<OFCondition>(&created)) check(*error, what + ": create");
  DPMParametricMapIOD* pm = OFget<DPMParametricMapIOD>(&created);
  if (!pm) throw DicomError(what + ": create failed");
  check(pm->importHierarchy(*header->getDataset(), OFTrue, OFTrue, OFTrue, OFFalse), what + ": patient/study");

  FGInterface& fg = pm->getFunctionalGroups();
  addPlaneGroups(fg, g, what);
  FGFrameAnatomy anatomy;
  anatomy.setLaterality(FGFrameAnatomy::LATERALITY_BOTH);
  anatomy.getAnatomy().getAnatomicRegion().set("39607008", "SCT", "Lung");
  check(pm->addForAllFrames(anatomy), what + ": frame anatomy");
  FGPixelValueTransformation identity;
  identity.setFGType(FGPixelValueTransformation::E_PixelValTrans_Identity);
  check(pm->addForAllFrames(identity), what + ": identity transformation");
  FGParametricMapFrameType frameType;
  check(frameType.setFrameType("DERIVED\\PRIMARY\\VOLUME\\NONE"), what + ": frame type");
  check(pm->addForAllFrames(frameType), what + ": frame type");
  FGRealWorldValueMapping rwvm;
  auto* item = new FGRealWorldValueMapping::RWVMItem();
  item->setDoubleFloatRealWorldValueFirstValueMapped(0.0);
  item->setDoubleFloatRealWorldValueLastValueMapped(1.0);
  item->setRealWorldValueSlope(1.0);
  item->setRealWorldValueIntercept(0.0);
  item->setLUTExplanation(content.quantityMeaning.c_str());
  item->setLUTLabel(content.quantityLabel.c_str());
  item->getMeasurementUnitsCode().set("1", "UCUM", "no units");
  rwvm.getRealWorldValueMapping().push_back(item);
  check(pm->addForAllFrames(rwvm), what + ": real world value mapping");

  const std::string dimUid = newDicomUid();
  check(pm->getIODMultiframeDimensionModule().addDimensionIndex(DCM_ImagePositionPatient, dimUid.c_str(),
                                                                DCM_PlanePositionSequence, "ImagePositionPatient"),
        what + ": dimension");
  DPMParametricMapIOD::FramesType frames = pm->getFrames();
  auto* f32 = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
  if (!f32) throw DicomError(what + ": float frames unavailable");
  const std::size_t sliceVoxels = static_cast<std::size_t>(rows) * cols;
  std::vector<Float32> buffer(sliceVoxels);
  std::set<int> referenced;
  for (int k = 0; k < g.size[2]; ++k) {
    std::copy_n(content.values.data() + static_cast<std::size_t>(k) * sliceVoxels, sliceVoxels, buffer.data());
    std::unique_ptr<FGPlanePosPatient> pos(planePosition(g, k));
    FGFrameContent fc;
    fc.setDimensionIndexValues(static_cast<Uint32>(k + 1), 0);
    std::unique_ptr<FGDerivationImage> der(derivationOf(src.slices[static_cast<std::size_t>(k)], "Grad-CAM of the CT"));
    OFVector<FGBase*> perFrame;
    perFrame.push_back(pos.get());
    perFrame.push_back(&fc);
    perFrame.push_back(der.get());
    check(f32->addFrame(buffer.data(), sliceVoxels, perFrame), what + ": frame " + std::to_string(k));
    referenced.insert(k);
  }
  DcmFileFormat ff;
  check(pm->writeDataset(*ff.getDataset()), what + ": cannot encode");
  putReferencedSeries(*ff.getDataset(), src, referenced, file);
  finishAndSave(ff, *header->getDataset(), info, seriesUid, sopUid, file);
}

// ---------------------------------------------------------------------------------------------------
// Encapsulated PDF
// ---------------------------------------------------------------------------------------------------
void writeEncapsulatedPdf(const SourceSeries& src, const std::string& pdfFile, const std::string& documentTitle,
                          const DerivedSeriesInfo& info, const std::string& file) {
  const std::string what = "Encapsulated PDF " + file;
  if (src.slices.empty()) throw DicomError(what + ": the source series has no instances");
  std::ifstream in(pdfFile, std::ios::binary);
  if (!in) throw DicomError(what + ": cannot read " + pdfFile);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 5 || std::string(bytes.data(), 5) != "%PDF-") throw DicomError(what + ": " + pdfFile + " is not a PDF");
  auto header = loadHeader(src.slices.front().file);
  const std::string seriesUid = info.seriesInstanceUid.empty() ? newDicomUid() : info.seriesInstanceUid;
  const std::string sopUid = info.sopInstanceUid.empty() ? newDicomUid() : info.sopInstanceUid;

  DcmFileFormat ff;
  DcmDataset& d = *ff.getDataset();
  putString(d, DCM_SOPClassUID, UID_EncapsulatedPDFStorage, file);
  putString(d, DCM_Modality, "DOC", file);
  putString(d, DCM_ConversionType, "WSD", file);
  putString(d, DCM_ContentDate, utcDicomDate(), file);
  putString(d, DCM_ContentTime, utcDicomTime(), file);
  putString(d, DCM_AcquisitionDateTime, utcDicomDate() + utcDicomTime(), file);
  putString(d, DCM_BurnedInAnnotation, "YES", file);
  putString(d, DCM_DocumentTitle, documentTitle, file);
  putString(d, DCM_MIMETypeOfEncapsulatedDocument, "application/pdf", file);
  check(d.putAndInsertUint32(DCM_EncapsulatedDocumentLength, static_cast<Uint32>(bytes.size())), what + ": length");
  DcmItem* concept = nullptr;
  check(d.findOrCreateSequenceItem(DCM_ConceptNameCodeSequence, concept, 0), what + ": concept name");
  putString(*concept, DCM_CodeValue, "18748-4", file);
  putString(*concept, DCM_CodingSchemeDesignator, "LN", file);
  putString(*concept, DCM_CodeMeaning, "Diagnostic imaging report", file);
  // Source instances: the series the report was made from.
  DcmItem* ref = nullptr;
  check(d.findOrCreateSequenceItem(DCM_SourceInstanceSequence, ref, 0), what + ": source instance");
  putString(*ref, DCM_ReferencedSOPClassUID, src.slices.front().sopClassUid, file);
  putString(*ref, DCM_ReferencedSOPInstanceUID, src.slices.front().sopInstanceUid, file);
  const bool utf8 = !isAscii(documentTitle);
  // Even length: pad with one zero byte (the PDF reader ignores trailing bytes after %%EOF).
  if (bytes.size() % 2) bytes.push_back('\0');
  check(d.putAndInsertUint8Array(DCM_EncapsulatedDocument, reinterpret_cast<const Uint8*>(bytes.data()),
                                 static_cast<unsigned long>(bytes.size())),
        what + ": document");
  finishAndSave(ff, *header->getDataset(), info, seriesUid, sopUid, file, utf8);
}

}  // namespace imaging
