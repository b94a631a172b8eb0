#include "explain/Explain.h"

namespace explain {
std::string lungRadsSentence(clinical::LungRadsCategory category) {
  return "Lung-RADS " + clinical::toString(category) + " (" + clinical::management(category) + ").";
}
}  // namespace explain
