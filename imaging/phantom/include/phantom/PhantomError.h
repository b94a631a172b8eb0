#pragma once
/// PhantomError: the phantom library's exception (bad options, impossible requests), with a message a
/// user can read, e.g. "phantom: maxNodules must be between 0 and 10 (got 12)".
#include <stdexcept>

namespace phantom {

class PhantomError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace phantom
