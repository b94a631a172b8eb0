#pragma once
/// Thumbnail: one slice file rendered as a small windowed 8-bit grey image, for series browsers.
/// Torch-free and display-free (DCMTK decodes, OpenCV resizes); about one full slice decode per call.
///
///   imaging::GreyImage t = imaging::renderSliceThumbnail(summary.middleFile, 96, 1500, -600);
///   QImage(t.grey.data(), t.width, t.height, t.width, QImage::Format_Grayscale8).copy();
///
/// The longest side is `maxSize` pixels; the aspect follows the pixel spacing (PixelAspectRatio /
/// PixelSpacing). Multi-frame files: the middle frame. Limitations: greyscale images only; JPEG 2000
/// files are refused (DCMTK has no J2K decoder), with a DicomError saying so.
#include <cstdint>
#include <string>
#include <vector>

namespace imaging {

/// 8-bit grey image, row-major, one byte per pixel, no padding.
struct GreyImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> grey;
};

/// Renders `file` windowed to [level - window/2, level + window/2] (in the modality's units, HU for
/// CT). Throws DicomError naming the file and the reason when it cannot be read or rendered.
GreyImage renderSliceThumbnail(const std::string& file, int maxSize, double window, double level);

}  // namespace imaging
