// FHIR R4 Bundle (type collection) of a case's patient record, hand-written with JsonWriter.
// Codes: LOINC 72166-2 (tobacco smoking status) with SNOMED CT never/former/current smoker answers,
// LOINC 8664-5 (cigarettes smoked total, pack-years) + SNOMED CT 401201003 (cigarette pack-years),
// LOINC 74010-0 (date quit tobacco smoking), SNOMED CT 363358000 (malignant tumor of lung) for the family
// history, 363346000 (malignant neoplastic disease) for prior cancer (verificationStatus refuted when the
// record negates it) and SNOMED CT findings for symptoms.
#include <algorithm>
#include <cstdio>

#include "Internal.h"
#include "JsonWriter.h"

namespace phantom::detail {
namespace {

void coding(JsonWriter& w, const char* system, const std::string& code, const std::string& display) {
  w.beginObject().field("system", system).field("code", code).field("display", display).endObject();
}

void codeableConcept(JsonWriter& w, const char* system, const std::string& code, const std::string& display,
                     const std::string& text = {}) {
  w.beginObject().key("coding").beginArray();
  coding(w, system, code, display);
  w.endArray();
  if (!text.empty()) w.field("text", text);
  w.endObject();
}

const char* kLoinc = "http://loinc.org";
const char* kSnomed = "http://snomed.info/sct";

void socialHistoryCategory(JsonWriter& w) {
  w.key("category").beginArray();
  codeableConcept(w, "http://terminology.hl7.org/CodeSystem/observation-category", "social-history",
                  "Social History");
  w.endArray();
}

struct Symptom {
  const char* key;
  const char* code;
  const char* display;
};
const Symptom kSymptoms[] = {{"cough", "49727002", "Cough"},
                             {"hemoptysis", "66857006", "Hemoptysis"},
                             {"weight_loss", "89362005", "Weight loss"},
                             {"dyspnea", "267036007", "Dyspnea"},
                             {"chest_pain", "29857009", "Chest pain"}};

}  // namespace

std::string fhirBundle(const Case& c) {
  const auto& rec = c.record;
  const std::string date =
      c.studyDate.size() == 8
          ? c.studyDate.substr(0, 4) + "-" + c.studyDate.substr(4, 2) + "-" + c.studyDate.substr(6, 2)
          : c.studyDate;
  const int sy = std::stoi(c.studyDate.substr(0, 4));
  const std::string patientUrl = "urn:uuid:" + deterministicUuid(c.seed, c.index, "fhir-patient");
  auto entryUrl = [&](const std::string& what) {
    return "urn:uuid:" + deterministicUuid(c.seed, c.index, what);
  };

  JsonWriter w;
  w.beginObject();
  w.field("resourceType", "Bundle");
  w.field("id", deterministicUuid(c.seed, c.index, "fhir-bundle"));
  w.field("type", "collection");
  w.field("timestamp", date + "T" + c.studyTime.substr(0, 2) + ":" + c.studyTime.substr(2, 2) + ":" +
                           c.studyTime.substr(4, 2) + "Z");
  w.key("entry").beginArray();

  auto beginEntry = [&](const std::string& url, const char* type) {
    w.beginObject().field("fullUrl", url).key("resource").beginObject().field("resourceType", type);
    w.field("id", url.substr(9));
  };
  auto endEntry = [&]() { w.endObject().endObject(); };
  auto subject = [&](const char* key = "subject") {
    w.key(key).beginObject().field("reference", patientUrl).endObject();
  };

  // Patient
  beginEntry(patientUrl, "Patient");
  w.key("identifier")
      .beginArray()
      .beginObject()
      .field("system", "urn:medseek:phantom:patient-id")
      .field("value", c.patientId)
      .endObject()
      .endArray();
  {
    const auto caret = c.patientName.find('^');
    w.key("name").beginArray().beginObject().field("family", c.patientName.substr(0, caret));
    w.key("given")
        .beginArray()
        .value(caret == std::string::npos ? "" : c.patientName.substr(caret + 1))
        .endArray();
    w.endObject().endArray();
  }
  w.field("gender", rec.sex == Sex::Male ? "male" : "female");
  w.field("birthDate", c.patientBirthDate.substr(0, 4) + "-" + c.patientBirthDate.substr(4, 2) + "-" +
                           c.patientBirthDate.substr(6, 2));
  endEntry();

  // Smoking status
  beginEntry(entryUrl("fhir-smoking-status"), "Observation");
  w.field("status", "final");
  socialHistoryCategory(w);
  w.key("code");
  codeableConcept(w, kLoinc, "72166-2", "Tobacco smoking status");
  subject();
  w.field("effectiveDateTime", date);
  w.key("valueCodeableConcept");
  if (rec.smoking == SmokingStatus::Never) codeableConcept(w, kSnomed, "266919005", "Never smoked tobacco");
  if (rec.smoking == SmokingStatus::Former) codeableConcept(w, kSnomed, "8517006", "Ex-smoker");
  if (rec.smoking == SmokingStatus::Current) codeableConcept(w, kSnomed, "77176002", "Smoker");
  endEntry();

  // Pack-years
  beginEntry(entryUrl("fhir-pack-years"), "Observation");
  w.field("status", "final");
  socialHistoryCategory(w);
  w.key("code").beginObject().key("coding").beginArray();
  coding(w, kLoinc, "8664-5", "Cigarettes smoked total (pack per year) - Reported");
  coding(w, kSnomed, "401201003", "Cigarette pack-years");
  w.endArray().endObject();
  subject();
  w.field("effectiveDateTime", date);
  w.key("valueQuantity").beginObject();
  w.key("value").value(rec.packYears, 2);
  w.field("unit", "pack-years").field("system", "http://unitsofmeasure.org").field("code", "{pack-years}");
  w.endObject();
  endEntry();

  // Quit date (former smokers)
  if (rec.smoking == SmokingStatus::Former) {
    beginEntry(entryUrl("fhir-quit-date"), "Observation");
    w.field("status", "final");
    socialHistoryCategory(w);
    w.key("code");
    codeableConcept(w, kLoinc, "74010-0", "Date quit tobacco smoking");
    subject();
    w.field("effectiveDateTime", date);
    w.field("valueDateTime", std::to_string(sy - rec.yearsSinceQuit));
    endEntry();
  }

  // Family history of lung cancer: a record with the condition, or a completed record without it.
  beginEntry(entryUrl("fhir-family-history"), "FamilyMemberHistory");
  w.field("status", "completed");
  w.key("patient").beginObject().field("reference", patientUrl).endObject();
  w.field("date", date);
  w.key("relationship");
  if (rec.familyHistory) {
    const std::string& rel = rec.familyRelative;
    const char* code = rel == "father" ? "FTH" : rel == "mother" ? "MTH" : rel == "brother" ? "BRO" : "SIS";
    codeableConcept(w, "http://terminology.hl7.org/CodeSystem/v3-RoleCode", code, rel);
    w.key("condition").beginArray().beginObject().key("code");
    codeableConcept(w, kSnomed, "363358000", "Malignant tumor of lung", "lung cancer");
    w.endObject().endArray();
  } else {
    codeableConcept(w, "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "FAMMEMB", "family member");
    w.key("note")
        .beginArray()
        .beginObject()
        .field("text", "No lung cancer in first-degree relatives (family history of lung cancer negated).")
        .endObject()
        .endArray();
  }
  endEntry();

  // Prior (non-lung) cancer: confirmed, or refuted when the record negates it.
  beginEntry(entryUrl("fhir-prior-cancer"), "Condition");
  w.key("clinicalStatus");
  codeableConcept(w, "http://terminology.hl7.org/CodeSystem/condition-clinical",
                  rec.priorCancer ? "resolved" : "inactive", rec.priorCancer ? "Resolved" : "Inactive");
  w.key("verificationStatus");
  codeableConcept(w, "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                  rec.priorCancer ? "confirmed" : "refuted", rec.priorCancer ? "Confirmed" : "Refuted");
  w.key("code");
  codeableConcept(w, kSnomed, "363346000", "Malignant neoplastic disease",
                  rec.priorCancer ? "history of " + rec.priorCancerSite + " cancer" : "no prior cancer");
  subject();
  w.field("recordedDate", date);
  endEntry();

  // Symptoms: one Condition each (present: confirmed; absent: refuted).
  for (const auto& s : kSymptoms) {
    const bool has = std::find(rec.symptoms.begin(), rec.symptoms.end(), s.key) != rec.symptoms.end();
    beginEntry(entryUrl(std::string("fhir-symptom-") + s.key), "Condition");
    w.key("clinicalStatus");
    codeableConcept(w, "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    has ? "active" : "inactive", has ? "Active" : "Inactive");
    w.key("verificationStatus");
    codeableConcept(w, "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    has ? "confirmed" : "refuted", has ? "Confirmed" : "Refuted");
    w.key("category").beginArray();
    codeableConcept(w, "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item",
                    "Problem List Item");
    w.endArray();
    w.key("code");
    codeableConcept(w, kSnomed, s.code, s.display);
    subject();
    w.field("recordedDate", date);
    endEntry();
  }

  w.endArray();
  w.endObject();
  return w.str();
}

}  // namespace phantom::detail
