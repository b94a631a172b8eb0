#pragma once
/// Narrative: short English or Chinese text built only from an Explanation's structured fields; each
/// sentence lists the facts (key, printed value) it cites, and checkNarrative() verifies them.
///
///   e.narrative = explain::composeNarrative(e, "en");
///   auto problems = explain::checkNarrative(e);   // empty when every sentence is backed
#include <string>
#include <vector>

#include "explain/Explanation.h"

namespace explain {

std::vector<Sentence> composeNarrative(const Explanation& e, const std::string& language);

/// Facts of the explanation as printed in narratives (key -> value), e.g. "finding1.diameter_mm" -> "12.3".
std::vector<std::pair<std::string, std::string>> factTable(const Explanation& e);

/// Problems: a cited fact missing from the structure or with another value, a fact value not printed
/// in its sentence, or a number in a sentence that no cited fact carries.
std::vector<std::string> checkNarrative(const Explanation& e);

}  // namespace explain
