#pragma once
/// DerivedObjects: DICOM objects derived from one analysed CT series, written into the SAME study
/// (same StudyInstanceUID, new series) with references to the source CT instances, for PACS viewers
/// (OHIF, Weasis, 3D Slicer) and the IHE AI Results profile:
///   - Comprehensive 3D SR, TID 1500 Measurement Report (one measurement group per nodule + study level)
///   - Segmentation (binary, one segment per nodule)
///   - Parametric Map (float voxels on the CT grid, e.g. the Grad-CAM heatmap)
///   - Encapsulated PDF (the human-readable report)
///
///   auto src = imaging::findSourceSeries(studyPath, seriesUid, ct.geometry());  // SOP UIDs per slice
///   imaging::DerivedSeriesInfo info;  info.seriesNumber = 901;  info.device = {...};
///   imaging::writeMeasurementReport(src, report, info, "out/sr.dcm");
///   imaging::writeSegmentation(src, ct.geometry(), segments, info, "out/seg.dcm");
///
/// Plain value types only (no explain/workflow types). Patient and study attributes are copied from the
/// first source slice file, so the objects are bound to exactly the study the CT came from.
/// Every writer throws imaging::DicomError naming the file on failure. Output passes dciodvfy.
/// Limitations: axial stacks only (the CT loader guarantees one orientation); uncompressed output.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"
#include "imaging/DicomError.h"

namespace imaging {

/// One source CT instance (slice k of the loaded volume).
struct SourceImage {
  std::string file, sopClassUid, sopInstanceUid;
  int instanceNumber = 0;  ///< InstanceNumber (image number a radiologist quotes)
};

/// The CT series derived objects refer to.
struct SourceSeries {
  std::string studyInstanceUid, seriesInstanceUid, frameOfReferenceUid;
  std::vector<SourceImage> slices;  ///< volume order: slices[k] is slice k of the CtVolume
};

/// Finds the series `seriesInstanceUid` under `studyPath` and orders its instances like the volume
/// with geometry `geometry` (by position along the slice normal). Throws DicomError when the series
/// is missing or its instances do not match the volume's slices one to one.
SourceSeries findSourceSeries(const std::string& studyPath, const std::string& seriesInstanceUid,
                              const VolumeGeometry& geometry);

/// The algorithm (device) that produced the results.
struct DerivingDevice {
  std::string manufacturer = "MedSeek";
  std::string modelName = "MedSeek MoE";     ///< algorithm name
  std::string softwareVersion;               ///< model/software version
  std::string sha256;                        ///< weights identity (64 hex); used as device serial number
};

/// Series/instance identity of one derived object. Empty UIDs are generated.
struct DerivedSeriesInfo {
  std::string seriesInstanceUid, sopInstanceUid;
  int seriesNumber = 900;
  int instanceNumber = 1;
  std::string seriesDescription;
  std::string contentLabel = "MEDSEEK";    ///< SEG/PM ContentLabel (CS, upper case)
  std::string contentCreator = "MedSeek^AI";  ///< ContentCreatorName (PN)
  DerivingDevice device;
};

/// One nodule as reported in the SR.
struct ReportedNodule {
  int number = 1;                       ///< tracking identifier "Nodule <number>"
  std::string trackingUid;              ///< empty: generated
  std::array<double, 3> centerLps{};    ///< mm
  int sliceK = -1;                      ///< slice the measurements were made on (the image referenced)
  double longAxisMm = 0, shortAxisMm = 0, meanDiameterMm = 0;
  double volumeMl = 0;                  ///< 0: not reported
  double meanHu = 0;
  bool hasMeanHu = false;
  std::string type;                     ///< "solid" | "part_solid" | "non_solid"
  std::string lobe;                     ///< "RUL" | "RML" | "RLL" | "LUL" | "LLL" | other: not coded
  double aiScore = -1;                  ///< CAM peak in the region 0..1 (-1: not reported)
  int segmentNumber = 0;                ///< segment of the SEG holding its mask (0: none)
};

/// Content of the TID 1500 Measurement Report.
struct MeasurementReportContent {
  double aiProbability = 0;        ///< study-level malignancy probability 0..1
  std::string lungRadsCategory;    ///< "1" ... "4B"
  std::string lungRadsManagement;  ///< free text
  double brockProbability = -1;    ///< -1: not computed
  std::vector<ReportedNodule> nodules;
  std::string narrative;           ///< free text summary (TEXT item), may be empty
  std::string radiologistDecision; ///< "accepted" | "edited" | "rejected" | empty (not reviewed)
  std::string radiologistName;
  /// Optional references to the SEG / PM written with this report (empty: none).
  std::string segmentationSopInstanceUid, segmentationSeriesUid;
};

/// Writes a Comprehensive 3D SR (TID 1500) into `file`.
void writeMeasurementReport(const SourceSeries& source, const MeasurementReportContent& content,
                            const DerivedSeriesInfo& info, const std::string& file);

/// One binary segment: mask on the CT grid (one byte per voxel, non-zero = inside).
struct SegmentMask {
  std::string label;                  ///< e.g. "Nodule 1"
  std::vector<std::uint8_t> mask;     ///< voxelCount() of the CT geometry
};

/// Writes a binary Segmentation (one segment per mask; only frames that hold voxels of a segment).
/// Segment numbers are 1.. in the order given. Throws DicomError when a mask is empty or mis-sized.
void writeSegmentation(const SourceSeries& source, const VolumeGeometry& geometry,
                       const std::vector<SegmentMask>& segments, const DerivedSeriesInfo& info,
                       const std::string& file);

/// Writes a float32 Parametric Map with one frame per CT slice; values laid out like CtVolume.
struct ParametricMapContent {
  std::string quantityLabel = "GRADCAM";            ///< LUTLabel (SH)
  std::string quantityMeaning = "Grad-CAM relevance";  ///< LUT explanation / code meaning
  std::vector<float> values;                        ///< voxelCount() values
};
void writeParametricMap(const SourceSeries& source, const VolumeGeometry& geometry,
                        const ParametricMapContent& content, const DerivedSeriesInfo& info,
                        const std::string& file);

/// Wraps a PDF file as Encapsulated PDF Storage.
void writeEncapsulatedPdf(const SourceSeries& source, const std::string& pdfFile,
                          const std::string& documentTitle, const DerivedSeriesInfo& info,
                          const std::string& file);

/// A new DICOM UID (DCMTK's root).
std::string newDicomUid();

}  // namespace imaging
