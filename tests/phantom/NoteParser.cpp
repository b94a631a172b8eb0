#include "NoteParser.h"

#include <regex>
#include <vector>

namespace {

std::vector<std::smatch> allMatches(const std::string& s, const std::regex& re) {
  std::vector<std::smatch> out;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(*it);
  return out;
}

bool has(const std::string& s, const std::regex& re) {
  return std::regex_search(s, re);
}

// The first non-empty capture group of a match.
std::string firstGroup(const std::smatch& m) {
  for (std::size_t g = 1; g < m.size(); ++g)
    if (m[g].matched) return m[g].str();
  return {};
}

// One value when all matches agree, none otherwise (missing or contradicting).
template <class T, class F>
std::optional<T> agreed(const std::vector<std::smatch>& ms, F convert) {
  std::optional<T> v;
  for (const auto& m : ms) {
    const T x = convert(m);
    if (v && *v != x) return std::nullopt;
    v = x;
  }
  return v;
}

std::optional<std::string> oneOf(const std::string& s,
                                 const std::vector<std::pair<std::string, std::regex>>& cls) {
  std::optional<std::string> found;
  for (const auto& [name, re] : cls)
    if (has(s, re)) {
      if (found) return std::nullopt;  // two classes stated: contradiction
      found = name;
    }
  return found;
}

std::optional<bool> posNeg(const std::string& s, const std::regex& pos, const std::regex& neg) {
  const bool p = has(s, pos), n = has(s, neg);
  if (p == n) return std::nullopt;
  return p;
}

}  // namespace

ParsedNote parseEnglishNote(const std::string& note, int studyYear) {
  ParsedNote r;
  r.ageYears = agreed<int>(
      allMatches(note,
                 std::regex(R"((\d{2}) ?(?:y/o|yo\b|-year-old| year old)|aged (\d{2}) years|Age (\d{2}),)")),
      [](const std::smatch& m) { return std::stoi(firstGroup(m)); });
  const bool male = has(note, std::regex(R"(\b(?:male|man|M|gentleman|Mr\.)\b)"));
  const bool female = has(note, std::regex(R"(\b(?:female|woman|F|lady|Ms\.)\b)"));
  if (male != female) r.sex = male ? 'M' : 'F';
  r.smoking = oneOf(
      note,
      {{"never", std::regex(R"(Never smoker|never smoked|Denies ever smoking|nonsmoker|Tobacco: never)")},
       {"current",
        std::regex(
            R"(Current smoker|current smoker|currently smokes|Active smoker|Still smokes|Tobacco: current)")},
       {"former",
        std::regex(R"(Former smoker|Ex-smoker|Quit smoking|but quit|Former tobacco user|Tobacco: former)")}});
  r.packYears = agreed<double>(
      allMatches(
          note,
          std::regex(
              R"((\d+(?:\.\d+)?) ?(?:pack-years?|pk-yrs?|PY\b|pack-year)|Pack-years: (\d+(?:\.\d+)?))")),
      [](const std::smatch& m) { return std::stod(firstGroup(m)); });
  {
    auto ms = allMatches(
        note,
        std::regex(
            R"([Qq]uit (\d+) years? ago|[Qq]uit smoking (\d+) years? ago|stopped smoking (\d+) years? ago|abstinent for (\d+) years?|quit in (\d{4}))"));
    r.yearsSinceQuit = agreed<int>(ms, [&](const std::smatch& m) {
      const int v = std::stoi(firstGroup(m));
      return v > 1900 ? studyYear - v : v;
    });
  }
  r.familyHistory = posNeg(
      note,
      std::regex(
          R"(Family history of lung cancer \(|FHx: \w+ with lung ca|was diagnosed with lung cancer|Positive family history of lung cancer|FHx significant for lung cancer)"),
      std::regex(
          R"(No family history of lung cancer|Denies family history of lung|FHx negative for lung cancer|no lung cancer in first-degree|no known lung cancer in the family)"));
  r.priorCancer = posNeg(
      note,
      std::regex(
          R"(History of \w+ cancer|PMH: \w+ ca s/p|Prior \w+ cancer|Personal hx of \w+ malignancy|was treated for \w+ cancer)"),
      std::regex(
          R"(No prior history of cancer|Denies personal history of malignancy|No previous malignancy|PMH negative for cancer|No personal hx of cancer)"));
  {
    std::set<std::string> sym;
    const auto pos = allMatches(note, std::regex(R"((?:Reports|C/o|Presents with|Symptoms:) ([^.]*)\.)"));
    for (const auto& m : pos) {
      const std::string list = m[1].str();
      if (has(list, std::regex("cough"))) sym.insert("cough");
      if (has(list, std::regex("hemoptysis"))) sym.insert("hemoptysis");
      if (has(list, std::regex("weight loss"))) sym.insert("weight_loss");
      if (has(list, std::regex("dyspnea|shortness of breath"))) sym.insert("dyspnea");
      if (has(list, std::regex("chest pain"))) sym.insert("chest_pain");
    }
    const bool statesAbsence =
        has(note, std::regex(R"(Asymptomatic|Denies cough|negative for cough|denies cough)"));
    if (!pos.empty() || statesAbsence) r.symptoms = sym;
  }
  return r;
}

ParsedNote parseChineseNote(const std::string& note) {
  ParsedNote r;
  std::smatch m;
  // The age and sex sentence opens the note (the family sentence may hold a relative's age too).
  const std::string first = note.substr(0, note.find("。"));
  if (std::regex_search(first, m, std::regex(R"((\d+)岁)"))) r.ageYears = std::stoi(m[1].str());
  const bool male = first.find("男") != std::string::npos, female = first.find("女") != std::string::npos;
  if (male != female) r.sex = male ? 'M' : 'F';
  r.smoking = oneOf(note, {{"never", std::regex("否认吸烟|从不吸烟|无吸烟史")},
                           {"current", std::regex("现仍吸烟|目前吸烟|仍在吸")},
                           {"former", std::regex("已戒烟|年前戒烟|既往吸烟者")}});
  r.packYears = agreed<double>(allMatches(note, std::regex(R"((\d+(?:\.\d+)?)包年)")),
                               [](const std::smatch& x) { return std::stod(x[1].str()); });
  r.yearsSinceQuit = agreed<int>(allMatches(note, std::regex(R"(已戒烟(\d+)年|(\d+)年前戒烟|戒烟(\d+)年)")),
                                 [](const std::smatch& x) { return std::stoi(firstGroup(x)); });
  r.familyHistory = posNeg(note, std::regex("患肺癌|确诊肺癌|有肺癌家族史"),
                           std::regex("否认肺癌家族史|无肺癌家族史|家族中无肺癌"));
  r.priorCancer =
      posNeg(note, std::regex("癌病史|曾患\\S+癌"), std::regex("否认既往恶性肿瘤|既往无肿瘤史|无癌症病史"));
  {
    std::set<std::string> sym;
    const auto pos = allMatches(note, std::regex("(?:主诉|近期有|症状：)(.*?)。"));
    for (const auto& x : pos) {
      const std::string list = x[1].str();
      if (list.find("咳嗽") != std::string::npos) sym.insert("cough");
      if (has(list, std::regex("咯血|痰中带血"))) sym.insert("hemoptysis");
      if (has(list, std::regex("体重下降|消瘦"))) sym.insert("weight_loss");
      if (has(list, std::regex("气促|呼吸困难|气短"))) sym.insert("dyspnea");
      if (list.find("胸痛") != std::string::npos) sym.insert("chest_pain");
    }
    const bool statesAbsence = has(note, std::regex("无明显症状|否认咳嗽|无呼吸道症状"));
    if (!pos.empty() || statesAbsence) r.symptoms = sym;
  }
  return r;
}
