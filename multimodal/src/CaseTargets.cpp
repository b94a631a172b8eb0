#include "CaseTargets.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace multimodal::internal {
CaseTargets targetsOf(const phantom::Case& c) {
  CaseTargets t;
  double notAny = 1;
  const phantom::Nodule* top = nullptr;
  for (const auto& n : c.nodules) {
    notAny *= 1 - n.brockProbability;
    t.noduleCentersLps.push_back(n.centerLps);
    if (!top || n.brockProbability > top->brockProbability) top = &n;
  }
  t.nodule = top != nullptr;
  if (top) {
    t.diameterMm = top->diameterMm;
    t.type = static_cast<int>(top->type);
    t.lobe = static_cast<int>(top->lobe);
    t.spiculated = top->spiculated;
  }
  t.count = std::min<int>(3, static_cast<int>(c.nodules.size()));
  t.emphysema = c.emphysema;
  t.age = c.record.ageYears;
  t.female = c.record.sex == phantom::Sex::Female;
  t.familyHistory = c.record.familyHistory;
  t.priorCancer = c.record.priorCancer;
  t.smoking = static_cast<int>(c.record.smoking);
  t.softTarget = 1 - notAny;
  t.cancer = c.cancer;
  t.oracle = c.brockProbability;
  t.chinese = c.noteLanguage == phantom::Language::Chinese;
  return t;
}

namespace {
bool isAsciiAlpha(char ch) { return std::isalpha(static_cast<unsigned char>(ch)) != 0; }

// Replaces whole ASCII words (case-insensitive on the first letter) or any occurrence of CJK strings.
std::string replaceAll(const std::string& s, const std::string& from, const std::string& to, bool word) {
  std::string out;
  std::size_t p = 0;
  while (true) {
    const std::size_t q = s.find(from, p);
    if (q == std::string::npos) break;
    const bool okL = !word || q == 0 || !isAsciiAlpha(s[q - 1]);
    const bool okR = !word || q + from.size() >= s.size() || !isAsciiAlpha(s[q + from.size()]);
    out += s.substr(p, q - p);
    out += (okL && okR) ? to : from;
    p = q + from.size();
  }
  return out + s.substr(p);
}
}  // namespace

std::string augmentNote(const std::string& note, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string s = note;
  // 1. synonyms (meaning-preserving; never touching sex, negation or numbers)
  static const std::vector<std::pair<std::string, std::string>> en = {
      {"patient", "pt"}, {"Patient", "Pt"}, {"history", "hx"}, {"years", "yrs"}, {"cigarettes", "cigs"},
      {"reports", "states"}, {"shortness of breath", "SOB"}, {"evaluation", "workup"}, {"approximately", "about"},
      {"screening", "screen"}, {"presents", "comes in"}, {"with", "w/"}};
  static const std::vector<std::pair<std::string, std::string>> zh = {
      {"患者", "病人"}, {"吸烟", "抽烟"}, {"病史", "既往史"}, {"检查", "筛查"}};
  for (const auto& [a, b] : en)
    if (u(rng) < 0.3) s = replaceAll(s, a, b, true);
  for (const auto& [a, b] : zh)
    if (u(rng) < 0.3) s = replaceAll(s, a, b, false);
  // 2. sentence reordering: split after '.', '。', ';', '；' or newline
  if (u(rng) < 0.5) {
    std::vector<std::string> parts;
    std::string cur;
    for (std::size_t i = 0; i < s.size(); ++i) {
      cur += s[i];
      const bool ascEnd = (s[i] == '.' && (i + 1 == s.size() || s[i + 1] == ' ' || s[i + 1] == '\n')) || s[i] == ';' ||
                          s[i] == '\n';
      const bool zhEnd = i >= 2 && (s.compare(i - 2, 3, "。") == 0 || s.compare(i - 2, 3, "；") == 0);
      if (ascEnd || zhEnd) {
        parts.push_back(cur);
        cur.clear();
      }
    }
    if (!cur.empty()) parts.push_back(cur);
    if (parts.size() > 2) {
      std::shuffle(parts.begin() + 1, parts.end(), rng);  // keep the opening sentence first
      s.clear();
      for (auto& p : parts) {
        if (!s.empty() && s.back() != ' ' && s.back() != '\n' && !p.empty() && p[0] != ' ' &&
            static_cast<unsigned char>(p[0]) < 0x80)
          s += ' ';
        s += p;
      }
    }
  }
  // 3. typos in long English words (no digits): swap or drop one inner letter
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!isAsciiAlpha(s[i])) {
      out += s[i++];
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && isAsciiAlpha(s[j])) ++j;
    std::string w = s.substr(i, j - i);
    if (w.size() >= 6 && u(rng) < 0.04) {
      const std::size_t k = 1 + static_cast<std::size_t>(u(rng) * static_cast<double>(w.size() - 3));
      if (u(rng) < 0.5) std::swap(w[k], w[k + 1]);
      else w.erase(k, 1);
    }
    out += w;
    i = j;
  }
  return out;
}
}  // namespace multimodal::internal
