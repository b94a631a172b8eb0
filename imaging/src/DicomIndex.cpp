// Header-only discovery with DCMTK: sniff 132 bytes, parse up to PixelData, verify the native pixel offset.
#include "imaging/DicomIndex.h"

#include <dcmtk/dcmdata/dctk.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "DicomHeader.h"
#include "Internal.h"
#include "imaging/DicomError.h"

namespace imaging {
namespace fs = std::filesystem;

std::string SeriesEntry::label() const {
  std::string s = "series " + std::to_string(seriesNumber);
  if (!seriesDescription.empty()) s += " \"" + seriesDescription + "\"";
  s += " (" + (seriesInstanceUid.empty() ? std::string("no SeriesInstanceUID") : seriesInstanceUid) + ")";
  return s;
}

std::size_t SeriesEntry::frameCount() const {
  std::size_t n = 0;
  for (const auto& i : instances) n += static_cast<std::size_t>(std::max(1, i.frames));
  return n;
}

std::vector<const SeriesEntry*> DicomIndex::allSeries() const {
  std::vector<const SeriesEntry*> out;
  for (const auto& p : patients)
    for (const auto& st : p.studies)
      for (const auto& se : st.series) out.push_back(&se);
  return out;
}

const SeriesEntry* DicomIndex::findSeries(const std::string& uid) const {
  for (const auto* s : allSeries())
    if (s->seriesInstanceUid == uid) return s;
  return nullptr;
}

namespace detail {

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool isUpper(unsigned char c) {
  return c >= 'A' && c <= 'Z';
}

std::string str(DcmItem* ds, const DcmTagKey& key) {
  OFString v;
  if (ds->findAndGetOFStringArray(key, v).good()) return v.c_str();
  return {};
}

/// Reads `count` numbers of a DS/FD attribute. nullopt: absent. Sets problem when present but unusable.
template <std::size_t N>
std::optional<std::array<double, N>> numbers(DcmItem* ds, const DcmTagKey& key, std::string& problem) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(key, e).bad() || !e || e->getLength() == 0) return std::nullopt;
  std::array<double, N> v{};
  for (std::size_t i = 0; i < N; ++i) {
    Float64 f = 0;
    if (e->getFloat64(f, static_cast<unsigned long>(i)).bad() || !std::isfinite(f)) {
      if (problem.empty())
        problem = std::string(DcmTag(key).getTagName()) + " has " + std::to_string(e->getVM()) +
                  " value(s) or the wrong VR (" + DcmVR(e->getVR()).getVRName() + "), " + std::to_string(N) +
                  " numbers expected";
      return std::nullopt;
    }
    v[i] = f;
  }
  return v;
}

int uint16Attr(DcmItem* ds, const DcmTagKey& key, int fallback, std::string& problem) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(key, e).bad() || !e || e->getLength() == 0) return fallback;
  Uint16 v = 0;
  if (e->getUint16(v).good()) return v;
  Sint16 s = 0;
  if (e->getSint16(s).good()) return s;
  if (problem.empty())
    problem = std::string(DcmTag(key).getTagName()) + " has the wrong VR (" + DcmVR(e->getVR()).getVRName() +
              "), US expected";
  return fallback;
}

bool paddingAttr(DcmItem* ds, const DcmTagKey& key, int pixelRepresentation, std::int32_t& out) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(key, e).bad() || !e || e->getLength() == 0) return false;
  Uint16 u = 0;
  Sint16 s = 0;
  if (e->getUint16(u).good()) {
  } else if (e->getSint16(s).good()) {
    u = static_cast<Uint16>(s);
  } else {
    return false;
  }
  out = pixelRepresentation == 1 ? static_cast<std::int32_t>(static_cast<int16_t>(u))
                                 : static_cast<std::int32_t>(u);
  return true;
}

}  // namespace

SniffResult sniffDicom(const std::string& path) {
  Fd f(path);
  if (f.fd < 0) return SniffResult::Unreadable;
  unsigned char b[132];
  const ssize_t n = ::pread(f.fd, b, sizeof b, 0);
  if (n >= 132 && std::memcmp(b + 128, "DICM", 4) == 0) return SniffResult::Part10;
  if (n < 8) return SniffResult::NotDicom;
  // No preamble: a dataset that starts with group 0x0008 (or a meta group 0x0002), implicit or explicit VR
  // LE. Explicit VR big endian without meta header: (0008,xxxx) stored as 00 08 .. .. 'C' 'S'.
  if (b[0] == 0x00 && b[1] == 0x08 && b[2] == 0x00 && isUpper(b[4]) && isUpper(b[5]))
    return SniffResult::Bare;
  const unsigned group = b[0] | (b[1] << 8);
  const unsigned element = b[2] | (b[3] << 8);
  if (group != 0x0008 && group != 0x0002) return SniffResult::NotDicom;
  if (element > 0x0100) return SniffResult::NotDicom;
  if (isUpper(b[4]) && isUpper(b[5])) return SniffResult::Bare;  // explicit VR
  const std::uint32_t len = le32(b + 4);
  if (len > 1024 && len != 0xFFFFFFFFu) return SniffResult::NotDicom;  // header elements are short
  return SniffResult::Bare;
}

bool readHeader(const std::string& path, InstanceRecord& rec, SeriesAttributes& attrs, std::string& error) {
  DcmFileFormat ff;
  const OFCondition c =
      ff.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_PixelData);
  if (c.bad()) {
    error = c.text();
    return false;
  }
  DcmDataset* ds = ff.getDataset();
  DcmMetaInfo* meta = ff.getMetaInfo();
  rec.path = path;
  std::string& problem = rec.headerProblem;
  rec.sopClassUid = str(ds, DCM_SOPClassUID);
  if (rec.sopClassUid.empty() && meta) rec.sopClassUid = str(meta, DCM_MediaStorageSOPClassUID);
  rec.sopInstanceUid = str(ds, DCM_SOPInstanceUID);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  rec.transferSyntaxUid = DcmXfer(xfer).getXferID();
  rec.patientId = str(ds, DCM_PatientID);
  rec.patientName = str(ds, DCM_PatientName);
  Sint32 inst = 0;
  if (ds->findAndGetSint32(DCM_InstanceNumber, inst).good()) rec.instanceNumber = inst;
  if (auto v = numbers<3>(ds, DCM_ImagePositionPatient, problem)) {
    rec.positionLps = *v;
    rec.hasPosition = true;
  }
  if (auto v = numbers<6>(ds, DCM_ImageOrientationPatient, problem)) {
    std::copy(v->begin(), v->end(), rec.orientation.begin());
    rec.hasOrientation = true;
  }
  if (auto v = numbers<2>(ds, DCM_PixelSpacing, problem)) {
    rec.pixelSpacingMm = *v;
    rec.hasPixelSpacing = true;
  }
  if (auto v = numbers<1>(ds, DCM_SliceThickness, problem)) rec.sliceThicknessMm = (*v)[0];
  rec.rows = uint16Attr(ds, DCM_Rows, 0, problem);
  rec.columns = uint16Attr(ds, DCM_Columns, 0, problem);
  rec.samplesPerPixel = uint16Attr(ds, DCM_SamplesPerPixel, 1, problem);
  rec.bitsAllocated = uint16Attr(ds, DCM_BitsAllocated, 0, problem);
  rec.bitsStored = uint16Attr(ds, DCM_BitsStored, rec.bitsAllocated, problem);
  rec.highBit = uint16Attr(ds, DCM_HighBit, rec.bitsStored - 1, problem);
  rec.pixelRepresentation = uint16Attr(ds, DCM_PixelRepresentation, 0, problem);
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good()) rec.frames = frames;
  rec.photometricInterpretation = str(ds, DCM_PhotometricInterpretation);
  rec.imageType = str(ds, DCM_ImageType);
  if (auto v = numbers<1>(ds, DCM_RescaleSlope, problem)) rec.rescaleSlope = (*v)[0];
  if (auto v = numbers<1>(ds, DCM_RescaleIntercept, problem)) rec.rescaleIntercept = (*v)[0];
  rec.hasPixelPadding =
      paddingAttr(ds, DCM_PixelPaddingValue, rec.pixelRepresentation, rec.pixelPaddingValue);
  rec.hasPixelPaddingRange =
      paddingAttr(ds, DCM_PixelPaddingRangeLimit, rec.pixelRepresentation, rec.pixelPaddingRangeLimit);

  attrs.patientId = rec.patientId;
  attrs.patientName = rec.patientName;
  attrs.patientSex = str(ds, DCM_PatientSex);
  attrs.patientAge = str(ds, DCM_PatientAge);
  attrs.patientBirthDate = str(ds, DCM_PatientBirthDate);
  attrs.studyInstanceUid = str(ds, DCM_StudyInstanceUID);
  attrs.studyDate = str(ds, DCM_StudyDate);
  attrs.studyTime = str(ds, DCM_StudyTime);
  attrs.studyDescription = str(ds, DCM_StudyDescription);
  attrs.accessionNumber = str(ds, DCM_AccessionNumber);
  attrs.seriesInstanceUid = str(ds, DCM_SeriesInstanceUID);
  attrs.seriesDate = str(ds, DCM_SeriesDate);
  attrs.seriesTime = str(ds, DCM_SeriesTime);
  attrs.modality = str(ds, DCM_Modality);
  attrs.seriesDescription = str(ds, DCM_SeriesDescription);
  attrs.bodyPartExamined = str(ds, DCM_BodyPartExamined);
  attrs.convolutionKernel = str(ds, DCM_ConvolutionKernel);
  attrs.imageType = rec.imageType;
  attrs.sopClassUid = rec.sopClassUid;
  attrs.frameOfReferenceUid = str(ds, DCM_FrameOfReferenceUID);
  attrs.additionalPatientHistory = str(ds, DCM_AdditionalPatientHistory);
  attrs.manufacturer = str(ds, DCM_Manufacturer);
  Sint32 seriesNumber = 0;
  if (ds->findAndGetSint32(DCM_SeriesNumber, seriesNumber).good()) attrs.seriesNumber = seriesNumber;
  attrs.rows = rec.rows;
  attrs.columns = rec.columns;
  attrs.sliceThicknessMm = rec.sliceThicknessMm;
  if (meta && str(meta, DCM_MediaStorageSOPClassUID) == UID_MediaStorageDirectoryStorage)
    attrs.isDicomdir = true;

  // Native little-endian pixel data that ends the file: verify the element header just before it.
  const bool nativeLe = xfer == EXS_LittleEndianExplicit || xfer == EXS_LittleEndianImplicit;
  if (nativeLe && rec.rows > 0 && rec.columns > 0 && rec.frames >= 1 && rec.samplesPerPixel >= 1 &&
      (rec.bitsAllocated == 8 || rec.bitsAllocated == 16)) {
    const std::uint64_t length =
        static_cast<std::uint64_t>(rec.rows) * static_cast<std::uint64_t>(rec.columns) *
        static_cast<std::uint64_t>(rec.frames) * static_cast<std::uint64_t>(rec.samplesPerPixel) *
        static_cast<std::uint64_t>(rec.bitsAllocated / 8);
    const std::uint64_t padded = length + (length & 1u);
    Fd f(path);
    struct stat st {};
    if (f.fd >= 0 && ::fstat(f.fd, &st) == 0) {
      rec.fileSize = static_cast<std::uint64_t>(st.st_size);
      const bool explicitVr = xfer == EXS_LittleEndianExplicit;
      const std::uint64_t headerLen = explicitVr ? 12 : 8;
      if (rec.fileSize >= padded + headerLen && padded < 0xFFFFFFFFull) {
        const std::uint64_t offset = rec.fileSize - padded;
        unsigned char h[12];
        if (::pread(f.fd, h, headerLen, static_cast<off_t>(offset - headerLen)) ==
                static_cast<ssize_t>(headerLen) &&
            h[0] == 0xE0 && h[1] == 0x7F && h[2] == 0x10 && h[3] == 0x00) {
          bool ok;
          if (explicitVr)
            ok = h[4] == 'O' && (h[5] == 'W' || h[5] == 'B') && h[6] == 0 && h[7] == 0 &&
                 le32(h + 8) == padded;
          else
            ok = le32(h + 4) == padded;
          if (ok) rec.pixelDataOffset = static_cast<std::int64_t>(offset);
        }
      }
    }
  }
  return true;
}

std::vector<std::string> dicomdirReferences(const std::string& dicomdirPath,
                                            std::vector<std::string>& problems) {
  DcmFileFormat ff;
  const OFCondition c = ff.loadFile(dicomdirPath.c_str());
  if (c.bad()) throw DicomError(dicomdirPath + ": cannot read the DICOMDIR (" + std::string(c.text()) + ")");
  DcmSequenceOfItems* records = nullptr;
  if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || !records)
    throw DicomError(dicomdirPath + ": DICOMDIR has no DirectoryRecordSequence");
  const fs::path base = fs::path(dicomdirPath).parent_path();
  std::vector<std::string> files;
  for (unsigned long i = 0; i < records->card(); ++i) {
    DcmItem* item = records->getItem(i);
    OFString id;
    if (item->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() || id.empty()) continue;
    fs::path p = base;
    std::string part;
    for (char ch : std::string(id.c_str()) + "\\") {
      if (ch == '\\') {
        if (!part.empty()) p /= part;
        part.clear();
      } else {
        part += ch;
      }
    }
    if (fs::is_regular_file(p)) {
      files.push_back(p.string());
    } else {
      problems.push_back(dicomdirPath + ": referenced file " + p.string() + " is missing");
    }
  }
  return files;
}

}  // namespace detail

DicomIndex DicomIndex::scan(const std::vector<std::string>& paths, const ScanOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  detail::ensureDcmtkCodecs();  // also quiets DCMTK's logger before the first parse
  DicomIndex index;
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw DicomError(path + ": no such file or folder");
    if (fs::is_directory(status)) {
      std::vector<std::string> found;
      for (auto it =
               fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fileEc;
        if (it->is_regular_file(fileEc)) found.push_back(it->path().string());
      }
      if (ec) index.problems.push_back(path + ": folder listing stopped (" + ec.message() + ")");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      std::string name = fs::path(path).filename().string();
      std::transform(name.begin(), name.end(), name.begin(), ::toupper);
      bool isDicomdir = name == "DICOMDIR";
      if (!isDicomdir && detail::sniffDicom(path) == detail::SniffResult::Part10) {
        InstanceRecord rec;
        detail::SeriesAttributes attrs;
        std::string error;
        isDicomdir = detail::readHeader(path, rec, attrs, error) && attrs.isDicomdir;
      }
      if (isDicomdir) {
        ++index.filesScanned;
        ++index.dicomFiles;
        const auto refs = detail::dicomdirReferences(path, index.problems);
        files.insert(files.end(), refs.begin(), refs.end());
      } else {
        files.push_back(path);
      }
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  detail::ensureDcmtkCodecs();

  struct Slot {
    detail::SniffResult sniff = detail::SniffResult::NotDicom;
    bool parsed = false;
    InstanceRecord rec;
    detail::SeriesAttributes attrs;
    std::string error;
  };
  std::vector<Slot> slots(files.size());
  detail::parallelFor(files.size(), options.threads, [&](std::size_t i) {
    Slot& s = slots[i];
    // The fast reader checks the 'DICM' marker itself, so a file it parses needs no separate sniff
    // (one open and read per file instead of two).
    if (options.fastHeaderReader &&
        detail::readHeaderFast(files[i], s.rec, s.attrs) == detail::FastHeaderResult::Parsed) {
      s.sniff = detail::SniffResult::Part10;
      s.parsed = true;
      return;
    }
    s.sniff = detail::sniffDicom(files[i]);
    if (s.sniff == detail::SniffResult::Part10 || s.sniff == detail::SniffResult::Bare) {
      s.rec = InstanceRecord{};
      s.attrs = detail::SeriesAttributes{};
      s.parsed = detail::readHeader(files[i], s.rec, s.attrs, s.error);
    }
  });

  // Group: series UID -> entry; then series -> study -> patient.
  std::map<std::string, SeriesEntry> bySeries;
  std::vector<std::string> seriesOrder;
  for (std::size_t i = 0; i < files.size(); ++i) {
    Slot& s = slots[i];
    ++index.filesScanned;
    if (s.sniff == detail::SniffResult::NotDicom) {
      ++index.nonDicomFiles;
      continue;
    }
    if (s.sniff == detail::SniffResult::Unreadable) {
      index.problems.push_back(files[i] + ": cannot open the file");
      continue;
    }
    if (!s.parsed) {
      index.problems.push_back(files[i] + ": not readable as DICOM (" + s.error + ")");
      continue;
    }
    ++index.dicomFiles;
    if (s.attrs.isDicomdir) continue;  // its references are reached through the folder walk or explicitly
    const auto& a = s.attrs;
    const std::string key = a.seriesInstanceUid.empty()
                                ? "(no SeriesInstanceUID) " + fs::path(files[i]).parent_path().string()
                                : a.seriesInstanceUid;
    auto [it, inserted] = bySeries.try_emplace(key);
    SeriesEntry& e = it->second;
    if (inserted) {
      seriesOrder.push_back(key);
      e.patientId = a.patientId;
      e.patientName = a.patientName;
      e.patientSex = a.patientSex;
      e.patientAge = a.patientAge;
      e.patientBirthDate = a.patientBirthDate;
      e.studyInstanceUid = a.studyInstanceUid;
      e.studyDate = a.studyDate;
      e.studyTime = a.studyTime;
      e.studyDescription = a.studyDescription;
      e.accessionNumber = a.accessionNumber;
      e.seriesInstanceUid = a.seriesInstanceUid;
      e.seriesDate = a.seriesDate;
      e.seriesTime = a.seriesTime;
      e.modality = a.modality;
      e.seriesDescription = a.seriesDescription;
      e.bodyPartExamined = a.bodyPartExamined;
      e.convolutionKernel = a.convolutionKernel;
      e.imageType = a.imageType;
      e.sopClassUid = a.sopClassUid;
      e.frameOfReferenceUid = a.frameOfReferenceUid;
      e.additionalPatientHistory = a.additionalPatientHistory;
      e.manufacturer = a.manufacturer;
      e.seriesNumber = a.seriesNumber;
      e.rows = a.rows;
      e.columns = a.columns;
      e.sliceThicknessMm = a.sliceThicknessMm;
    }
    e.instances.push_back(std::move(s.rec));
  }

  std::map<std::string, PatientEntry> byPatient;
  for (const auto& key : seriesOrder) {
    SeriesEntry& e = bySeries[key];
    const std::string patientKey = e.patientId + "\x1f" + e.patientName;
    PatientEntry& p = byPatient[patientKey];
    if (p.studies.empty()) {
      p.patientId = e.patientId;
      p.patientName = e.patientName;
      p.patientSex = e.patientSex;
      p.patientAge = e.patientAge;
      p.patientBirthDate = e.patientBirthDate;
    }
    auto st = std::find_if(p.studies.begin(), p.studies.end(),
                           [&](const StudyEntry& s) { return s.studyInstanceUid == e.studyInstanceUid; });
    if (st == p.studies.end()) {
      StudyEntry study;
      study.studyInstanceUid = e.studyInstanceUid;
      study.studyDate = e.studyDate;
      study.studyTime = e.studyTime;
      study.studyDescription = e.studyDescription;
      study.accessionNumber = e.accessionNumber;
      p.studies.push_back(std::move(study));
      st = std::prev(p.studies.end());
    }
    st->series.push_back(std::move(e));
  }
  for (auto& [key, p] : byPatient) {
    std::stable_sort(p.studies.begin(), p.studies.end(), [](const StudyEntry& a, const StudyEntry& b) {
      return a.studyDate + a.studyTime < b.studyDate + b.studyTime;
    });
    for (auto& st : p.studies)
      std::stable_sort(st.series.begin(), st.series.end(), [](const SeriesEntry& a, const SeriesEntry& b) {
        return a.seriesNumber < b.seriesNumber;
      });
    index.patients.push_back(std::move(p));
  }
  index.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return index;
}

}  // namespace imaging
