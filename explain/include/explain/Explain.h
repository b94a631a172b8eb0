#pragma once
/// explain: Grad-CAM, note attributions, routing summary, findings, Lung-RADS wording, narrative.
/// (Filled by the explanations issue; for now only the Lung-RADS sentence used by reports.)
#include <string>

#include "clinical/LungRads.h"

namespace explain {
/// "Lung-RADS 4A (Suspicious: 3-month LDCT; ...)."
std::string lungRadsSentence(clinical::LungRadsCategory category);
}  // namespace explain
