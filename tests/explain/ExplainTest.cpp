#include <gtest/gtest.h>

#include "explain/Explain.h"

TEST(Explain, LungRadsSentenceNamesCategoryAndManagement) {
  const auto s = explain::lungRadsSentence(clinical::LungRadsCategory::C4B);
  EXPECT_NE(s.find("Lung-RADS 4B"), std::string::npos);
  EXPECT_NE(s.find("tissue sampling"), std::string::npos);
}
