#pragma once
/// CohortGenerator: a seeded synthetic lung-screening cohort (chest-CT phantom + patient record +
/// clinical note + FHIR bundle + ground truth). No third-party dependency (builds on the GPU machine).
///
///   phantom::PhantomOptions opt;                 // small, fast volumes; English notes
///   opt.size = phantom::SizePreset::Full;        // 512x512xN at 0.6-0.8 mm, 1-2.5 mm slices
///   phantom::CohortGenerator gen(/*seed=*/42, opt);
///   phantom::Case c = gen.generate(7);           // deterministic for (seed, index, version)
///   c.volume;        // imaging::CtVolume, int16 HU, LPS geometry
///   c.note;          // free-text clinical note (English or Chinese)
///   c.truthJson();   // ground truth (nodules in LPS mm, Brock probability, label, Lung-RADS)
///
/// Labels follow shared/DOMAIN.md: per nodule p = Brock(true features), malignant ~ Bernoulli(p);
/// the study is positive when any nodule is malignant. Calcified nodules (benign pattern) are always
/// benign: their brockProbability is still the formula's value, but malignant is false.
/// Cohort (seed 1, 2,000 records, default options): prevalence ~0.22, Brock-oracle AUC ~0.89.
/// Everything is drawn from per-purpose counter-based streams of (seed, index): cases are independent,
/// generate() may run on several threads at once, and the volume does not depend on options.threads.
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "clinical/Brock.h"
#include "clinical/LungRads.h"
#include "imaging/CtVolume.h"
#include "phantom/PhantomError.h"

namespace phantom {

/// Bumped whenever the generator's output for a given seed changes.
inline constexpr int kGeneratorVersion = 3;  // 3: "{His}" placeholder filled in family-history notes

enum class Sex { Male, Female };
enum class SmokingStatus { Never, Former, Current };
enum class Lobe { RUL, RML, RLL, LUL, LLL };
enum class Language { English, Chinese };
enum class LanguageMix { English, Chinese, Mixed };
enum class SizePreset { Small, Full };

std::string toString(Lobe l);                  ///< "RUL" ...
std::string toString(clinical::NoduleType t);  ///< "solid" | "part_solid" | "non_solid"
std::string toString(SmokingStatus s);         ///< "never" | "former" | "current"
std::string toString(Sex s);                   ///< "M" | "F"
std::string toString(Language l);              ///< "en" | "zh"
bool isUpperLobe(Lobe l);

struct PatientRecord {
  int ageYears = 60;
  Sex sex = Sex::Male;
  SmokingStatus smoking = SmokingStatus::Never;
  double packYears = 0;
  int yearsSinceQuit = -1;            ///< former smokers only; -1 otherwise
  bool familyHistory = false;         ///< first-degree relative with lung cancer
  bool priorCancer = false;           ///< prior (non-lung) cancer
  std::vector<std::string> symptoms;  ///< canonical keys: cough, hemoptysis, weight_loss, dyspnea, chest_pain
  std::string familyRelative;         ///< father | mother | brother | sister when familyHistory, else empty
  std::string priorCancerSite;        ///< e.g. prostate, breast, colon when priorCancer, else empty
};

struct Nodule {
  std::array<double, 3> centerLps{};  ///< mm
  double diameterMm = 0;              ///< mean diameter (long + short axis) / 2
  double longAxisMm = 0, shortAxisMm = 0;
  double solidDiameterMm = 0;  ///< solid component; = diameter for solid, 0 for non-solid
  clinical::NoduleType type = clinical::NoduleType::Solid;
  Lobe lobe = Lobe::RUL;
  bool spiculated = false;
  bool calcified = false;       ///< dense (>= 200 HU) benign calcification; such nodules are never malignant
  double brockProbability = 0;  ///< Brock / PanCan full model on the true features
  bool malignant = false;       ///< sampled from brockProbability (false for calcified nodules)
};

struct PhantomOptions {
  SizePreset size = SizePreset::Small;
  LanguageMix language = LanguageMix::English;
  int maxNodules = 3;              ///< 0..maxNodules per case
  double noNoduleFraction = 0.25;  ///< share of cases without any nodule
  int threads = 0;                 ///< worker threads for the volume; 0 = hardware concurrency (output is
                                   ///< byte-identical whatever the count)
};

/// Voxel grid of a preset: axial, identity direction, k towards superior (+z), chest centred in x/y.
/// Both presets cover the same LPS box (x, y in [-176, 176] mm, z in [-300, 0] mm), so the same case
/// has the same anatomy and nodules at the same LPS positions in both.
///   Small: 160 x 160 x 120 at 2.2 x 2.2 x 2.5 mm.   Full: 512 x 512 x 240 at 0.6875 x 0.6875 x 1.25 mm.
imaging::VolumeGeometry volumeGeometry(SizePreset size);

struct Case {
  std::uint64_t seed = 0;  ///< the cohort's seed
  int index = 0;
  std::string patientId, patientName, accessionNumber, studyDate, studyTime;  ///< dates YYYYMMDD, time HHMMSS
  std::string
      patientBirthDate;  ///< YYYYMMDD; the age at studyDate is exactly record.ageYears (FHIR uses it too)
  std::string studyInstanceUid, seriesInstanceUid, frameOfReferenceUid;
  std::string kernel;     ///< reconstruction kernel name, e.g. "B30f" (soft) / "B60f" (sharp)
  double ctdiVolMgy = 0;  ///< dose; drives the noise level
  double noiseStdHu = 0;  ///< std of the Gaussian noise added to each voxel (from dose, kernel, voxel size)
  bool sharpKernel = false;  ///< sharp (lung) kernel: less blur, more noise
  imaging::CtVolume volume;  ///< empty when generated with generateRecord()
  PatientRecord record;
  bool emphysema = false;
  std::vector<Nodule> nodules;
  Language noteLanguage = Language::English;
  std::string note;             ///< free text with varied wording, negations, noise and typos (UTF-8)
  std::string shortHistory;     ///< short English history for DICOM AdditionalPatientHistory
  double brockProbability = 0;  ///< study level: the most suspicious nodule (0 when none)
  bool cancer = false;
  clinical::LungRadsCategory lungRads = clinical::LungRadsCategory::C1;

  std::string truthJson() const;  ///< keys as in issue 3 (study_uid, patient_id, cancer, ...)
  std::string fhirBundleJson()
      const;  ///< FHIR R4 Bundle: Patient, Observations, FamilyMemberHistory, Condition
};

class CohortGenerator {
 public:
  CohortGenerator(std::uint64_t seed, PhantomOptions options = {});
  /// Case `index` of the cohort, independent of every other index (parallel-safe, const).
  Case generate(int index) const;
  /// Same case without the volume (record, nodules, note, truth): fast, for text work and statistics.
  Case generateRecord(int index) const;
  /// Renders the volume of a case made by generateRecord(index) (same voxels as generate(index).volume).
  imaging::CtVolume generateVolume(const Case& record) const;
  std::uint64_t seed() const { return seed_; }
  const PhantomOptions& options() const { return options_; }

 private:
  std::uint64_t seed_;
  PhantomOptions options_;
};

}  // namespace phantom
