#pragma once
#include <stdexcept>
#include <string>

namespace imaging {
/// The one exception type of the imaging library. Messages name the file/series and the problem in
/// words a radiologist or an IT engineer can act on. DCMTK/ITK errors are translated into it once,
/// at the adapter boundary.
class DicomError : public std::runtime_error {
 public:
  explicit DicomError(const std::string& message) : std::runtime_error(message) {}
};
}  // namespace imaging
