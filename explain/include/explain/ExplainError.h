#pragma once
/// ExplainError: the explain library's exception (message readable by a radiologist).
#include <stdexcept>

namespace explain {
class ExplainError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace explain
