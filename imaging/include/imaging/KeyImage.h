#pragma once
/// KeyImage: renders an axial slice of a CtVolume to an 8-bit image (PNG) without any display, for
/// reports, documentation and the batch screen (VTK needs an X server; this does not). Optional
/// heatmap overlay (values 0..1 on the CT grid, jet colour map, alpha-blended above a threshold) with a
/// colour bar, circles around findings and a scale bar.
///
///   imaging::KeyImageOptions opt;            // lung window
///   opt.overlay = &cam;                      // optional, one float per CT voxel
///   opt.circles.push_back({{x, y, z}, 6.0}); // LPS centre, radius in mm
///   imaging::writeAxialPng(ct, k, "key.png", opt);
///
/// Radiological convention: patient right on image left, anterior up; pixels are square (the slice is
/// resampled to the in-plane spacing's smaller value).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"

namespace imaging {

struct KeyImageCircle {
  std::array<double, 3> centerLps{};
  double radiusMm = 5;
};

struct KeyImageOptions {
  double window = 1500, level = -600;          ///< lung window by default
  const std::vector<float>* overlay = nullptr; ///< one value in [0,1] per CT voxel, or nullptr
  double overlayOpacity = 0.45;
  double overlayThreshold = 0.2;               ///< values below are not drawn
  bool colourBar = true;                       ///< drawn when an overlay is given
  bool scaleBar = true;                        ///< 50 mm bar, bottom left
  std::vector<KeyImageCircle> circles;
  int maxSidePixels = 768;
};

/// BGR image, row-major, 3 bytes per pixel.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> bgr;
};

RgbImage renderAxial(const CtVolume& volume, int sliceK, const KeyImageOptions& options = {});
/// Encodes as PNG; throws DicomError naming the file when it cannot be written.
void writePng(const RgbImage& image, const std::string& file);
void writeAxialPng(const CtVolume& volume, int sliceK, const std::string& file,
                   const KeyImageOptions& options = {});

}  // namespace imaging
