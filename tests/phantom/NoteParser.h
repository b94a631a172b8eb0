#pragma once
// Test-side reader of the phantom's clinical notes (English and Chinese): recovers the patient factors
// from the phrasings with regular expressions, so tests can check that every note states every factor and
// never contradicts the record. Each field is std::nullopt when no phrase (or contradicting phrases) were
// found.
#include <optional>
#include <set>
#include <string>

struct ParsedNote {
  std::optional<int> ageYears;
  std::optional<char> sex;             // 'M' | 'F'
  std::optional<std::string> smoking;  // never | former | current
  std::optional<double> packYears;
  std::optional<int> yearsSinceQuit;
  std::optional<bool> familyHistory;
  std::optional<bool> priorCancer;
  std::optional<std::set<std::string>> symptoms;  // canonical keys
};

ParsedNote parseEnglishNote(const std::string& note, int studyYear);
ParsedNote parseChineseNote(const std::string& note);
