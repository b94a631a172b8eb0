// CT Image Storage writer (DCMTK; JPEG 2000 through OpenJPEG). One file per slice, written in parallel.
#include "imaging/CtSeriesWriter.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "Internal.h"
#include "imaging/DicomError.h"

namespace imaging {
namespace fs = std::filesystem;
using detail::formatDs;

namespace {

std::string newUid(const char* root) {
  char buf[100];
  dcmGenerateUniqueIdentifier(buf, root);
  return buf;
}

bool isAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

E_TransferSyntax dcmtkSyntax(TransferSyntax ts) {
  switch (ts) {
    case TransferSyntax::ExplicitVrLittleEndian:
      return EXS_LittleEndianExplicit;
    case TransferSyntax::ImplicitVrLittleEndian:
      return EXS_LittleEndianImplicit;
    case TransferSyntax::ExplicitVrBigEndian:
      return EXS_BigEndianExplicit;
    case TransferSyntax::DeflatedExplicitVrLittleEndian:
      return EXS_DeflatedLittleEndianExplicit;
    case TransferSyntax::JpegLossless:
      return EXS_JPEGProcess14SV1;
    case TransferSyntax::JpegLsLossless:
      return EXS_JPEGLSLossless;
    case TransferSyntax::RleLossless:
      return EXS_RLELossless;
    case TransferSyntax::Jpeg2000Lossless:
      return EXS_JPEG2000LosslessOnly;
  }
  return EXS_LittleEndianExplicit;
}

void check(OFCondition c, const std::string& file, const char* what) {
  if (c.bad()) throw DicomError(file + ": cannot " + what + " (" + c.text() + ")");
}

struct Put {
  DcmDataset* ds;
  const std::string& file;
  void operator()(const DcmTagKey& tag, const std::string& value) const {
    // Type 2 attributes are written empty when unknown.
    const OFCondition c = ds->putAndInsertString(tag, value.c_str());
    if (c.bad())
      throw DicomError(file + ": cannot set " + DcmTag(tag).getTagName() + " to \"" + value + "\" (" +
                       c.text() + ")");
  }
};

}  // namespace

std::vector<std::string> writeCtSeries(const CtVolume& volume, const CtSeriesMetadata& metaIn,
                                       const std::string& directory, const CtSeriesWriteOptions& options) {
  const auto& g = volume.geometry();
  if (volume.empty() || g.size[0] <= 0 || g.size[1] <= 0 || g.size[2] <= 0)
    throw DicomError(directory + ": cannot write an empty CT volume");
  if (g.size[0] > 65535 || g.size[1] > 65535)
    throw DicomError(directory + ": slices larger than 65535 pixels cannot be stored in DICOM");
  if (volume.valuesHu().size() != g.voxelCount())
    throw DicomError(directory + ": CT volume holds " + std::to_string(volume.valuesHu().size()) +
                     " voxels but its geometry needs " + std::to_string(g.voxelCount()));
  detail::ensureDcmtkCodecs();
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) throw DicomError(directory + ": cannot create the folder (" + ec.message() + ")");

  CtSeriesMetadata meta = metaIn;
  if (meta.studyInstanceUid.empty()) meta.studyInstanceUid = newUid(SITE_STUDY_UID_ROOT);
  if (meta.seriesInstanceUid.empty()) meta.seriesInstanceUid = newUid(SITE_SERIES_UID_ROOT);
  if (meta.frameOfReferenceUid.empty()) meta.frameOfReferenceUid = newUid(SITE_SERIES_UID_ROOT);
  if (meta.studyDate.empty()) meta.studyDate = utcDicomDate();
  if (meta.studyTime.empty()) meta.studyTime = utcDicomTime();
  std::string instanceRoot =
      meta.sopInstanceUidRoot.empty() ? meta.seriesInstanceUid : meta.sopInstanceUidRoot;
  if (instanceRoot.size() + 1 + std::to_string(g.size[2]).size() > 64)
    instanceRoot = newUid(SITE_INSTANCE_UID_ROOT);
  // A series-wide UID root of the writer's own, for the rare roots too long to extend.

  // Stored values: unsigned HU+1024 (intercept -1024, as most scanners do) when the range allows,
  // otherwise signed HU (intercept 0). Both keep every int16 HU exactly.
  const auto [minIt, maxIt] = std::minmax_element(volume.valuesHu().begin(), volume.valuesHu().end());
  const bool unsignedStorage = *minIt >= -1024;
  const int intercept = unsignedStorage ? -1024 : 0;

  const std::array<double, 3> rowDir{g.directionLps[0], g.directionLps[3], g.directionLps[6]};
  const std::array<double, 3> colDir{g.directionLps[1], g.directionLps[4], g.directionLps[7]};
  const std::array<double, 3> normal{rowDir[1] * colDir[2] - rowDir[2] * colDir[1],
                                     rowDir[2] * colDir[0] - rowDir[0] * colDir[2],
                                     rowDir[0] * colDir[1] - rowDir[1] * colDir[0]};
  std::string iop;
  for (int a = 0; a < 3; ++a) iop += (a ? "\\" : "") + formatDs(rowDir[a]);
  for (int a = 0; a < 3; ++a) iop += "\\" + formatDs(colDir[a]);
  const std::string pixelSpacing = formatDs(g.spacingMm[1]) + "\\" + formatDs(g.spacingMm[0]);
  const std::string thickness = formatDs(g.spacingMm[2]);
  const bool utf8 = !(isAscii(meta.patientName) && isAscii(meta.additionalPatientHistory) &&
                      isAscii(meta.studyDescription) && isAscii(meta.seriesDescription) &&
                      isAscii(meta.patientId) && isAscii(meta.manufacturer) && isAscii(meta.modelName));
  const E_TransferSyntax xfer = dcmtkSyntax(options.transferSyntax);
  const std::size_t sliceVoxels = static_cast<std::size_t>(g.size[0]) * static_cast<std::size_t>(g.size[1]);

  std::vector<std::string> files(static_cast<std::size_t>(g.size[2]));
  detail::parallelFor(files.size(), options.threads, [&](std::size_t k) {
    char name[32];
    std::snprintf(name, sizeof name, "IM%05zu.dcm", k + 1);
    const std::string file = (fs::path(directory) / name).string();
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    Put put{ds, file};
    if (utf8) put(DCM_SpecificCharacterSet, "ISO_IR 192");
    put(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
    put(DCM_SOPClassUID, UID_CTImageStorage);
    put(DCM_SOPInstanceUID, instanceRoot + "." + std::to_string(k + 1));
    put(DCM_StudyDate, meta.studyDate);
    put(DCM_SeriesDate, meta.studyDate);
    put(DCM_AcquisitionDate, meta.studyDate);
    put(DCM_ContentDate, meta.studyDate);
    put(DCM_StudyTime, meta.studyTime);
    put(DCM_SeriesTime, meta.studyTime);
    put(DCM_AcquisitionTime, meta.studyTime);
    put(DCM_ContentTime, meta.studyTime);
    put(DCM_AccessionNumber, meta.accessionNumber);
    put(DCM_Modality, "CT");
    put(DCM_Manufacturer, meta.manufacturer);
    put(DCM_ReferringPhysicianName, "");
    put(DCM_StudyDescription, meta.studyDescription);
    put(DCM_SeriesDescription, meta.seriesDescription);
    put(DCM_ManufacturerModelName, meta.modelName);
    put(DCM_PatientName, meta.patientName);
    put(DCM_PatientID, meta.patientId);
    put(DCM_PatientBirthDate, meta.patientBirthDate);
    put(DCM_PatientSex, meta.patientSex);
    if (!meta.patientAge.empty()) put(DCM_PatientAge, meta.patientAge);
    if (!meta.additionalPatientHistory.empty())
      put(DCM_AdditionalPatientHistory, meta.additionalPatientHistory);
    put(DCM_BodyPartExamined, "CHEST");
    put(DCM_SliceThickness, thickness);
    put(DCM_KVP, formatDs(meta.kvp));
    put(DCM_SpacingBetweenSlices, thickness);
    if (!meta.convolutionKernel.empty()) put(DCM_ConvolutionKernel, meta.convolutionKernel);
    put(DCM_PatientPosition, "HFS");
    put(DCM_StudyInstanceUID, meta.studyInstanceUid);
    put(DCM_SeriesInstanceUID, meta.seriesInstanceUid);
    put(DCM_StudyID, meta.studyId);
    put(DCM_SeriesNumber, std::to_string(meta.seriesNumber));
    put(DCM_AcquisitionNumber, "1");
    put(DCM_InstanceNumber, std::to_string(k + 1));
    const auto ipp = g.lpsFromIjk({0.0, 0.0, static_cast<double>(k)});
    put(DCM_ImagePositionPatient, formatDs(ipp[0]) + "\\" + formatDs(ipp[1]) + "\\" + formatDs(ipp[2]));
    put(DCM_ImageOrientationPatient, iop);
    put(DCM_FrameOfReferenceUID, meta.frameOfReferenceUid);
    put(DCM_PositionReferenceIndicator, "");
    put(DCM_SliceLocation, formatDs(ipp[0] * normal[0] + ipp[1] * normal[1] + ipp[2] * normal[2]));
    check(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1), file, "set SamplesPerPixel");
    put(DCM_PhotometricInterpretation, "MONOCHROME2");
    check(ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(g.size[1])), file, "set Rows");
    check(ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(g.size[0])), file, "set Columns");
    put(DCM_PixelSpacing, pixelSpacing);
    check(ds->putAndInsertUint16(DCM_BitsAllocated, 16), file, "set BitsAllocated");
    check(ds->putAndInsertUint16(DCM_BitsStored, 16), file, "set BitsStored");
    check(ds->putAndInsertUint16(DCM_HighBit, 15), file, "set HighBit");
    check(ds->putAndInsertUint16(DCM_PixelRepresentation, unsignedStorage ? 0 : 1), file,
          "set PixelRepresentation");
    put(DCM_WindowCenter, "-600");
    put(DCM_WindowWidth, "1500");
    put(DCM_RescaleIntercept, std::to_string(intercept));
    put(DCM_RescaleSlope, "1");
    put(DCM_RescaleType, "HU");
    put(DCM_LossyImageCompression, "00");
    put(DCM_CTDIvol, formatDs(meta.ctdiVolMgy));
    DcmItem* phantomCode = nullptr;
    check(ds->findOrCreateSequenceItem(DCM_CTDIPhantomTypeCodeSequence, phantomCode, 0), file,
          "create CTDIPhantomTypeCodeSequence");
    phantomCode->putAndInsertString(DCM_CodeValue, "113691");
    phantomCode->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
    phantomCode->putAndInsertString(DCM_CodeMeaning, "IEC Body Dosimetry Phantom");

    std::vector<Uint16> stored(sliceVoxels);
    const int16_t* src = volume.data() + k * sliceVoxels;
    for (std::size_t i = 0; i < sliceVoxels; ++i)
      stored[i] = static_cast<Uint16>(static_cast<int>(src[i]) - intercept);

    if (options.transferSyntax == TransferSyntax::Jpeg2000Lossless) {
      std::vector<std::uint8_t> code;
      try {
        code = detail::encodeJ2kLossless(stored.data(), g.size[0], g.size[1], 16, !unsignedStorage);
      } catch (const std::exception& e) {
        throw DicomError(file + ": " + e.what());
      }
      auto* pixelData = new DcmPixelData(DCM_PixelData);
      auto* sequence = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
      sequence->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));  // empty basic offset table
      DcmOffsetList offsets;
      check(sequence->storeCompressedFrame(offsets, code.data(), static_cast<Uint32>(code.size()), 0), file,
            "store the JPEG 2000 frame");
      pixelData->putOriginalRepresentation(xfer, nullptr, sequence);
      check(ds->insert(pixelData, true), file, "insert the pixel data");
    } else {
      check(
          ds->putAndInsertUint16Array(DCM_PixelData, stored.data(), static_cast<unsigned long>(sliceVoxels)),
          file, "set the pixel data");
      stored = {};
      if (options.transferSyntax == TransferSyntax::JpegLossless) {
        DJ_RPLossless param(1, 0);
        check(ds->chooseRepresentation(xfer, &param), file, "compress with JPEG lossless");
      } else if (options.transferSyntax == TransferSyntax::JpegLsLossless) {
        DJLSRepresentationParameter param(0, OFTrue);
        check(ds->chooseRepresentation(xfer, &param), file, "compress with JPEG-LS lossless");
      } else if (options.transferSyntax == TransferSyntax::RleLossless) {
        DcmRLERepresentationParameter param;
        check(ds->chooseRepresentation(xfer, &param), file, "compress with RLE");
      }
      if (!ds->canWriteXfer(xfer))
        throw DicomError(file + ": the pixel data cannot be written in the requested transfer syntax");
    }
    check(ff.saveFile(file.c_str(), xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                      EWM_createNewMeta),
          file, "write the file");
    files[k] = file;
  });
  return files;
}

namespace {
std::string utcFormat(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string utcDicomDate() { return utcFormat("%Y%m%d"); }
std::string utcDicomTime() { return utcFormat("%H%M%S"); }
std::string utcIso8601() { return utcFormat("%Y-%m-%dT%H:%M:%SZ"); }

const std::vector<std::string>& transferSyntaxNames() {
  static const std::vector<std::string> names{"explicit-le", "implicit-le",   "explicit-be", "deflate",
                                              "jpeg-lossless", "jpeg-ls", "rle",         "j2k"};
  return names;
}

TransferSyntax transferSyntaxFromName(const std::string& name) {
  const auto& names = transferSyntaxNames();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw std::invalid_argument("unknown transfer syntax: " + name);
  return static_cast<TransferSyntax>(it - names.begin());
}

}  // namespace imaging
