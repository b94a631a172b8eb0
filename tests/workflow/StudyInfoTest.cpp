#include <gtest/gtest.h>

#include "imaging/DicomError.h"
#include "workflow/StudyInfo.h"

TEST(StudyInfo, MissingPathIsAnImagingError) {
  EXPECT_THROW(workflow::describePath("/nonexistent/medseek"), imaging::DicomError);
}
