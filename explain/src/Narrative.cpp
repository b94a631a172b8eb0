#include "explain/Narrative.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

namespace explain {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string pct(double p) { return fmt("%.1f%%", 100.0 * p); }

const NoteSpan* topPhrase(const Explanation& e, bool positive) {
  const NoteSpan* best = nullptr;
  for (const auto& p : e.note.phrases) {
    if (positive ? p.score <= 0 : p.score >= 0) continue;
    if (!best || std::abs(p.score) > std::abs(best->score)) best = &p;
  }
  return best;
}

const RecordFactor* factor(const Explanation& e, const std::string& name) {
  for (const auto& f : e.recordFactors)
    if (f.name == name) return &f;
  return nullptr;
}

std::string typeWord(const std::string& t, bool zh) {
  if (zh) return t == "solid" ? "实性" : t == "part_solid" ? "部分实性" : "非实性(磨玻璃)";
  return t == "solid" ? "solid" : t == "part_solid" ? "part-solid" : "non-solid (ground-glass)";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> factTable(const Explanation& e) {
  std::vector<std::pair<std::string, std::string>> t;
  auto add = [&](const std::string& k, const std::string& v) { t.push_back({k, v}); };
  if (e.outOfScope) add("out_of_scope_reason", e.outOfScopeReason);
  if (!e.outOfScope) {
    add("probability", pct(e.probability));
    add("image_share", fmt("%.0f%%", 100 * e.routing.imageShare));
    add("text_share", fmt("%.0f%%", 100 * e.routing.textShare));
  }
  for (std::size_t i = 0; i < e.routing.experts.size(); ++i) {
    const auto& x = e.routing.experts[i];
    const std::string p = "expert" + std::to_string(i + 1);
    add(p, std::to_string(x.expert));
    add(p + ".weight", fmt("%.2f", x.weight));
    add(p + ".specialty", x.specialty);
  }
  for (const auto& f : e.findings) {
    const std::string p = "finding" + std::to_string(f.rank);
    add(p + ".cam_peak", fmt("%.2f", f.camPeak));
    add(p + ".center_lps_mm", fmt("(%.1f, ", f.centerLps[0]) + fmt("%.1f, ", f.centerLps[1]) + fmt("%.1f)", f.centerLps[2]));
    add(p + ".images", std::to_string(f.sliceFirst + 1) + "-" + std::to_string(f.sliceLast + 1));
    add(p + ".lobe", f.lobe);
    add(p + ".fissure_distance_mm", fmt("%.1f", f.fissureDistanceMm));
    if (f.measured) {
      add(p + ".type", f.type);
      add(p + ".diameter_mm", fmt("%.1f", f.diameterMm));
      add(p + ".axes_mm", fmt("%.1f x ", f.longAxisMm) + fmt("%.1f", f.shortAxisMm));
      add(p + ".mean_hu", fmt("%.0f", f.meanHu));
      if (f.type == "part_solid") add(p + ".solid_diameter_mm", fmt("%.1f", f.solidDiameterMm));
    }
    if (!f.headType.empty()) {
      add(p + ".head_type", f.headType);
      add(p + ".head_lobe", f.headLobe);
      add(p + ".head_diameter_mm", fmt("%.1f", f.headDiameterMm));
    }
  }
  if (!e.lungRadsCategory.empty()) {
    add("lung_rads", e.lungRadsCategory);
    add("lung_rads_management", e.lungRadsManagement);
  }
  if (e.brock.computed) {
    add("brock_probability", pct(e.brock.probability));
    add("brock.age", fmt("%.0f", e.brock.ageYears));
    add("brock.diameter_mm", fmt("%.1f", e.brock.diameterMm));
    add("brock.without_family_history", pct(e.brock.withoutFamilyHistory));
    add("brock.age_62", pct(e.brock.ageAt62));
  } else if (!e.brock.reason.empty()) {
    add("brock_reason", e.brock.reason);
  }
  for (const char* s : {"top_up", "top_down"}) {
    const NoteSpan* p = topPhrase(e, std::string(s) == "top_up");
    if (p) {
      add(std::string("note.") + s + ".phrase", p->text);
      add(std::string("note.") + s + ".score", fmt("%+.2f", p->score));
    }
  }
  for (const auto& f : e.recordFactors) {
    add("factor." + f.name, f.value);
    if (!f.evidencePhrase.empty()) add("factor." + f.name + ".phrase", f.evidencePhrase);
  }
  return t;
}

std::vector<Sentence> composeNarrative(const Explanation& e, const std::string& language) {
  const bool zh = language == "zh";
  std::map<std::string, std::string> F;
  for (const auto& [k, v] : factTable(e)) F[k] = v;
  std::vector<Sentence> out;
  auto say = [&](const std::string& text, const std::vector<std::string>& keys) {
    Sentence s;
    s.text = text;
    for (const auto& k : keys) s.facts.push_back({k, k[0] == '#' ? k.substr(1) : F.at(k)});
    out.push_back(std::move(s));
  };
  if (e.outOfScope) {
    say(zh ? "本次扫描未分析：" + F["out_of_scope_reason"] + "。" : "The scan was not analysed: " + F["out_of_scope_reason"] + ".",
        {"out_of_scope_reason"});
    return out;
  }
  // Score and modality gate.
  if (e.usedImage && e.usedNote) {
    say(zh ? "模型估计的癌症概率为 " + F["probability"] + "（影像占 " + F["image_share"] + "，病历文本占 " + F["text_share"] + "）。"
           : "The model estimates a cancer probability of " + F["probability"] + " (image " + F["image_share"] +
                 ", note " + F["text_share"] + " of the decision).",
        {"probability", "image_share", "text_share"});
  } else {
    say(zh ? "模型估计的癌症概率为 " + F["probability"] + "（" + (e.usedImage ? "仅影像：没有病历文本" : "仅病历文本：没有影像") + "）。"
           : "The model estimates a cancer probability of " + F["probability"] + " (" +
                 (e.usedImage ? "image only: no note was available" : "note only: no image was available") + ").",
        {"probability"});
  }
  if (e.probability > 0.3 && e.probability < 0.7)
    say(zh ? "该概率 " + F["probability"] + " 处于不确定区间。" : "This probability of " + F["probability"] + " is uncertain.",
        {"probability"});
  // Experts.
  if (e.routing.experts.size() == 2) {
    say(zh ? "决策由专家 " + F["expert1"] + "（权重 " + F["expert1.weight"] + "）和专家 " + F["expert2"] + "（权重 " +
                 F["expert2.weight"] + "）给出。"
           : "The decision was routed to expert " + F["expert1"] + " (weight " + F["expert1.weight"] + ") and expert " +
                 F["expert2"] + " (weight " + F["expert2.weight"] + ").",
        {"expert1", "expert1.weight", "expert2", "expert2.weight"});
    if (e.routing.statisticsAvailable) {
      for (int i = 1; i <= 2; ++i) {
        const std::string p = "expert" + std::to_string(i);
        say((zh ? "专家 " : "Expert ") + F[p] + (zh ? "（评估统计）：" : " (evaluation statistics): ") + F[p + ".specialty"] +
                (zh ? "。" : "."),
            {p, p + ".specialty"});
      }
    } else {
      say(zh ? "专家专长：" + F["expert1.specialty"] + "。" : "Expert specialisation: " + F["expert1.specialty"] + ".",
          {"expert1.specialty"});
    }
  }
  // Findings.
  for (const auto& f : e.findings) {
    const std::string p = "finding" + std::to_string(f.rank);
    const std::string which = f.rank == 1 ? (zh ? "热图最强区域" : "The heatmap's strongest region")
                                          : (zh ? "热图第 " + std::to_string(f.rank) + " 区域" : "Heatmap region " + std::to_string(f.rank));
    std::vector<std::string> keys = {p + ".cam_peak", p + ".lobe", p + ".center_lps_mm", p + ".images"};
    if (f.rank != 1) keys.insert(keys.begin(), "#rank");  // rank number is not a fact: avoid it below
    keys.erase(std::remove(keys.begin(), keys.end(), "#rank"), keys.end());
    const std::string whichEn = f.rank == 1 ? "The heatmap's strongest region" : "Another heatmap region";
    const std::string whichZh = f.rank == 1 ? "热图最强区域" : "另一热图区域";
    (void)which;
    if (f.measured) {
      keys.insert(keys.end(), {p + ".type", p + ".diameter_mm", p + ".axes_mm", p + ".mean_hu"});
      say(zh ? whichZh + "（峰值 " + F[p + ".cam_peak"] + "）内有一个" + typeWord(f.type, true) + "结节，位于" + F[p + ".lobe"] +
                   "，LPS " + F[p + ".center_lps_mm"] + " mm，图像 " + F[p + ".images"] + "：平均直径 " + F[p + ".diameter_mm"] +
                   " mm（" + F[p + ".axes_mm"] + " mm），平均 " + F[p + ".mean_hu"] + " HU（" + F[p + ".type"] + "）。"
             : whichEn + " (peak " + F[p + ".cam_peak"] + ") contains a " + typeWord(f.type, false) + " nodule in the " +
                   F[p + ".lobe"] + " at LPS " + F[p + ".center_lps_mm"] + " mm, images " + F[p + ".images"] +
                   ": mean diameter " + F[p + ".diameter_mm"] + " mm (" + F[p + ".axes_mm"] + " mm), mean " +
                   F[p + ".mean_hu"] + " HU (" + F[p + ".type"] + ").",
          keys);
      if (f.type == "part_solid")
        say(zh ? "其实性成分直径 " + F[p + ".solid_diameter_mm"] + " mm。" : "Its solid component measures " + F[p + ".solid_diameter_mm"] + " mm.",
            {p + ".solid_diameter_mm"});
    } else {
      say(zh ? whichZh + "（峰值 " + F[p + ".cam_peak"] + "，" + F[p + ".lobe"] + "，LPS " + F[p + ".center_lps_mm"] + " mm，图像 " +
                   F[p + ".images"] + "）内未能测量到结节样结构。"
             : whichEn + " (peak " + F[p + ".cam_peak"] + ", " + F[p + ".lobe"] + ", LPS " + F[p + ".center_lps_mm"] +
                   " mm, images " + F[p + ".images"] + ") contains no structure this tool could measure as a nodule.",
          keys);
    }
    if (f.fissureDistanceMm < 5.0)
      say(zh ? "肺叶判定不确定：距叶间裂仅 " + F[p + ".fissure_distance_mm"] + " mm。"
             : "The lobe is uncertain: the position is " + F[p + ".fissure_distance_mm"] + " mm from a fissure.",
          {p + ".fissure_distance_mm"});
    if (!f.headType.empty() && f.measured) {
      const bool all = f.typeAgrees && f.lobeAgrees && f.diameterAgrees;
      std::vector<std::string> k2 = {p + ".head_type", p + ".head_diameter_mm", p + ".head_lobe"};
      if (all) {
        say(zh ? "模型的影像辅助输出与测量一致（" + F[p + ".head_type"] + "，" + F[p + ".head_diameter_mm"] + " mm，" + F[p + ".head_lobe"] + "）。"
               : "The model's image heads agree with the measurement (" + F[p + ".head_type"] + ", " +
                     F[p + ".head_diameter_mm"] + " mm, " + F[p + ".head_lobe"] + ").",
            k2);
      } else {
        std::string what;
        if (!f.typeAgrees) what += zh ? "类型 " : "type ";
        if (!f.diameterAgrees) what += zh ? "直径 " : "diameter ";
        if (!f.lobeAgrees) what += zh ? "肺叶 " : "lobe ";
        if (!what.empty()) what.pop_back();
        say(zh ? "模型的影像辅助输出与测量不一致（" + what + "）：辅助输出为 " + F[p + ".head_type"] + "，" + F[p + ".head_diameter_mm"] +
                     " mm，" + F[p + ".head_lobe"] + "。"
               : "The model's image heads disagree with the measurement on " + what + ": they read " + F[p + ".head_type"] +
                     ", " + F[p + ".head_diameter_mm"] + " mm, " + F[p + ".head_lobe"] + ".",
            k2);
      }
    } else if (!f.headType.empty()) {
      say(zh ? "模型的影像辅助输出读到 " + F[p + ".head_type"] + "，" + F[p + ".head_diameter_mm"] + " mm，" + F[p + ".head_lobe"] + "，但本工具未能在CT上确认。"
             : "The model's image heads read " + F[p + ".head_type"] + ", " + F[p + ".head_diameter_mm"] + " mm, " +
                   F[p + ".head_lobe"] + ", which this tool could not confirm on the CT.",
          {p + ".head_type", p + ".head_diameter_mm", p + ".head_lobe"});
    }
  }
  if (e.usedImage && e.findings.empty())
    say(zh ? "热图没有显示支持癌症的影像区域。" : "The heatmap shows no image region that raised the score.", {});
  // Lung-RADS.
  if (!e.lungRadsCategory.empty()) {
    const Finding* c = nullptr;
    for (const auto& f : e.findings)
      if (f.measured) {
        c = &f;
        break;
      }
    if (c) {
      const std::string p = "finding" + std::to_string(c->rank);
      say(zh ? "根据测得的 " + F[p + ".diameter_mm"] + " mm 结节，Lung-RADS " + F["lung_rads"] + " 类：" + F["lung_rads_management"] + "。"
             : "Lung-RADS " + F["lung_rads"] + " from the measured " + F[p + ".diameter_mm"] + " mm nodule: " +
                   F["lung_rads_management"] + ".",
          {"lung_rads", p + ".diameter_mm", "lung_rads_management"});
    } else {
      say(zh ? "未测量到结节，Lung-RADS " + F["lung_rads"] + " 类仅基于本工具的测量，须由医生确认。"
             : "No nodule was measured, so Lung-RADS " + F["lung_rads"] + " rests on this tool's measurement alone and must be confirmed by a reader.",
          {"lung_rads"});
    }
  }
  // Brock.
  if (e.brock.computed) {
    const auto& b = e.brock;
    say(zh ? "Brock 概率 " + F["brock_probability"] + "（年龄 " + F["brock.age"] + "，" + (b.female ? "女" : "男") + "，家族史" +
                 (b.familyHistory ? "阳性" : "阴性") + "，" + F["brock.diameter_mm"] + " mm " + typeWord(b.type, true) + "，" +
                 (b.upperLobe ? "上叶" : "非上叶") + "，" + (b.spiculated ? "有毛刺" : "无毛刺") + "），模型概率 " + F["probability"] + "。"
           : "The Brock probability is " + F["brock_probability"] + " (age " + F["brock.age"] + ", " +
                 (b.female ? "female" : "male") + ", family history " + (b.familyHistory ? "yes" : "no") + ", " +
                 F["brock.diameter_mm"] + " mm " + typeWord(b.type, false) + ", " + (b.upperLobe ? "upper" : "not upper") +
                 " lobe, " + (b.spiculated ? "spiculated" : "not spiculated") + ") beside the model's " + F["probability"] + ".",
        {"brock_probability", "brock.age", "brock.diameter_mm", "probability"});
    const RecordFactor* fh = factor(e, "family_history");
    if (fh && !fh->evidencePhrase.empty() && std::abs(b.probability - b.withoutFamilyHistory) >= 0.001)
      say(zh ? "家族史（读作 " + F["factor.family_history"] + "，依据“" + F["factor.family_history.phrase"] + "”）使 Brock 概率从 " +
                   F["brock.without_family_history"] + " 变为 " + F["brock_probability"] + "。"
             : "Family history, read as " + F["factor.family_history"] + " from \"" + F["factor.family_history.phrase"] +
                   "\", moves the Brock probability from " + F["brock.without_family_history"] + " to " + F["brock_probability"] + ".",
          {"factor.family_history", "factor.family_history.phrase", "brock.without_family_history", "brock_probability"});
    const RecordFactor* age = factor(e, "age");
    if (age && !age->evidencePhrase.empty() && std::abs(b.probability - b.ageAt62) >= 0.001)
      say(zh ? "年龄 " + F["factor.age"] + "（依据“" + F["factor.age.phrase"] + "”）使 Brock 概率从 " + F["brock.age_62"] +
                   "（62 岁时）变为 " + F["brock_probability"] + "。"
             : "Age " + F["factor.age"] + ", read from \"" + F["factor.age.phrase"] + "\", moves the Brock probability from " +
                   F["brock.age_62"] + " (at age 62) to " + F["brock_probability"] + ".",
          {"factor.age", "factor.age.phrase", "brock.age_62", "brock_probability", "#62"});
  } else if (!e.brock.reason.empty()) {
    say(zh ? "未计算 Brock 概率：" + F["brock_reason"] + "。" : "No Brock probability: " + F["brock_reason"] + ".", {"brock_reason"});
  }
  // Note phrases.
  if (e.usedNote) {
    const NoteSpan* up = topPhrase(e, true);
    const NoteSpan* down = topPhrase(e, false);
    if (up)
      say(zh ? "病历中最提高评分的短语是“" + F["note.top_up.phrase"] + "”（贡献 " + F["note.top_up.score"] + "）" +
                   (up->negated ? "，这是一个否定陈述" : "") + "。"
             : "The note phrase that raised the score most is \"" + F["note.top_up.phrase"] + "\" (attribution " +
                   F["note.top_up.score"] + ")" + (up->negated ? ", a negated statement" : "") + ".",
          {"note.top_up.phrase", "note.top_up.score"});
    if (down)
      say(zh ? "最降低评分的短语是“" + F["note.top_down.phrase"] + "”（贡献 " + F["note.top_down.score"] + "）" +
                   (down->negated ? "，这是一个否定陈述" : "") + "。"
             : "The phrase that lowered it most is \"" + F["note.top_down.phrase"] + "\" (attribution " +
                   F["note.top_down.score"] + ")" + (down->negated ? ", a negated statement" : "") + ".",
          {"note.top_down.phrase", "note.top_down.score"});
  }
  for (const auto& w : e.warnings) say(zh ? "注意：" + w + "。" : "Note: " + w + ".", {});
  return out;
}

std::vector<std::string> checkNarrative(const Explanation& e) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> F;
  for (const auto& [k, v] : factTable(e)) F[k] = v;
  for (const auto& s : e.narrative) {
    for (const auto& [k, v] : s.facts) {
      if (!k.empty() && k[0] == '#') continue;  // a literal constant (e.g. "#62"), checked below
      auto it = F.find(k);
      if (it == F.end()) {
        problems.push_back("sentence cites '" + k + "', which the structured result does not hold: " + s.text);
      } else if (it->second != v) {
        problems.push_back("sentence cites " + k + " = '" + v + "' but the result holds '" + it->second + "': " + s.text);
      }
      if (s.text.find(v) == std::string::npos)
        problems.push_back("sentence does not print the value of " + k + " ('" + v + "'): " + s.text);
    }
    // Every number printed must come from a cited fact.
    const std::string& t = s.text;
    for (std::size_t i = 0; i < t.size();) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < t.size() && (std::isdigit(static_cast<unsigned char>(t[j])) ||
                              (t[j] == '.' && j + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[j + 1])))))
        ++j;
      const std::string num = t.substr(i, j - i);
      bool backed = false;
      for (const auto& [k, v] : s.facts) {
        const std::string val = (!k.empty() && k[0] == '#') ? k.substr(1) : v;
        if (val.find(num) != std::string::npos) backed = true;
      }
      if (!backed) problems.push_back("number " + num + " is not backed by a cited fact: " + s.text);
      i = j;
    }
  }
  return problems;
}

std::string Explanation::narrativeText() const {
  std::string s;
  for (const auto& x : narrative) {
    if (!s.empty() && language != "zh") s += " ";
    s += x.text;
  }
  return s;
}

}  // namespace explain
