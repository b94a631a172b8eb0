#include "multimodal/Tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "multimodal/ModelError.h"
#include "multimodal/WeightsFile.h"

namespace multimodal {
namespace {
// Decodes one UTF-8 code point at s[p]; invalid bytes come back as U+FFFD, one byte long.
std::uint32_t decodeUtf8(const std::string& s, std::size_t p, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[p]);
  auto cont = [&](std::size_t k) {
    return p + k < s.size() && (static_cast<unsigned char>(s[p + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) { len = 1; return c; }
  if ((c & 0xE0) == 0xC0 && cont(1)) {
    len = 2;
    return ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[p + 1]) & 0x3Fu);
  }
  if ((c & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    len = 3;
    return ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[p + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[p + 2]) & 0x3Fu);
  }
  if ((c & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    len = 4;
    return ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[p + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[p + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[p + 3]) & 0x3Fu);
  }
  len = 1;
  return 0xFFFD;
}
void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
bool isCjk(std::uint32_t cp) {
  return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x2FFFF);
}
bool isSpace(std::uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x3000 ||
         cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0xFEFF;
}
std::uint32_t fold(std::uint32_t cp) {
  // full-width digits and letters (not punctuation: "，" stays a Chinese comma)
  if ((cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) || (cp >= 0xFF41 && cp <= 0xFF5A)) cp -= 0xFEE0;
  if (cp >= 'A' && cp <= 'Z') cp += 32;
  return cp;
}
bool isWordChar(const std::string& t) {
  return !t.empty() && static_cast<unsigned char>(t[0]) < 0x80 && std::isalnum(static_cast<unsigned char>(t[0]));
}
}  // namespace

Tokenizer::Tokenizer() {
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[NUM]"}) add(s);
  for (char c = 'a'; c <= 'z'; ++c) {
    add(std::string(1, c));
    add(std::string("##") + c);
  }
  for (char c = '0'; c <= '9'; ++c) add(std::string(1, c));
}

void Tokenizer::add(const std::string& t) {
  if (ids_.count(t)) return;
  ids_[t] = static_cast<int>(tokens_.size());
  tokens_.push_back(t);
}

int Tokenizer::idOf(const std::string& piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? kUnk : it->second;
}

std::vector<Tokenizer::RawPiece> Tokenizer::split(const std::string& note) {
  std::vector<RawPiece> out;
  std::size_t p = 0;
  while (p < note.size()) {
    std::size_t len = 1;
    const std::uint32_t cp = fold(decodeUtf8(note, p, len));
    if (isSpace(cp)) {
      p += len;
      continue;
    }
    const bool letter = cp >= 'a' && cp <= 'z';
    const bool digit = cp >= '0' && cp <= '9';
    if (letter || digit) {
      RawPiece r{"", p, p, letter ? RawPiece::Word : RawPiece::Number};
      bool dot = false;
      std::size_t q = p;
      while (q < note.size()) {
        std::size_t l2 = 1;
        const std::uint32_t c2 = fold(decodeUtf8(note, q, l2));
        const bool ok = letter ? (c2 >= 'a' && c2 <= 'z')
                               : ((c2 >= '0' && c2 <= '9') ||
                                  (c2 == '.' && !dot && q + l2 < note.size() && note[q + l2] >= '0' &&
                                   note[q + l2] <= '9'));
        if (!ok) break;
        if (c2 == '.') dot = true;
        appendUtf8(r.text, c2);
        q += l2;
      }
      r.end = q;
      out.push_back(std::move(r));
      p = q;
      continue;
    }
    RawPiece r{"", p, p + len, isCjk(cp) ? RawPiece::Cjk : RawPiece::Other};
    appendUtf8(r.text, cp == 0xFFFD ? 0xFFFD : cp);
    out.push_back(std::move(r));
    p += len;
  }
  return out;
}

Tokenizer Tokenizer::learn(const std::vector<std::string>& notes, int minCount, int maxVocab) {
  std::unordered_map<std::string, int> counts;
  for (const auto& n : notes)
    for (const auto& r : split(n)) ++counts[r.text];
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Tokenizer t;
  for (const auto& [s, c] : sorted) {
    if (c < minCount || t.size() >= maxVocab) break;
    if (s.find('\n') != std::string::npos) continue;
    t.add(s);
  }
  return t;
}

Tokenizer Tokenizer::fromText(const std::string& vocabText) {
  std::vector<std::string> lines;
  std::istringstream in(vocabText);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  if (lines.size() < 5 || lines[0] != "[PAD]" || lines[1] != "[UNK]" || lines[2] != "[CLS]" || lines[3] != "[SEP]" ||
      lines[4] != "[NUM]")
    throw ModelError("vocabulary does not start with [PAD] [UNK] [CLS] [SEP] [NUM]");
  Tokenizer t;
  t.tokens_.clear();
  t.ids_.clear();
  for (const auto& l : lines) {
    if (t.ids_.count(l)) throw ModelError("vocabulary lists '" + l + "' twice");
    t.add(l);
  }
  return t;
}

std::string Tokenizer::toText() const {
  std::string s;
  for (const auto& t : tokens_) s += t + "\n";
  return s;
}

std::string Tokenizer::hash() const {
  const auto s = toText();
  return fnv1a64Hex(s.data(), s.size());
}

std::vector<TokenPiece> Tokenizer::encode(const std::string& note) const {
  std::vector<TokenPiece> out;
  for (const auto& r : split(note)) {
    TokenPiece t;
    t.begin = r.begin;
    t.end = r.end;
    auto it = ids_.find(r.text);
    if (r.kind == RawPiece::Number) {
      t.isNumber = true;
      t.value = std::strtod(r.text.c_str(), nullptr);
      t.id = it == ids_.end() ? kNum : it->second;
      t.text = r.text;
      out.push_back(t);
    } else if (it != ids_.end()) {
      t.id = it->second;
      t.text = r.text;
      out.push_back(t);
    } else if (r.kind == RawPiece::Word) {
      std::size_t q = r.begin;  // letter fallback; a folded full-width letter spans 3 bytes
      for (std::size_t i = 0; i < r.text.size(); ++i) {
        std::size_t len = 1;
        decodeUtf8(note, q, len);
        TokenPiece c;
        c.text = (i == 0 ? "" : "##") + r.text.substr(i, 1);
        c.id = idOf(c.text);
        c.begin = q;
        c.end = q + len;
        q += len;
        out.push_back(c);
      }
    } else {
      t.id = kUnk;
      t.text = r.text;
      out.push_back(t);
    }
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  std::string prev;
  for (int id : ids) {
    if (id == kPad || id == kCls || id == kSep) continue;
    std::string t = id >= 0 && id < size() ? tokens_[static_cast<std::size_t>(id)] : "[UNK]";
    const bool cont = t.rfind("##", 0) == 0 && t.size() > 2;
    if (cont) t = t.substr(2);
    if (!cont && !out.empty() && isWordChar(t) &&
        (isWordChar(prev) || prev == "," || prev == "." || prev == ";" || prev == ":" || prev == "!" || prev == "?" ||
         prev == ")"))
      out += ' ';
    out += t;
    prev = t;
  }
  return out;
}

}  // namespace multimodal
