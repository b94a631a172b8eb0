#pragma once
// Private helpers shared by the phantom's source files.
#include <cstdint>
#include <string>
#include <string_view>

#include "Random.h"
#include "phantom/ChestAnatomy.h"
#include "phantom/CohortGenerator.h"

namespace phantom::detail {

struct NoteText {
  std::string note;
  std::string shortHistory;
};

/// Free-text note in `language` that states every factor of c.record (needs c.studyDate).
NoteText writeNote(const Case& c, Language language, Rng& rng);

/// FHIR R4 Bundle (type collection) of the case's record.
std::string fhirBundle(const Case& c);

/// "2.25.<decimal of a 128-bit hash of (seed, index, purpose)>".
std::string deterministicUid(std::uint64_t seed, int index, std::string_view purpose);
/// RFC 4122-shaped UUID (version 4 bits set) from the same hash, for FHIR fullUrl.
std::string deterministicUuid(std::uint64_t seed, int index, std::string_view purpose);

/// Renders the CT of a case (nodules, emphysema, dose and kernel from c) on the preset's grid.
imaging::CtVolume renderVolume(const Case& c, const ChestAnatomy& anatomy, std::uint64_t seed,
                               SizePreset size, int threads);

/// Days since 1970-01-01 of a civil date, and back.
long daysFromCivil(int y, int m, int d);
void civilFromDays(long z, int& y, int& m, int& d);
std::string isoDate(int y, int m, int d);  ///< YYYY-MM-DD

/// Maximum spike length (mm) of a spiculated nodule of this diameter (placement keeps room for it).
inline double maxSpikeLengthMm(double diameterMm) {
  return std::min(12.0, std::max(4.0, 0.6 * diameterMm));
}

}  // namespace phantom::detail
