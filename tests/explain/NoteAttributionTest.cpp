#include <gtest/gtest.h>

#include "explain/NoteAttribution.h"

namespace {
// One token per byte range of `piece` found in order in the note, with the given scores.
std::vector<explain::TokenScore> tokens(const std::string& note, const std::vector<std::pair<std::string, double>>& pieces) {
  std::vector<explain::TokenScore> t;
  std::size_t from = 0;
  for (const auto& [p, s] : pieces) {
    const auto b = note.find(p, from);
    EXPECT_NE(b, std::string::npos) << p;
    t.push_back({b, b + p.size(), s});
    from = b + p.size();
  }
  return t;
}
const explain::NoteSpan* find(const std::vector<explain::NoteSpan>& v, const std::string& text) {
  for (const auto& s : v)
    if (s.text == text) return &s;
  return nullptr;
}
}  // namespace

TEST(NoteAttribution, JoinsPiecesIntoWordsAndClausesIntoPhrases) {
  const std::string note = "67-year-old woman, denies family history. Father had lung cancer.";
  auto t = tokens(note, {{"67", 0.5}, {"-", 0.0}, {"year", 0.1}, {"-", 0}, {"old", 0.1}, {"woman", 0.3}, {",", 0},
                         {"denies", -0.4}, {"family", 0.1}, {"history", 0.1}, {".", 0}, {"Father", 0.9}, {"had", 0.1},
                         {"lung", 0.2}, {"cancer", 0.3}, {".", 0}});
  auto a = explain::aggregateNote(note, t);
  const auto* w = find(a.words, "67-year-old");
  ASSERT_NE(w, nullptr);
  EXPECT_NEAR(w->score, 0.7, 1e-9);
  ASSERT_EQ(a.phrases.size(), 3u);
  EXPECT_EQ(a.phrases[0].text, "67-year-old woman");
  EXPECT_EQ(a.phrases[1].text, "denies family history");
  EXPECT_TRUE(a.phrases[1].negated);
  EXPECT_NEAR(a.phrases[1].score, -0.2, 1e-9);
  EXPECT_EQ(a.phrases[2].text, "Father had lung cancer");
  EXPECT_FALSE(a.phrases[2].negated);
  EXPECT_NEAR(a.phrases[2].score, 1.5, 1e-9);
  EXPECT_EQ(note.substr(a.phrases[2].begin, a.phrases[2].end - a.phrases[2].begin), a.phrases[2].text);
}

TEST(NoteAttribution, SplitsChineseAtFullWidthPunctuationAndFlagsNegation) {
  const std::string note = "患者女，65岁。否认家族史；吸烟20年。";
  std::vector<std::pair<std::string, double>> p = {{"患", 0.1}, {"者", 0.1}, {"女", 0.4}, {"65", 0.3}, {"岁", 0.1},
                                                   {"否", -0.2}, {"认", -0.1}, {"家", 0.1}, {"族", 0.1}, {"史", 0.1},
                                                   {"吸", 0.2}, {"烟", 0.2}, {"20", 0.1}, {"年", 0.0}};
  auto a = explain::aggregateNote(note, tokens(note, p));
  ASSERT_EQ(a.phrases.size(), 4u);
  EXPECT_EQ(a.phrases[0].text, "患者女");
  EXPECT_NEAR(a.phrases[0].score, 0.6, 1e-9);
  EXPECT_EQ(a.phrases[2].text, "否认家族史");
  EXPECT_TRUE(a.phrases[2].negated);
  EXPECT_FALSE(a.phrases[3].negated);
  EXPECT_NE(find(a.words, "患者女"), nullptr);  // CJK run between punctuation
  EXPECT_NE(find(a.words, "65"), nullptr);
}

TEST(NoteAttribution, KeepsDecimalNumbersInsideOnePhrase) {
  auto ph = explain::splitPhrases("Nodule 2.5 mm stable. Next line");
  ASSERT_EQ(ph.size(), 2u);
  EXPECT_EQ(ph[0].second - ph[0].first, std::string("Nodule 2.5 mm stable").size());
}

TEST(NoteAttribution, RecognisesNegationCuesAsWordsOnly) {
  EXPECT_TRUE(explain::isNegated("No family history of lung cancer"));
  EXPECT_TRUE(explain::isNegated("never smoked"));
  EXPECT_TRUE(explain::isNegated("family history negative"));
  EXPECT_TRUE(explain::isNegated("无吸烟史"));
  EXPECT_FALSE(explain::isNegated("Father had lung cancer"));
  EXPECT_FALSE(explain::isNegated("known nodule"));  // "no" inside a word is not a cue
}
