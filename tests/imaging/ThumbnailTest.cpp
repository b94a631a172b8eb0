#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "TestVolumes.h"
#include "imaging/DicomError.h"
#include "imaging/Thumbnail.h"

TEST(Thumbnail, RendersTheMiddleSliceOfAWrittenSeriesWithItsPhysicalAspect) {
  testvol::TempDir dir("thumbnail");
  // 80 x 40 pixels of 0.7 x 0.75 mm: 56 x 30 mm, wider than high.
  const auto files = imaging::writeCtSeries(testvol::makeVolume(80, 40, 5), testvol::makeMeta(), dir.str());
  const auto t = imaging::renderSliceThumbnail(files[files.size() / 2], 64, 400, 40);
  ASSERT_EQ(t.width, 64);
  EXPECT_NEAR(t.height, 64.0 * 30.0 / 56.0, 1.0);
  ASSERT_EQ(t.grey.size(), static_cast<std::size_t>(t.width) * t.height);
  const auto [lo, hi] = std::minmax_element(t.grey.begin(), t.grey.end());
  EXPECT_LT(*lo, 10);   // air is black in a soft-tissue window
  EXPECT_GT(*hi, 200);  // the spine is white
  // Corners are air, the centre is soft tissue (~40 HU = mid grey).
  EXPECT_LT(t.grey[0], 10);
  const int centre = t.grey[static_cast<std::size_t>(t.height / 2) * t.width + t.width / 2];
  EXPECT_GT(centre, 60);
  EXPECT_LT(centre, 200);
}

TEST(Thumbnail, NamesTheFileWhenItCannotBeRead) {
  try {
    imaging::renderSliceThumbnail("/nonexistent/slice.dcm", 64, 1500, -600);
    FAIL() << "no error";
  } catch (const imaging::DicomError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/slice.dcm"), std::string::npos) << e.what();
  }
}
