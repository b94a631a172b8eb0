#include <gtest/gtest.h>

#include "multimodal/ModelError.h"
#include "multimodal/Tokenizer.h"

using multimodal::Tokenizer;

namespace {
std::vector<int> ids(const std::vector<multimodal::TokenPiece>& p) {
  std::vector<int> v;
  for (const auto& t : p) v.push_back(t.id);
  return v;
}
std::string noSpaces(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}
}  // namespace

TEST(Tokenizer, RoundTripsEnglishTextThroughALearnedVocabulary) {
  const std::string note = "62-year-old female, former smoker: 30 pack-years. Denies family history.";
  auto tok = Tokenizer::learn({note, note}, 2);
  auto pieces = tok.encode(note);
  for (const auto& p : pieces) EXPECT_NE(p.id, Tokenizer::kUnk) << p.text;
  EXPECT_EQ(tok.decode(ids(pieces)), "62-year-old female, former smoker: 30 pack-years. denies family history.");
}

TEST(Tokenizer, RoundTripsChineseTextCharacterByCharacter) {
  const std::string note = "患者男性，62岁，吸烟30包年。否认肺癌家族史。";
  auto tok = Tokenizer::learn({note, note}, 2);
  auto pieces = tok.encode(note);
  for (const auto& p : pieces) EXPECT_NE(p.id, Tokenizer::kUnk) << p.text;
  EXPECT_EQ(pieces[0].text, "患");
  EXPECT_EQ(tok.decode(ids(pieces)), note);
  // Mixed-language text keeps every piece's byte span.
  const std::string mixed = "CT示 RUL nodule 8mm，家族史 positive";
  auto tok2 = Tokenizer::learn({mixed, mixed}, 2);
  auto p2 = tok2.encode(mixed);
  EXPECT_EQ(noSpaces(tok2.decode(ids(p2))), noSpaces("ct示 rul nodule 8mm，家族史 positive"));
}

TEST(Tokenizer, SpansCoverEveryNonSpaceCharacterOfTheNote) {
  const std::string note = "Ｐatient  aged 71，家族史阳性 (sister).";
  Tokenizer tok;  // letters and digits only: words fall back to letter pieces
  auto pieces = tok.encode(note);
  std::string covered;
  std::size_t last = 0;
  for (const auto& p : pieces) {
    ASSERT_GE(p.begin, last);
    ASSERT_GT(p.end, p.begin);
    for (std::size_t i = last; i < p.begin; ++i) EXPECT_EQ(note[i], ' ');
    covered += note.substr(p.begin, p.end - p.begin);
    last = p.end;
  }
  EXPECT_EQ(last, note.size());
  EXPECT_EQ(covered, noSpaces(note));
}

TEST(Tokenizer, ReadsNumbersWithTheirValues) {
  Tokenizer tok;
  auto p = tok.encode("age 71, nodule 8.5mm");
  std::vector<double> values;
  for (const auto& t : p)
    if (t.isNumber) values.push_back(t.value);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_DOUBLE_EQ(values[0], 71);
  EXPECT_DOUBLE_EQ(values[1], 8.5);
}

TEST(Tokenizer, FallsBackToLetterPiecesForUnknownWords) {
  auto tok = Tokenizer::learn({"family family"}, 2);
  auto p = tok.encode("famliy");
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].text, "f");
  EXPECT_EQ(p[1].text, "##a");
  EXPECT_EQ(tok.decode(ids(p)), "famliy");
}

TEST(Tokenizer, VocabularyFileRoundTripsAndBadFilesAreRefused) {
  auto tok = Tokenizer::learn({"a b c 家 家", "a b c 家"}, 2);
  auto back = Tokenizer::fromText(tok.toText());
  EXPECT_EQ(back.size(), tok.size());
  EXPECT_EQ(back.hash(), tok.hash());
  EXPECT_EQ(back.idOf("家"), tok.idOf("家"));
  EXPECT_THROW(Tokenizer::fromText("hello\nworld\n"), multimodal::ModelError);
  EXPECT_THROW(Tokenizer::fromText("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[NUM]\nx\nx\n"), multimodal::ModelError);
}
