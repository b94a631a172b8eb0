#include "explain/NoteAttribution.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace explain {
namespace {

// Decodes the UTF-8 code point at s[i]; sets len (1 for invalid bytes).
char32_t codePointAt(const std::string& s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    len = 1;
    return c;
  }
  int n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (n == 1 || i + static_cast<std::size_t>(n) > s.size()) {
    len = 1;
    return c;
  }
  char32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
  len = static_cast<std::size_t>(n);
  return cp;
}

bool isCjk(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }
bool isPhraseBreak(char32_t c) {
  switch (c) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '\n': case '\r':
    case 0x3002: case 0xFF0C: case 0xFF1B: case 0xFF1A: case 0xFF01: case 0xFF1F: case 0x3001:
      return true;
    default:
      return false;
  }
}
// A decimal point between digits does not end a phrase ("2.5 mm").
bool breaksAt(const std::string& s, std::size_t i, char32_t c) {
  if (c == '.' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
      std::isdigit(static_cast<unsigned char>(s[i + 1])))
    return false;
  return isPhraseBreak(c);
}

// Class of a code point for word grouping: 0 space/punctuation, 1 ASCII letter/digit (and '-'/'\'' inside),
// 2 CJK, 3 other.
int wordClass(char32_t c) {
  if (c < 0x80) {
    if (std::isalnum(static_cast<int>(c))) return 1;
    return 0;
  }
  if (isCjk(c)) return 2;
  if (c >= 0xFF10 && c <= 0xFF5A) return 1;  // full-width digits/letters
  if (c >= 0x3000 && c <= 0x303F) return 0;
  if (c >= 0xFF00 && c <= 0xFF0F) return 0;
  if (c >= 0xFF1A && c <= 0xFF20) return 0;
  return 3;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

double overlapScore(const std::vector<TokenScore>& tokens, std::size_t b, std::size_t e) {
  double s = 0;
  for (const auto& t : tokens) {
    if (t.end <= b || t.begin >= e) continue;
    // Share of the token's bytes inside [b, e).
    const double len = static_cast<double>(t.end - t.begin);
    const double in = static_cast<double>(std::min(t.end, e) - std::max(t.begin, b));
    s += len > 0 ? t.score * in / len : 0;
  }
  return s;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> splitPhrases(const std::string& note) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t start = 0, i = 0;
  auto push = [&](std::size_t b, std::size_t e) {
    while (b < e && std::isspace(static_cast<unsigned char>(note[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(note[e - 1]))) --e;
    if (e > b) out.push_back({b, e});
  };
  while (i < note.size()) {
    std::size_t len = 1;
    const char32_t c = codePointAt(note, i, len);
    if (breaksAt(note, i, c)) {
      push(start, i);
      start = i + len;
    }
    i += len;
  }
  push(start, note.size());
  return out;
}

bool isNegated(const std::string& phrase) {
  const std::string p = " " + lower(phrase) + " ";
  static const char* en[] = {" no ", " not ", " denies ", " denied ", " deny ", " without ", " negative ",
                             " never ", " none ", " nil ", " n't ", "n't ", " non-smoker", " nonsmoker"};
  // English cues must stand as words: replace punctuation by spaces first.
  std::string w = p;
  for (char& c : w)
    if (std::ispunct(static_cast<unsigned char>(c)) && c != '\'' && c != '-') c = ' ';
  for (const char* cue : en)
    if (w.find(cue) != std::string::npos) return true;
  static const char* zh[] = {"否认", "无", "没有", "未", "不", "阴性"};
  for (const char* cue : zh)
    if (phrase.find(cue) != std::string::npos) return true;
  return false;
}

NoteAttributions aggregateNote(const std::string& note, const std::vector<TokenScore>& tokens) {
  NoteAttributions a;
  a.method = "gradient x input";
  for (const auto& t : tokens) a.totalAbs += std::abs(t.score);
  // Words.
  std::size_t i = 0;
  while (i < note.size()) {
    std::size_t len = 1;
    const int cls = wordClass(codePointAt(note, i, len));
    if (cls == 0) {
      i += len;
      continue;
    }
    const std::size_t b = i;
    i += len;
    while (i < note.size()) {
      std::size_t l2 = 1;
      const char32_t c = codePointAt(note, i, l2);
      int c2 = wordClass(c);
      // Keep "62-year-old" and "don't" together.
      if (cls == 1 && c2 == 0 && (c == '-' || c == '\'') && i + 1 < note.size() &&
          std::isalnum(static_cast<unsigned char>(note[i + 1])))
        c2 = 1;
      if (c2 != cls) break;
      i += l2;
    }
    NoteSpan s;
    s.begin = b;
    s.end = i;
    s.text = note.substr(b, i - b);
    s.score = overlapScore(tokens, b, i);
    a.words.push_back(s);
  }
  for (const auto& [b, e] : splitPhrases(note)) {
    NoteSpan s;
    s.begin = b;
    s.end = e;
    s.text = note.substr(b, e - b);
    s.score = overlapScore(tokens, b, e);
    s.negated = isNegated(s.text);
    a.phrases.push_back(s);
  }
  for (auto& w : a.words) {
    for (const auto& p : a.phrases)
      if (w.begin >= p.begin && w.end <= p.end) w.negated = p.negated;
  }
  return a;
}

}  // namespace explain
