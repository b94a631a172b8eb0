#pragma once
/// Tokenizer: bilingual (English + Chinese) note tokenizer with a vocabulary learned from notes.
///
///   auto tok = multimodal::Tokenizer::learn(notes, /*minCount=*/2);   // or Tokenizer::fromText(vocabTxt)
///   auto pieces = tok.encode("62-year-old woman, 家族史阴性");
///   pieces[0].id; pieces[0].begin; pieces[0].end;  // vocabulary id + byte span in the note
///   std::string back = tok.decode(ids);
///
/// Rules: ASCII letters are lower-cased and grouped into words; digit runs (optionally with one
/// decimal point) are numbers and also carry their numeric value (the model reads ages from it);
/// CJK ideographs are one token each; any other non-space character is its own token. Full-width
/// ASCII is folded to ASCII. A word missing from the vocabulary falls back to letter pieces "##a".
/// Limitations: no sub-word merges beyond that fallback; numbers outside the vocabulary become [NUM].
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace multimodal {

struct TokenPiece {
  int id = 0;
  std::string text;            ///< normalised piece (as in the vocabulary when known)
  std::size_t begin = 0, end = 0;  ///< byte span in the original UTF-8 note
  bool isNumber = false;
  double value = 0;            ///< numeric value when isNumber
};

class Tokenizer {
 public:
  static constexpr int kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kNum = 4;

  Tokenizer();  ///< special tokens, letters and digits only
  /// Learns a vocabulary from notes: every piece seen at least minCount times (up to maxVocab).
  static Tokenizer learn(const std::vector<std::string>& notes, int minCount = 2, int maxVocab = 12000);
  /// Reads a vocabulary file (one token per line, line number = id). Throws ModelError.
  static Tokenizer fromText(const std::string& vocabText);
  std::string toText() const;  ///< vocabulary file contents
  std::string hash() const;    ///< FNV-1a 64 of toText()

  std::vector<TokenPiece> encode(const std::string& note) const;
  std::string decode(const std::vector<int>& ids) const;
  int size() const { return static_cast<int>(tokens_.size()); }
  const std::string& token(int id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  int idOf(const std::string& piece) const;  ///< kUnk when unknown

  /// Raw pieces before vocabulary lookup (used for learning).
  struct RawPiece {
    std::string text;
    std::size_t begin, end;
    enum Kind { Word, Number, Cjk, Other } kind;
  };
  static std::vector<RawPiece> split(const std::string& note);

 private:
  void add(const std::string& t);
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace multimodal
