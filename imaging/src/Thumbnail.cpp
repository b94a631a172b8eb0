#include "imaging/Thumbnail.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimgle/dcmimage.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "Internal.h"
#include "imaging/DicomError.h"

namespace imaging {

GreyImage renderSliceThumbnail(const std::string& file, int maxSize, double window, double level) {
  const std::string where = "thumbnail of " + file + ": ";
  if (maxSize < 1) throw DicomError(where + "size must be at least 1 pixel");
  if (!(window > 0)) throw DicomError(where + "window width must be positive");
  detail::ensureDcmtkCodecs();
  DcmFileFormat ff;
  const OFCondition status = ff.loadFile(file.c_str());
  if (status.bad()) throw DicomError(where + "cannot read the file (" + status.text() + ")");
  DcmDataset* ds = ff.getDataset();
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  const DcmXfer x(xfer);
  if (x.getXferID() && std::string(x.getXferID()).rfind("1.2.840.10008.1.2.4.9", 0) == 0)
    throw DicomError(where + "JPEG 2000 pixel data cannot be shown as a thumbnail");
  if (!ds->tagExists(DCM_PixelData)) throw DicomError(where + "the file has no pixel data");
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;

  DicomImage image(&ff, xfer, 0UL, static_cast<unsigned long>(frames / 2), 1UL);
  if (image.getStatus() != EIS_Normal)
    throw DicomError(where + "cannot decode the image (" + DicomImage::getString(image.getStatus()) + ")");
  if (!image.isMonochrome()) throw DicomError(where + "not a greyscale image");
  image.setWindow(level, window);
  const int w = static_cast<int>(image.getWidth()), h = static_cast<int>(image.getHeight());
  const auto* pixels = static_cast<const std::uint8_t*>(image.getOutputData(8));
  if (!pixels || w < 1 || h < 1) throw DicomError(where + "no pixels could be rendered");

  // Physical aspect: pixel width / pixel height from DCMTK (PixelSpacing or PixelAspectRatio).
  double ratio = image.getWidthHeightRatio();
  if (!(ratio > 0) || !std::isfinite(ratio)) ratio = 1;
  const double physW = w * ratio, physH = h;
  const double scale = maxSize / std::max(physW, physH);
  const int tw = std::max(1, static_cast<int>(std::lround(physW * scale)));
  const int th = std::max(1, static_cast<int>(std::lround(physH * scale)));
  try {
    const cv::Mat src(h, w, CV_8UC1, const_cast<std::uint8_t*>(pixels));
    GreyImage out;
    out.width = tw;
    out.height = th;
    out.grey.resize(static_cast<std::size_t>(tw) * th);
    cv::Mat dst(th, tw, CV_8UC1, out.grey.data());
    cv::resize(src, dst, dst.size(), 0, 0, tw < w ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
  } catch (const cv::Exception& e) {
    throw DicomError(where + "resizing failed (" + e.what() + ")");
  }
}

}  // namespace imaging
