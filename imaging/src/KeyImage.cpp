#include "imaging/KeyImage.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "imaging/DicomError.h"

namespace imaging {

namespace {
cv::Mat toMat(const RgbImage& img) {
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<std::uint8_t*>(img.bgr.data()));
}
}  // namespace

RgbImage renderAxial(const CtVolume& volume, int k, const KeyImageOptions& opt) {
  const auto& g = volume.geometry();
  if (volume.empty()) throw DicomError("key image: empty volume");
  if (k < 0 || k >= g.size[2])
    throw DicomError("key image: slice " + std::to_string(k) + " outside 0.." + std::to_string(g.size[2] - 1));
  if (opt.overlay && opt.overlay->size() != volume.valuesHu().size())
    throw DicomError("key image: overlay has " + std::to_string(opt.overlay->size()) +
                     " values for a volume of " + std::to_string(volume.valuesHu().size()));
  const int w = g.size[0], h = g.size[1];
  const std::size_t sliceOffset = static_cast<std::size_t>(w) * h * k;

  // Window the slice to 8-bit grey.
  cv::Mat grey(h, w, CV_8UC1);
  const double lo = opt.level - opt.window / 2.0;
  const double scale = 255.0 / std::max(1.0, opt.window);
  const int16_t* hu = volume.data() + sliceOffset;
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i)
      grey.at<std::uint8_t>(j, i) =
          cv::saturate_cast<std::uint8_t>((hu[static_cast<std::size_t>(j) * w + i] - lo) * scale);
  cv::Mat bgr;
  cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);

  if (opt.overlay) {
    cv::Mat heat(h, w, CV_8UC1);
    cv::Mat mask(h, w, CV_8UC1);
    const float* v = opt.overlay->data() + sliceOffset;
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) {
        const float x = std::clamp(v[static_cast<std::size_t>(j) * w + i], 0.0f, 1.0f);
        heat.at<std::uint8_t>(j, i) = static_cast<std::uint8_t>(x * 255.0f + 0.5f);
        mask.at<std::uint8_t>(j, i) = x >= opt.overlayThreshold ? 255 : 0;
      }
    cv::Mat colour;
    cv::applyColorMap(heat, colour, cv::COLORMAP_JET);
    cv::Mat blended;
    cv::addWeighted(bgr, 1.0 - opt.overlayOpacity, colour, opt.overlayOpacity, 0.0, blended);
    blended.copyTo(bgr, mask);
  }

  // Square pixels, longest side <= maxSidePixels (DICOM rows are already anterior-up, columns run
  // from patient right to left, so the array is in radiological convention as stored).
  const double pxMm = std::min(g.spacingMm[0], g.spacingMm[1]);
  double outW = w * g.spacingMm[0] / pxMm, outH = h * g.spacingMm[1] / pxMm;
  const double shrink = std::min(1.0, opt.maxSidePixels / std::max(outW, outH));
  outW *= shrink;
  outH *= shrink;
  const double mmPerPixel = pxMm / shrink;
  cv::Mat out;
  cv::resize(bgr, out, cv::Size(static_cast<int>(std::lround(outW)), static_cast<int>(std::lround(outH))), 0, 0,
             cv::INTER_LINEAR);

  const double sx = out.cols / static_cast<double>(w), sy = out.rows / static_cast<double>(h);
  for (const auto& c : opt.circles) {
    const auto ijk = g.ijkFromLps(c.centerLps);
    const cv::Point p(static_cast<int>(std::lround((ijk[0] + 0.5) * sx)),
                      static_cast<int>(std::lround((ijk[1] + 0.5) * sy)));
    cv::circle(out, p, std::max(4, static_cast<int>(std::lround(c.radiusMm / mmPerPixel))),
               cv::Scalar(0, 255, 255), 2, cv::LINE_AA);
  }
  if (opt.scaleBar) {
    const int len = static_cast<int>(std::lround(50.0 / mmPerPixel));
    const cv::Point a(12, out.rows - 14), b(12 + len, out.rows - 14);
    cv::line(out, a, b, cv::Scalar(255, 255, 255), 2);
    cv::putText(out, "50 mm", cv::Point(12, out.rows - 20), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  cv::putText(out, "R", cv::Point(6, out.rows / 2), cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 220, 255), 2);
  cv::putText(out, "L", cv::Point(out.cols - 20, out.rows / 2), cv::FONT_HERSHEY_SIMPLEX, 0.6,
              cv::Scalar(0, 220, 255), 2);
  if (opt.overlay && opt.colourBar) {
    const int barH = out.rows / 3, barW = 12, x0 = out.cols - barW - 10, y0 = 20;
    cv::Mat ramp(barH, 1, CV_8UC1);
    for (int r = 0; r < barH; ++r) ramp.at<std::uint8_t>(r, 0) = static_cast<std::uint8_t>(255 - r * 255 / std::max(1, barH - 1));
    cv::Mat rampColour;
    cv::applyColorMap(ramp, rampColour, cv::COLORMAP_JET);
    cv::resize(rampColour, rampColour, cv::Size(barW, barH), 0, 0, cv::INTER_NEAREST);
    rampColour.copyTo(out(cv::Rect(x0, y0, barW, barH)));
    cv::rectangle(out, cv::Rect(x0, y0, barW, barH), cv::Scalar(255, 255, 255), 1);
    cv::putText(out, "1.0", cv::Point(x0 - 30, y0 + 10), cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(255, 255, 255), 1);
    cv::putText(out, "0.0", cv::Point(x0 - 30, y0 + barH), cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(255, 255, 255), 1);
  }
  RgbImage img;
  img.width = out.cols;
  img.height = out.rows;
  img.bgr.assign(out.data, out.data + static_cast<std::size_t>(out.cols) * out.rows * 3);
  return img;
}

void writePng(const RgbImage& image, const std::string& file) {
  bool ok = false;
  try {
    ok = cv::imwrite(file, toMat(image));
  } catch (const cv::Exception& e) {
    throw DicomError(file + ": cannot write PNG (" + e.what() + ")");
  }
  if (!ok) throw DicomError(file + ": cannot write PNG");
}

void writeAxialPng(const CtVolume& volume, int k, const std::string& file, const KeyImageOptions& opt) {
  writePng(renderAxial(volume, k, opt), file);
}

}  // namespace imaging
