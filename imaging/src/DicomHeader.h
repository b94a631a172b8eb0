#pragma once
// Private: header parsing shared by DicomIndex and SeriesLoader.
#include <string>
#include <vector>

#include "imaging/DicomIndex.h"

namespace imaging::detail {

enum class SniffResult { NotDicom, Part10, Bare, Unreadable };

/// Reads at most 132 bytes: 'DICM' at 128 (Part10) or a plausible preamble-less dataset start (Bare).
SniffResult sniffDicom(const std::string& path);

/// Series-level attributes of one file (copied into SeriesEntry for the first file of a series).
struct SeriesAttributes {
  std::string patientId, patientName, patientSex, patientAge, patientBirthDate;
  std::string studyInstanceUid, studyDate, studyTime, studyDescription, accessionNumber;
  std::string seriesInstanceUid, seriesDate, seriesTime, modality, seriesDescription, bodyPartExamined;
  std::string convolutionKernel, imageType, sopClassUid, frameOfReferenceUid, additionalPatientHistory;
  std::string manufacturer;
  int seriesNumber = 0, rows = 0, columns = 0;
  double sliceThicknessMm = 0;
  bool isDicomdir = false;
};

/// Parses the header up to PixelData. false + error text when DCMTK cannot parse the file.
bool readHeader(const std::string& path, InstanceRecord& rec, SeriesAttributes& attrs, std::string& error);

enum class FastHeaderResult { Parsed, NotHandled };
/// Fast path for Part-10 explicit/implicit VR little-endian files whose header fits in 16 KiB. Fills the same
/// fields as readHeader; NotHandled: use readHeader.
FastHeaderResult readHeaderFast(const std::string& path, InstanceRecord& rec, SeriesAttributes& attrs);

/// Files referenced by a DICOMDIR (missing ones are reported in `problems`).
std::vector<std::string> dicomdirReferences(const std::string& dicomdirPath,
                                            std::vector<std::string>& problems);

}  // namespace imaging::detail
