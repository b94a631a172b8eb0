#pragma once
/// ModelError: the one exception type of the multimodal library (weights that cannot be read, a
/// device that is not available, a model that fails). Messages are meant for the user to read.
#include <stdexcept>
#include <string>

namespace multimodal {
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace multimodal
