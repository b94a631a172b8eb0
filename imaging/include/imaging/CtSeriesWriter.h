#pragma once
/// CtSeriesWriter: writes a CtVolume as a CT Image Storage series (one file per slice) with DCMTK.
///
///   imaging::CtSeriesMetadata meta;
///   meta.patientId = "MS-0001"; meta.studyInstanceUid = ...; meta.seriesInstanceUid = ...;
///   auto files = imaging::writeCtSeries(volume, meta, "/out/study/CT");   // sorted by slice index
///
/// Files pass dciodvfy without errors. Throws imaging::DicomError naming the file on failure.
#include <string>
#include <vector>

#include "imaging/CtVolume.h"

namespace imaging {

enum class TransferSyntax {
  ExplicitVrLittleEndian,
  ImplicitVrLittleEndian,
  ExplicitVrBigEndian,
  DeflatedExplicitVrLittleEndian,
  JpegLossless,  ///< process 14, selection value 1
  JpegLsLossless,
  RleLossless,
  Jpeg2000Lossless,
};

/// Command-line names of the transfer syntaxes ("explicit-le", "implicit-le", "explicit-be", "deflate",
/// "jpeg-lossless", "jpeg-ls", "rle", "j2k"), in enum order.
const std::vector<std::string>& transferSyntaxNames();
/// The syntax for one of transferSyntaxNames(); throws std::invalid_argument naming the unknown name.
TransferSyntax transferSyntaxFromName(const std::string& name);

/// Current UTC date and time as DICOM DA ("YYYYMMDD") and TM ("HHMMSS"), and as ISO 8601
/// ("YYYY-MM-DDTHH:MM:SSZ").
std::string utcDicomDate();
std::string utcDicomTime();
std::string utcIso8601();

struct CtSeriesMetadata {
  std::string patientId, patientName, patientSex /* M|F|O */, patientAge /* e.g. 062Y */, patientBirthDate;
  std::string studyInstanceUid, seriesInstanceUid, frameOfReferenceUid;
  std::string studyDate, studyTime, accessionNumber, studyId = "1";
  std::string studyDescription = "LDCT LUNG SCREENING", seriesDescription = "Chest 1.25mm";
  int seriesNumber = 2;
  std::string convolutionKernel = "B30f";
  std::string additionalPatientHistory;  ///< short history (LT)
  double kvp = 120, ctdiVolMgy = 1.5;
  std::string manufacturer = "MedSeek", modelName = "MedSeek Phantom";
  std::string sopInstanceUidRoot;  ///< instance UIDs are <root>.<slice+1>; empty: derived from the series UID
};

struct CtSeriesWriteOptions {
  TransferSyntax transferSyntax = TransferSyntax::ExplicitVrLittleEndian;
  int threads = 0;  ///< 0: hardware concurrency
};

/// Writes one file per slice into `directory` (created if missing). Returns the file paths.
std::vector<std::string> writeCtSeries(const CtVolume& volume, const CtSeriesMetadata& meta,
                                       const std::string& directory,
                                       const CtSeriesWriteOptions& options = {});

}  // namespace imaging
