#include "phantom/CohortGenerator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "Internal.h"
#include "JsonWriter.h"
#include "ShapeMath.h"

namespace phantom {

using detail::Rng;
using detail::streamKey;

std::string toString(Lobe l) {
  switch (l) {
    case Lobe::RUL:
      return "RUL";
    case Lobe::RML:
      return "RML";
    case Lobe::RLL:
      return "RLL";
    case Lobe::LUL:
      return "LUL";
    case Lobe::LLL:
      return "LLL";
  }
  return "RUL";
}

std::string toString(clinical::NoduleType t) {
  switch (t) {
    case clinical::NoduleType::Solid:
      return "solid";
    case clinical::NoduleType::PartSolid:
      return "part_solid";
    case clinical::NoduleType::NonSolid:
      return "non_solid";
  }
  return "solid";
}

std::string toString(SmokingStatus s) {
  switch (s) {
    case SmokingStatus::Never:
      return "never";
    case SmokingStatus::Former:
      return "former";
    case SmokingStatus::Current:
      return "current";
  }
  return "never";
}

std::string toString(Sex s) {
  return s == Sex::Male ? "M" : "F";
}
std::string toString(Language l) {
  return l == Language::English ? "en" : "zh";
}
bool isUpperLobe(Lobe l) {
  return l == Lobe::RUL || l == Lobe::LUL;
}

imaging::VolumeGeometry volumeGeometry(SizePreset size) {
  imaging::VolumeGeometry g;
  if (size == SizePreset::Small) {
    g.size = {160, 160, 120};
    g.spacingMm = {2.2, 2.2, 2.5};
  } else {
    g.size = {512, 512, 240};
    g.spacingMm = {0.6875, 0.6875, 1.25};
  }
  // Field of view 352 x 352 x 300 mm: x, y in [-176, 176], z in [-300, 0]; voxel centres inside.
  g.originLps = {-0.5 * (g.size[0] - 1) * g.spacingMm[0], -0.5 * (g.size[1] - 1) * g.spacingMm[1],
                 -300.0 + 0.5 * g.spacingMm[2]};
  return g;
}

namespace detail {

long daysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

void civilFromDays(long z, int& y, int& m, int& d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe) + static_cast<int>(era) * 400 + (m <= 2);
}

std::string isoDate(int y, int m, int d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

namespace {
// 128-bit value as four 32-bit limbs, most significant first.
std::string decimal128(std::uint64_t hi, std::uint64_t lo) {
  std::uint32_t limb[4] = {static_cast<std::uint32_t>(hi >> 32), static_cast<std::uint32_t>(hi),
                           static_cast<std::uint32_t>(lo >> 32), static_cast<std::uint32_t>(lo)};
  std::string digits;
  bool nonzero = true;
  while (nonzero) {
    std::uint64_t rem = 0;
    nonzero = false;
    for (auto& l : limb) {
      const std::uint64_t cur = (rem << 32) | l;
      l = static_cast<std::uint32_t>(cur / 10);
      rem = cur % 10;
      if (l) nonzero = true;
    }
    digits.push_back(static_cast<char>('0' + rem));
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}
}  // namespace

std::string deterministicUid(std::uint64_t seed, int index, std::string_view purpose) {
  const std::uint64_t h1 = streamKey(seed, index, purpose);
  const std::uint64_t h2 = hashCombine(h1, 0x5549442D32353A31ull);
  return "2.25." + decimal128(h1, h2);
}

std::string deterministicUuid(std::uint64_t seed, int index, std::string_view purpose) {
  const std::uint64_t h1 = streamKey(seed, index, purpose);
  std::uint64_t h2 = hashCombine(h1, 0x5555494431323334ull);
  std::uint64_t a = (h1 & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  h2 = (h2 & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;               // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(h2 >> 48), static_cast<unsigned long long>(h2 & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace detail

namespace {

double round1(double v) {
  return std::round(v * 10.0) / 10.0;
}

PatientRecord sampleRecord(Rng& r) {
  PatientRecord rec;
  rec.ageYears = r.uniformInt(50, 80);
  rec.sex = r.bernoulli(0.55) ? Sex::Male : Sex::Female;
  const double u = r.uniform();
  rec.smoking = u < 0.15 ? SmokingStatus::Never : (u < 0.6 ? SmokingStatus::Former : SmokingStatus::Current);
  if (rec.smoking != SmokingStatus::Never) {
    rec.packYears = std::clamp(std::round(std::exp(r.normal(std::log(32.0), 0.45))), 5.0, 120.0);
  }
  if (rec.smoking == SmokingStatus::Former)
    rec.yearsSinceQuit = r.uniformInt(1, std::min(25, rec.ageYears - 35));
  rec.familyHistory = r.bernoulli(0.2);
  if (rec.familyHistory) {
    static const char* rel[] = {"father", "mother", "brother", "sister"};
    rec.familyRelative = rel[r.uniformInt(0, 3)];
  }
  rec.priorCancer = r.bernoulli(0.12);
  if (rec.priorCancer) {
    static const char* male[] = {"prostate", "colon", "bladder", "kidney", "thyroid"};
    static const char* female[] = {"breast", "colon", "cervical", "thyroid", "ovarian"};
    rec.priorCancerSite = rec.sex == Sex::Male ? male[r.uniformInt(0, 4)] : female[r.uniformInt(0, 4)];
  }
  static const struct {
    const char* key;
    double p;
  } symptoms[] = {
      {"cough", 0.18}, {"hemoptysis", 0.03}, {"weight_loss", 0.05}, {"dyspnea", 0.12}, {"chest_pain", 0.06}};
  for (const auto& s : symptoms)
    if (r.bernoulli(s.p)) rec.symptoms.push_back(s.key);
  return rec;
}

Lobe sampleLobe(Rng& r) {
  const double u = r.uniform();
  if (u < 0.30) return Lobe::RUL;
  if (u < 0.40) return Lobe::RML;
  if (u < 0.58) return Lobe::RLL;
  if (u < 0.83) return Lobe::LUL;
  return Lobe::LLL;
}

// Fibonacci directions on the sphere, for the "fully inside the lobe" check.
const std::vector<detail::Vec3>& checkDirections() {
  static const std::vector<detail::Vec3> dirs = [] {
    std::vector<detail::Vec3> d;
    const int n = 40;
    const double golden = 2.399963229728653;
    for (int i = 0; i < n; ++i) {
      const double z = 1 - (i + 0.5) * 2.0 / n, r = std::sqrt(1 - z * z);
      d.push_back({r * std::cos(golden * i), r * std::sin(golden * i), z});
    }
    return d;
  }();
  return dirs;
}

bool fitsInLobe(const ChestAnatomy& a, const detail::Vec3& c, double radiusMm, Lobe lobe) {
  if (a.lobeAt(c) != lobe) return false;
  for (double f : {0.5, 1.0})
    for (const auto& d : checkDirections())
      if (a.lobeAt(detail::add(c, detail::mul(d, radiusMm * f))) != lobe) return false;
  return true;
}

// Radius of the ball (mm) that must lie in the lobe: nodule, spikes and a margin that keeps it off the
// pleura.
double clearanceRadiusMm(const Nodule& n) {
  const double r = 0.5 * n.longAxisMm + (n.spiculated ? detail::maxSpikeLengthMm(n.diameterMm) : 0.0);
  return r + 4.0;
}

std::vector<Nodule> sampleNodules(Rng& r, const ChestAnatomy& anatomy, const PhantomOptions& opt) {
  std::vector<Nodule> out;
  if (opt.maxNodules <= 0 || r.bernoulli(opt.noNoduleFraction)) return out;
  const int count = r.uniformInt(1, opt.maxNodules);
  const auto& p = anatomy.parameters();
  for (int n = 0; n < count; ++n) {
    Nodule nod;
    const double t = r.uniform();
    nod.type = t < 0.62 ? clinical::NoduleType::Solid
                        : (t < 0.82 ? clinical::NoduleType::PartSolid : clinical::NoduleType::NonSolid);
    const double u = r.uniform();
    double d = u < 0.42 ? r.uniform(3, 6) : (u < 0.76 ? r.uniform(6, 15) : r.uniform(15, 35));
    if (nod.type == clinical::NoduleType::PartSolid) d = std::max(d, r.uniform(6, 12));
    if (nod.type == clinical::NoduleType::NonSolid) d = std::clamp(d, 5.0, 30.0);
    d = round1(d);
    const double ratio = r.uniform(0.75, 1.0);
    nod.longAxisMm = round1(2 * d / (1 + ratio));
    nod.shortAxisMm = round1(2 * d - nod.longAxisMm);
    nod.diameterMm = 0.5 * (nod.longAxisMm + nod.shortAxisMm);
    if (nod.type == clinical::NoduleType::Solid) nod.solidDiameterMm = nod.diameterMm;
    if (nod.type == clinical::NoduleType::PartSolid)
      nod.solidDiameterMm = std::max(2.0, round1(nod.diameterMm * r.uniform(0.3, 0.75)));
    const double pSpic = nod.type == clinical::NoduleType::NonSolid
                             ? 0.02
                             : 0.05 + 0.6 * detail::smoothstep(6, 25, nod.diameterMm);
    nod.spiculated = r.bernoulli(pSpic);
    nod.calcified = nod.type == clinical::NoduleType::Solid && nod.diameterMm <= 15 && !nod.spiculated &&
                    r.bernoulli(0.15);
    nod.lobe = sampleLobe(r);

    // Rejection sampling of the centre: the whole nodule (with spikes and margin) in its lobe, apart from
    // the other nodules. If a lobe has no room (large nodule, small lobe), try other lobes, then shrink.
    bool placed = false;
    for (int attempt = 0; attempt < 6 && !placed; ++attempt) {
      if (attempt == 2 || attempt == 4) nod.lobe = sampleLobe(r);
      const double clear = clearanceRadiusMm(nod);
      const bool right = nod.lobe == Lobe::RUL || nod.lobe == Lobe::RML || nod.lobe == Lobe::RLL;
      const double xMax = p.bodyHalfWidthMm - anatomy.cavityDepthMm();
      const double yMax = p.bodyHalfDepthMm - anatomy.cavityDepthMm();
      for (int tries = 0; tries < 1500 && !placed; ++tries) {
        detail::Vec3 c{right ? -r.uniform(15, xMax) : r.uniform(15, xMax), r.uniform(-yMax, yMax),
                       r.uniform(-285, p.apexZMm)};
        if (!fitsInLobe(anatomy, c, clear, nod.lobe)) continue;
        bool apart = true;
        for (const auto& o : out)
          if (detail::norm(detail::sub(c, o.centerLps)) < clear + clearanceRadiusMm(o) + 2) apart = false;
        if (!apart) continue;
        nod.centerLps = {std::round(c[0] * 100) / 100, std::round(c[1] * 100) / 100,
                         std::round(c[2] * 100) / 100};
        placed = fitsInLobe(anatomy, nod.centerLps, clear, nod.lobe);
      }
      if (!placed && attempt >= 3 && nod.shortAxisMm * 0.8 >= 3.0) {  // shrink (never below 3 mm) and retry
        nod.longAxisMm = round1(nod.longAxisMm * 0.8);
        nod.shortAxisMm = round1(nod.shortAxisMm * 0.8);
        nod.diameterMm = 0.5 * (nod.longAxisMm + nod.shortAxisMm);
        if (nod.type == clinical::NoduleType::Solid) nod.solidDiameterMm = nod.diameterMm;
        if (nod.type == clinical::NoduleType::PartSolid)
          nod.solidDiameterMm = std::min(nod.solidDiameterMm, round1(0.75 * nod.diameterMm));
      }
    }
    if (placed) out.push_back(nod);
  }
  return out;
}

}  // namespace

CohortGenerator::CohortGenerator(std::uint64_t seed, PhantomOptions options)
    : seed_(seed), options_(options) {
  if (options_.maxNodules < 0 || options_.maxNodules > 10)
    throw PhantomError("phantom: maxNodules must be between 0 and 10 (got " +
                       std::to_string(options_.maxNodules) + ")");
  if (!(options_.noNoduleFraction >= 0 && options_.noNoduleFraction <= 1))
    throw PhantomError("phantom: noNoduleFraction must be between 0 and 1");
  if (options_.threads < 0) throw PhantomError("phantom: threads must be >= 0");
}

Case CohortGenerator::generateRecord(int index) const {
  if (index < 0) throw PhantomError("phantom: case index must be >= 0 (got " + std::to_string(index) + ")");
  Case c;
  c.seed = seed_;
  c.index = index;
  char buf[64];
  std::snprintf(buf, sizeof buf, "MS%llu-%05d", static_cast<unsigned long long>(seed_), index);
  c.patientId = buf;
  std::snprintf(buf, sizeof buf, "PHANTOM^CASE%04d", index);
  c.patientName = buf;
  c.studyInstanceUid = detail::deterministicUid(seed_, index, "study");
  c.seriesInstanceUid = detail::deterministicUid(seed_, index, "series");
  c.frameOfReferenceUid = detail::deterministicUid(seed_, index, "frame-of-reference");
  std::snprintf(
      buf, sizeof buf, "A%012llu",
      static_cast<unsigned long long>(detail::streamKey(seed_, index, "accession") % 1000000000000ull));
  c.accessionNumber = buf;

  Rng rec(streamKey(seed_, index, "record"));
  c.record = sampleRecord(rec);
  Rng study(streamKey(seed_, index, "study"));
  {
    int y, m, d;
    detail::civilFromDays(detail::daysFromCivil(2023, 1, 2) + study.uniformInt(0, 729), y, m, d);
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
    c.studyDate = buf;
    // Birth date: `age` years and 1..364 days before the study, so the age at the study is exactly `age`.
    Rng birth(streamKey(seed_, index, "birth-date"));
    const int age = c.record.ageYears;
    int by, bm, bd;
    detail::civilFromDays(
        detail::daysFromCivil(y - age, m, (m == 2 && d == 29) ? 28 : d) - birth.uniformInt(1, 364), by, bm,
        bd);
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", by, bm, bd);
    c.patientBirthDate = buf;
    std::snprintf(buf, sizeof buf, "%02d%02d%02d", study.uniformInt(7, 18), study.uniformInt(0, 59),
                  study.uniformInt(0, 59));
    c.studyTime = buf;
  }
  c.sharpKernel = study.bernoulli(0.35);
  c.kernel = c.sharpKernel ? "B60f" : "B30f";
  c.ctdiVolMgy = std::round(study.uniform(0.8, 3.0) * 100) / 100;

  const double pEmph =
      c.record.smoking == SmokingStatus::Never ? 0.08 : (c.record.packYears >= 30 ? 0.45 : 0.25);
  c.emphysema = rec.bernoulli(pEmph);

  const ChestAnatomy anatomy = ChestAnatomy::forCase(seed_, index);
  Rng nod(streamKey(seed_, index, "nodules"));
  c.nodules = sampleNodules(nod, anatomy, options_);

  Rng labels(streamKey(seed_, index, "labels"));
  std::vector<clinical::LungRadsNodule> lr;
  for (auto& n : c.nodules) {
    clinical::BrockInput in;
    in.ageYears = c.record.ageYears;
    in.female = c.record.sex == Sex::Female;
    in.familyHistory = c.record.familyHistory;
    in.emphysema = c.emphysema;
    in.diameterMm = n.diameterMm;
    in.type = n.type;
    in.upperLobe = isUpperLobe(n.lobe);
    in.noduleCount = static_cast<int>(c.nodules.size());
    in.spiculated = n.spiculated;
    n.brockProbability = clinical::brockProbability(in);
    const bool draw = labels.bernoulli(n.brockProbability);
    n.malignant = draw && !n.calcified;  // benign calcification: always benign, whatever Brock says
    c.brockProbability = std::max(c.brockProbability, n.brockProbability);
    c.cancer = c.cancer || n.malignant;
    lr.push_back({n.type, n.diameterMm, n.solidDiameterMm, n.calcified});
  }
  c.lungRads = clinical::lungRadsExamCategory(lr);

  Rng noteRng(streamKey(seed_, index, "note"));
  switch (options_.language) {
    case LanguageMix::English:
      c.noteLanguage = Language::English;
      break;
    case LanguageMix::Chinese:
      c.noteLanguage = Language::Chinese;
      break;
    case LanguageMix::Mixed:
      c.noteLanguage = noteRng.bernoulli(0.5) ? Language::Chinese : Language::English;
      break;
  }
  auto text = detail::writeNote(c, c.noteLanguage, noteRng);
  c.note = std::move(text.note);
  c.shortHistory = std::move(text.shortHistory);

  // Noise std: reference 1.5 mGy at 0.6875 x 0.6875 x 1.25 mm voxels, scaled by 1/sqrt(dose) and
  // 1/sqrt(voxel volume) (averaging); the sharp kernel roughly doubles it.
  const auto g = volumeGeometry(options_.size);
  const double voxelMm3 = g.spacingMm[0] * g.spacingMm[1] * g.spacingMm[2];
  const double refSigma = c.sharpKernel ? 55.0 : 28.0;
  c.noiseStdHu = refSigma * std::sqrt(1.5 / c.ctdiVolMgy) * std::sqrt(0.6875 * 0.6875 * 1.25 / voxelMm3);
  return c;
}

imaging::CtVolume CohortGenerator::generateVolume(const Case& record) const {
  return detail::renderVolume(record, ChestAnatomy::forCase(seed_, record.index), seed_, options_.size,
                              options_.threads);
}

Case CohortGenerator::generate(int index) const {
  Case c = generateRecord(index);
  c.volume = generateVolume(c);
  return c;
}

std::string Case::truthJson() const {
  detail::JsonWriter w;
  w.beginObject();
  w.field("generator_version", kGeneratorVersion);
  w.key("seed").raw(std::to_string(seed));
  w.field("index", index);
  w.field("study_uid", studyInstanceUid);
  w.field("series_uid", seriesInstanceUid);
  w.field("frame_of_reference_uid", frameOfReferenceUid);
  w.field("patient_id", patientId);
  w.field("patient_name", patientName);
  w.field("accession_number", accessionNumber);
  w.field("study_date", studyDate);
  w.field("kernel", kernel);
  w.key("ctdivol_mgy").value(ctdiVolMgy, 3);
  w.key("noise_std_hu").value(noiseStdHu, 3);
  w.field("cancer", cancer);
  w.key("brock_probability").value(brockProbability, 10);
  w.field("lung_rads", clinical::toString(lungRads));
  w.field("emphysema", emphysema);
  w.field("note_language", toString(noteLanguage));
  w.field("note", note);
  w.field("short_history", shortHistory);
  w.key("record").beginObject();
  w.field("age", record.ageYears);
  w.field("sex", toString(record.sex));
  w.field("family_history", record.familyHistory);
  w.field("smoking_status", toString(record.smoking));
  w.key("pack_years").value(record.packYears, 2);
  w.field("years_since_quit", record.yearsSinceQuit);
  w.field("prior_cancer", record.priorCancer);
  w.key("symptoms").beginArray();
  for (const auto& s : record.symptoms) w.value(s);
  w.endArray();
  w.endObject();
  w.key("nodules").beginArray();
  for (const auto& n : nodules) {
    w.beginObject();
    w.key("center_lps_mm").beginArray();
    for (double v : n.centerLps) w.value(v, 4);
    w.endArray();
    w.key("diameter_mm").value(n.diameterMm, 2);
    w.key("long_axis_mm").value(n.longAxisMm, 2);
    w.key("short_axis_mm").value(n.shortAxisMm, 2);
    w.key("solid_diameter_mm").value(n.solidDiameterMm, 2);
    w.field("type", toString(n.type));
    w.field("lobe", toString(n.lobe));
    w.field("spiculated", n.spiculated);
    w.field("calcified", n.calcified);
    w.key("brock_probability").value(n.brockProbability, 10);
    w.field("malignant", n.malignant);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.str();
}

std::string Case::fhirBundleJson() const {
  return detail::fhirBundle(*this);
}

}  // namespace phantom
