// Clinical notes in English and Chinese. Every note states every factor of the record (age, sex, smoking
// status, pack-years, years since quitting, family history, prior cancer, symptoms), in one of several
// phrasings, and never contradicts it. Typos are only put into the irrelevant sentences.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "Internal.h"
#include "JsonWriter.h"
#include "phantom/PhantomError.h"

namespace phantom::detail {
namespace {

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

struct Vars {
  std::vector<std::pair<std::string, std::string>> kv;
  std::string apply(std::string s) const {
    for (const auto& [k, v] : kv) s = replaceAll(s, "{" + k + "}", v);
    // A template with a placeholder nobody fills is a generator bug: never let "{His}" reach a note.
    const auto open = s.find('{');
    if (open != std::string::npos)
      throw PhantomError("note template has an unfilled placeholder " + s.substr(open, s.find('}', open) - open + 1) +
                         " in: " + s);
    return s;
  }
};

template <std::size_t N>
std::string pick(Rng& r, const char* const (&items)[N]) {
  return items[r.uniformInt(0, static_cast<int>(N) - 1)];
}

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string joinEnglish(const std::vector<std::string>& items, const std::string& conj) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " " + conj + " " : ", ";
    out += items[i];
  }
  return out;
}

std::string joinChinese(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? "及" : "、";
    out += items[i];
  }
  return out;
}

const char* const kSymptomKeys[] = {"cough", "hemoptysis", "weight_loss", "dyspnea", "chest_pain"};

std::string symptomEn(Rng& r, const std::string& key) {
  if (key == "cough") {
    static const char* const v[] = {"cough", "chronic cough", "persistent cough"};
    return pick(r, v);
  }
  if (key == "hemoptysis") {
    static const char* const v[] = {"hemoptysis", "blood-streaked sputum (hemoptysis)"};
    return pick(r, v);
  }
  if (key == "weight_loss") {
    static const char* const v[] = {"weight loss", "unintentional weight loss"};
    return pick(r, v);
  }
  if (key == "dyspnea") {
    static const char* const v[] = {"dyspnea", "shortness of breath", "dyspnea on exertion"};
    return pick(r, v);
  }
  return "chest pain";
}

std::string symptomZh(Rng& r, const std::string& key) {
  if (key == "cough") return "咳嗽";
  if (key == "hemoptysis") {
    static const char* const v[] = {"咯血", "痰中带血"};
    return pick(r, v);
  }
  if (key == "weight_loss") {
    static const char* const v[] = {"体重下降", "消瘦"};
    return pick(r, v);
  }
  if (key == "dyspnea") {
    static const char* const v[] = {"气促", "呼吸困难", "活动后气短"};
    return pick(r, v);
  }
  return "胸痛";
}

// One English typo in a word of >= 5 letters: swapped, doubled or dropped letter.
std::string typoEnglish(Rng& r, const std::string& sentence) {
  std::vector<std::pair<std::size_t, std::size_t>> words;
  for (std::size_t i = 0; i < sentence.size();) {
    if (std::isalpha(static_cast<unsigned char>(sentence[i]))) {
      std::size_t j = i;
      while (j < sentence.size() && std::isalpha(static_cast<unsigned char>(sentence[j]))) ++j;
      if (j - i >= 5) words.push_back({i, j - i});
      i = j;
    } else {
      ++i;
    }
  }
  if (words.empty()) return sentence;
  const auto [start, len] = words[r.uniformInt(0, static_cast<int>(words.size()) - 1)];
  std::string w = sentence.substr(start, len);
  const std::size_t k = static_cast<std::size_t>(r.uniformInt(1, static_cast<int>(len) - 2));
  switch (r.uniformInt(0, 2)) {
    case 0:
      std::swap(w[k], w[k + 1]);
      break;
    case 1:
      w.insert(k, 1, w[k]);
      break;
    default:
      w.erase(k, 1);
      break;
  }
  return sentence.substr(0, start) + w + sentence.substr(start + len);
}

// Chinese "typo": a homophone / look-alike character swapped into an irrelevant sentence.
std::string typoChinese(Rng& r, const std::string& sentence) {
  static const char* const pairs[][2] = {
      {"药物", "要物"}, {"规律", "规率"}, {"疫苗", "疫描"}, {"退休", "退修"}, {"散步", "散布"},
      {"配偶", "配遇"}, {"血压", "血亚"}, {"饮酒", "饮洒"}, {"控制", "空制"}, {"门诊", "门珍"}};
  std::vector<int> hits;
  for (int i = 0; i < 10; ++i)
    if (sentence.find(pairs[i][0]) != std::string::npos) hits.push_back(i);
  if (hits.empty()) return sentence;
  const int h = hits[r.uniformInt(0, static_cast<int>(hits.size()) - 1)];
  return replaceAll(sentence, pairs[h][0], pairs[h][1]);
}

struct Sentences {
  std::string ageSex, smoking, family, prior, symptoms;
  std::vector<std::string> irrelevant;
};

std::string relativeEn(const std::string& rel) {
  return rel;
}
std::string relativeZh(Rng& r, const std::string& rel) {
  if (rel == "father") return "父亲";
  if (rel == "mother") return "母亲";
  if (rel == "brother") return r.bernoulli(0.5) ? "哥哥" : "弟弟";
  return r.bernoulli(0.5) ? "姐姐" : "妹妹";
}

std::string siteZh(const std::string& site) {
  if (site == "prostate") return "前列腺";
  if (site == "colon") return "结肠";
  if (site == "bladder") return "膀胱";
  if (site == "kidney") return "肾";
  if (site == "thyroid") return "甲状腺";
  if (site == "breast") return "乳腺";
  if (site == "cervical") return "宫颈";
  return "卵巢";
}

Sentences englishSentences(const Case& c, Rng& r, int studyYear) {
  const auto& rec = c.record;
  const bool male = rec.sex == Sex::Male;
  Sentences s;
  Vars v;
  v.kv = {{"age", std::to_string(rec.ageYears)},
          {"py", formatNumber(rec.packYears, 1)},
          {"q", std::to_string(rec.yearsSinceQuit)},
          {"qy", std::to_string(studyYear - rec.yearsSinceQuit)},
          {"yrs", rec.yearsSinceQuit == 1 ? "year" : "years"},
          {"He", male ? "He" : "She"},
          {"his", male ? "his" : "her"},
          {"His", male ? "His" : "Her"},
          {"sexA", male ? "male" : "female"},
          {"sexB", male ? "man" : "woman"},
          {"sexC", male ? "M" : "F"},
          {"sexD", male ? "gentleman" : "lady"},
          {"Mr", male ? "Mr." : "Ms."}};

  static const char* const ageSex[] = {"{age} y/o {sexA} referred for low-dose CT lung cancer screening.",
                                       "{age}-year-old {sexB} presenting for annual LDCT screening.",
                                       "Pt is a {age} yo {sexC} here for lung screening.",
                                       "Patient: {age}-year-old {sexA}.",
                                       "The patient is a {sexB} aged {age} years.",
                                       "{Mr} Phantom is a {age} year old {sexD} seen for LCS.",
                                       "Age {age}, sex {sexA}; baseline screening CT requested."};
  s.ageSex = v.apply(pick(r, ageSex));

  if (rec.smoking == SmokingStatus::Never) {
    static const char* const t[] = {"Never smoker (0 pack-years).", "{He} has never smoked; 0 pk-yrs.",
                                    "Denies ever smoking tobacco (0 pack-years).",
                                    "Lifelong nonsmoker, 0 PY.", "Tobacco: never. Pack-years: 0."};
    s.smoking = v.apply(pick(r, t));
  } else if (rec.smoking == SmokingStatus::Current) {
    static const char* const t[] = {"Current smoker, {py} pack-years.",
                                    "Active smoker with a {py} pk-yr history.",
                                    "Still smokes, about {py} pack-years.",
                                    "Tobacco: current, {py} PY.",
                                    "{He} currently smokes ({py} pack-year history).",
                                    "Smoking hx: current smoker, {py} pack-years, not yet ready to quit."};
    s.smoking = v.apply(pick(r, t));
  } else {
    static const char* const t[] = {"Former smoker, {py} pack-years, quit {q} {yrs} ago.",
                                    "Ex-smoker ({py} pk-yrs); stopped smoking {q} {yrs} ago.",
                                    "Quit smoking {q} {yrs} ago after {py} pack-years.",
                                    "Tobacco: former, {py} PY, quit in {qy}.",
                                    "{He} smoked {py} pack-years but quit {q} {yrs} ago.",
                                    "Former tobacco user with a {py} pack-year hx, abstinent for {q} {yrs}."};
    s.smoking = v.apply(pick(r, t));
  }

  if (rec.familyHistory) {
    Vars f = v;
    f.kv.push_back({"rel", relativeEn(rec.familyRelative)});
    f.kv.push_back({"Rel", capitalize(rec.familyRelative)});
    f.kv.push_back({"ra", std::to_string(r.uniformInt(52, 84))});
    static const char* const t[] = {
        "Family history of lung cancer ({rel}).", "FHx: {rel} with lung ca.",
        "{His} {rel} was diagnosed with lung cancer at age {ra}.",
        "Positive family history of lung cancer in a first-degree relative ({rel}).",
        "FHx significant for lung cancer in {his} {rel}."};
    s.family = capitalize(f.apply(pick(r, t)));
  } else {
    static const char* const t[] = {
        "No family history of lung cancer.", "Denies family history of lung malignancy.",
        "FHx negative for lung cancer.",
        "Family history: noncontributory, no lung cancer in first-degree relatives.",
        "There is no known lung cancer in the family."};
    s.family = pick(r, t);
  }

  if (rec.priorCancer) {
    Vars f = v;
    const int yearsAgo = r.uniformInt(3, 15);
    static const char* const tx[] = {"resection", "radiotherapy", "chemotherapy", "surgery"};
    f.kv.push_back({"site", rec.priorCancerSite});
    f.kv.push_back({"year", std::to_string(studyYear - yearsAgo)});
    f.kv.push_back({"n", std::to_string(yearsAgo)});
    f.kv.push_back({"tx", pick(r, tx)});
    static const char* const t[] = {"History of {site} cancer, treated in {year}.",
                                    "PMH: {site} ca s/p {tx} ({year}).", "Prior {site} cancer, in remission.",
                                    "Personal hx of {site} malignancy.",
                                    "{He} was treated for {site} cancer {n} years ago."};
    s.prior = f.apply(pick(r, t));
  } else {
    static const char* const t[] = {"No prior history of cancer.", "Denies personal history of malignancy.",
                                    "No previous malignancy.", "PMH negative for cancer.",
                                    "No personal hx of cancer."};
    s.prior = pick(r, t);
  }

  std::vector<std::string> present, absent;
  for (const char* key : kSymptomKeys) {
    const bool has = std::find(rec.symptoms.begin(), rec.symptoms.end(), key) != rec.symptoms.end();
    (has ? present : absent).push_back(key);
  }
  std::vector<std::string> absentWords;
  for (const auto& a : absent)
    absentWords.push_back(a == "weight_loss" ? "weight loss" : a == "chest_pain" ? "chest pain" : a);
  if (present.empty()) {
    static const char* const t[] = {"Asymptomatic; denies {list}.", "Denies {list}.",
                                    "No respiratory symptoms; specifically denies {list}.",
                                    "Review of systems negative for {list}."};
    s.symptoms = replaceAll(pick(r, t), "{list}", joinEnglish(absentWords, "or"));
  } else {
    std::vector<std::string> words;
    for (const auto& p : present) words.push_back(symptomEn(r, p));
    static const char* const t[] = {"Reports {list}.", "C/o {list}.", "Presents with {list}.",
                                    "Symptoms: {list}."};
    s.symptoms = replaceAll(pick(r, t), "{list}", joinEnglish(words, "and"));
    if (!absentWords.empty() && r.bernoulli(0.6))
      s.symptoms += " Denies " + joinEnglish(absentWords, "or") + ".";
  }

  Vars irr;
  irr.kv = {
      {"sys", std::to_string(r.uniformInt(112, 158))}, {"dia", std::to_string(r.uniformInt(66, 94))},
      {"hr", std::to_string(r.uniformInt(58, 96))},    {"bmi", formatNumber(r.uniform(19, 34), 1)},
      {"mg", std::to_string(10 * r.uniformInt(1, 4))}, {"rel2", r.bernoulli(0.5) ? "Mother" : "Father"}};
  static const char* const irrelevant[] = {"BP {sys}/{dia}, HR {hr}.",
                                           "Takes atorvastatin {mg} mg daily.",
                                           "Retired schoolteacher.",
                                           "Allergies: NKDA.",
                                           "Referred by PCP for annual screening.",
                                           "Vaccinations are up to date.",
                                           "Drinks alcohol socially.",
                                           "Lives with spouse, independent in daily activities.",
                                           "Walks the dog every morning.",
                                           "Previous imaging was performed at an outside hospital.",
                                           "Hypertension, well controlled on medication.",
                                           "BMI {bmi}.",
                                           "{rel2} had hypertension and type 2 diabetes.",
                                           "Colonoscopy last year was unremarkable.",
                                           "Shared decision-making visit completed."};
  const int nIrr = r.uniformInt(2, 4);
  std::vector<int> chosen;
  while (static_cast<int>(chosen.size()) < nIrr) {
    const int k = r.uniformInt(0, static_cast<int>(std::size(irrelevant)) - 1);
    if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
  }
  for (int k : chosen) s.irrelevant.push_back(irr.apply(irrelevant[k]));
  const int nTypos = r.uniformInt(1, 2);
  for (int t = 0; t < nTypos; ++t) {
    auto& target = s.irrelevant[static_cast<std::size_t>(r.uniformInt(0, nIrr - 1))];
    target = typoEnglish(r, target);
  }
  return s;
}

Sentences chineseSentences(const Case& c, Rng& r, int studyYear) {
  const auto& rec = c.record;
  const bool male = rec.sex == Sex::Male;
  Sentences s;
  Vars v;
  v.kv = {{"age", std::to_string(rec.ageYears)},
          {"py", formatNumber(rec.packYears, 1)},
          {"q", std::to_string(rec.yearsSinceQuit)},
          {"sex", male ? "男" : "女"},
          {"sexN", male ? "男性" : "女性"}};
  static const char* const ageSex[] = {"患者{sex}，{age}岁，因低剂量CT肺癌筛查就诊。",
                                       "{age}岁{sexN}，行年度LDCT筛查。", "{sex}，{age}岁。",
                                       "患者，{sexN}，年龄{age}岁。", "{age}岁{sexN}患者，来院行肺癌筛查。"};
  s.ageSex = v.apply(pick(r, ageSex));

  if (rec.smoking == SmokingStatus::Never) {
    static const char* const t[] = {"否认吸烟史（0包年）。", "从不吸烟，0包年。", "无吸烟史，吸烟量0包年。"};
    s.smoking = pick(r, t);
  } else if (rec.smoking == SmokingStatus::Current) {
    static const char* const t[] = {"现仍吸烟，{py}包年。", "目前吸烟，吸烟史{py}包年。",
                                    "吸烟者（仍在吸），累计{py}包年。"};
    s.smoking = v.apply(pick(r, t));
  } else {
    static const char* const t[] = {"已戒烟{q}年，既往吸烟{py}包年。", "曾吸烟{py}包年，{q}年前戒烟。",
                                    "既往吸烟者，{py}包年，戒烟{q}年。"};
    s.smoking = v.apply(pick(r, t));
  }

  if (rec.familyHistory) {
    Vars f;
    f.kv = {{"rel", relativeZh(r, rec.familyRelative)}, {"ra", std::to_string(r.uniformInt(52, 84))}};
    static const char* const t[] = {"家族史：{rel}患肺癌。", "{rel}{ra}岁时确诊肺癌。",
                                    "有肺癌家族史（{rel}）。"};
    s.family = f.apply(pick(r, t));
  } else {
    static const char* const t[] = {"否认肺癌家族史。", "无肺癌家族史。", "家族中无肺癌患者。"};
    s.family = pick(r, t);
  }

  if (rec.priorCancer) {
    Vars f;
    f.kv = {{"site", siteZh(rec.priorCancerSite)}, {"year", std::to_string(studyYear - r.uniformInt(3, 15))}};
    static const char* const t[] = {"既往{site}癌病史，{year}年已治疗。", "{year}年曾患{site}癌，已行手术。",
                                    "有{site}癌病史。"};
    s.prior = f.apply(pick(r, t));
  } else {
    static const char* const t[] = {"否认既往恶性肿瘤病史。", "既往无肿瘤史。", "无癌症病史。"};
    s.prior = pick(r, t);
  }

  std::vector<std::string> present, absent;
  for (const char* key : kSymptomKeys) {
    const bool has = std::find(rec.symptoms.begin(), rec.symptoms.end(), key) != rec.symptoms.end();
    (has ? present : absent).push_back(symptomZh(r, key));
  }
  if (present.empty()) {
    static const char* const t[] = {"无明显症状，否认{list}。", "否认{list}。", "无呼吸道症状，无{list}。"};
    s.symptoms = replaceAll(pick(r, t), "{list}", joinChinese(absent));
  } else {
    static const char* const t[] = {"主诉{list}。", "近期有{list}。", "症状：{list}。"};
    s.symptoms = replaceAll(pick(r, t), "{list}", joinChinese(present));
    if (!absent.empty() && r.bernoulli(0.6)) s.symptoms += "否认" + joinChinese(absent) + "。";
  }

  Vars irr;
  irr.kv = {{"sys", std::to_string(r.uniformInt(112, 158))},
            {"dia", std::to_string(r.uniformInt(66, 94))},
            {"mg", std::to_string(10 * r.uniformInt(1, 4))},
            {"rel2", r.bernoulli(0.5) ? "母亲" : "父亲"}};
  static const char* const irrelevant[] = {"血压{sys}/{dia}mmHg。",
                                           "无药物过敏史。",
                                           "退休教师。",
                                           "规律服用阿托伐他汀{mg}mg。",
                                           "偶尔饮酒。",
                                           "已接种流感疫苗。",
                                           "平时喜欢散步。",
                                           "{rel2}患有高血压。",
                                           "与配偶同住，生活自理。",
                                           "高血压病史，药物控制良好。",
                                           "外院门诊转诊。"};
  const int nIrr = r.uniformInt(2, 4);
  std::vector<int> chosen;
  while (static_cast<int>(chosen.size()) < nIrr) {
    const int k = r.uniformInt(0, static_cast<int>(std::size(irrelevant)) - 1);
    if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
  }
  for (int k : chosen) s.irrelevant.push_back(irr.apply(irrelevant[k]));
  for (auto& sentence : s.irrelevant)
    if (r.bernoulli(0.35)) sentence = typoChinese(r, sentence);
  return s;
}

template <class T>
void shuffle(Rng& r, std::vector<T>& v) {
  for (std::size_t i = v.size(); i > 1; --i)
    std::swap(v[i - 1], v[static_cast<std::size_t>(r.uniformInt(0, static_cast<int>(i) - 1))]);
}

std::string assemble(const Sentences& s, Rng& r, bool chinese) {
  const char* space = chinese ? "" : " ";
  if (r.bernoulli(0.4)) {  // sectioned note
    std::vector<std::string> irr = s.irrelevant;
    auto take = [&]() {
      if (irr.empty()) return std::string();
      std::string x = std::string(space) + irr.back();
      irr.pop_back();
      return x;
    };
    std::string out;
    if (chinese) {
      out += "现病史：" + s.ageSex + s.symptoms + "\n";
      out += "既往史：" + s.prior + take() + "\n";
      out += "个人史：" + s.smoking + take() + "\n";
      out += "家族史：" + s.family + "\n";
    } else {
      out += "HPI: " + s.ageSex + " " + s.symptoms + "\n";
      out += "PMH: " + s.prior + take() + "\n";
      out += "Social: " + s.smoking + take() + "\n";
      out += "Family: " + s.family + "\n";
    }
    std::string rest;
    while (!irr.empty()) rest += take();
    if (!rest.empty()) out += (chinese ? "其他：" : "Other:") + rest + "\n";
    return out;
  }
  std::vector<std::string> body = {s.smoking, s.family, s.prior, s.symptoms};
  for (const auto& i : s.irrelevant) body.push_back(i);
  shuffle(r, body);
  std::string out = s.ageSex;
  for (const auto& b : body) out += space + b;
  return out;
}

std::string shortHistoryOf(const Case& c) {
  const auto& rec = c.record;
  std::string h = std::to_string(rec.ageYears) + (rec.sex == Sex::Male ? "M" : "F") + ", ";
  if (rec.smoking == SmokingStatus::Never) h += "never smoker";
  if (rec.smoking == SmokingStatus::Current) h += "current smoker " + formatNumber(rec.packYears, 1) + " PY";
  if (rec.smoking == SmokingStatus::Former)
    h += "former smoker " + formatNumber(rec.packYears, 1) + " PY, quit " +
         std::to_string(rec.yearsSinceQuit) + " y";
  h += rec.familyHistory ? "; FHx lung cancer (" + rec.familyRelative + ")" : "; no FHx lung cancer";
  h += rec.priorCancer ? "; prior " + rec.priorCancerSite + " cancer" : "; no prior cancer";
  if (rec.symptoms.empty()) {
    h += "; asymptomatic";
  } else {
    h += "; symptoms: ";
    for (std::size_t i = 0; i < rec.symptoms.size(); ++i)
      h += (i ? ", " : "") + replaceAll(rec.symptoms[i], "_", " ");
  }
  return h + ". LDCT lung cancer screening.";
}

}  // namespace

NoteText writeNote(const Case& c, Language language, Rng& rng) {
  const int studyYear = std::stoi(c.studyDate.substr(0, 4));
  const bool chinese = language == Language::Chinese;
  const Sentences s = chinese ? chineseSentences(c, rng, studyYear) : englishSentences(c, rng, studyYear);
  return {assemble(s, rng, chinese), shortHistoryOf(c)};
}

}  // namespace phantom::detail
