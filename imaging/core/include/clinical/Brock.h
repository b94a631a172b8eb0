#pragma once
/// Brock / PanCan full model with spiculation (McWilliams et al., NEJM 2013): malignancy probability of
/// one nodule from patient and nodule features. Used for the cohort's labels, as the oracle, and
/// beside the model probability in reports. No dependency: lives in imaging_core with LungRads.
namespace clinical {

enum class NoduleType { Solid, PartSolid, NonSolid };

struct BrockInput {
  double ageYears = 62;
  bool female = false;
  bool familyHistory = false;
  bool emphysema = false;
  double diameterMm = 5;
  NoduleType type = NoduleType::Solid;
  bool upperLobe = false;
  int noduleCount = 1;
  bool spiculated = false;
};

double brockLogit(const BrockInput& in);
double brockProbability(const BrockInput& in);

}  // namespace clinical
