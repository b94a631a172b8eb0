// A minimal reader for the common case of discovery: Part-10 files in explicit or implicit VR little endian,
// including the encapsulated (compressed) transfer syntaxes, whose datasets are explicit VR little endian.
// It reads the first kilobytes once, walks the elements up to PixelData and fills the same InstanceRecord /
// SeriesAttributes as the DCMTK reader. Anything unusual (other transfer syntaxes, a header longer than the
// window, malformed lengths) returns false and the caller falls back to DCMTK, so results never depend on
// which reader ran (tests compare both).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "DicomHeader.h"

namespace imaging::detail {
namespace {

constexpr std::size_t kWindow = 16384;

std::uint16_t u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool longLengthVr(char a, char b) {
  // VRs with a 2-byte reserved field and 4-byte length in explicit VR.
  const char vr[3] = {a, b, 0};
  static const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* v : kLong)
    if (std::strcmp(v, vr) == 0) return true;
  return false;
}

std::string trimmed(std::string_view v, bool leading) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.remove_suffix(1);
  if (leading)
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return std::string(v);
}

struct Element {
  std::uint32_t tag = 0;
  char vr[2] = {0, 0};
  bool explicitVr = false;
  std::string_view value;
};

class Parser {
 public:
  Parser(const unsigned char* data, std::size_t size) : d_(data), n_(size) {}
  std::size_t pos = 0;
  bool atEnd() const { return pos >= n_; }

  /// Next element at the current level. Skips values (including undefined-length sequences).
  /// false: malformed or runs past the window.
  bool next(bool explicitVr, Element& e, bool& undefinedLength, std::uint32_t& length) {
    if (pos + 8 > n_) return false;
    const unsigned char* p = d_ + pos;
    e.tag = (static_cast<std::uint32_t>(u16(p)) << 16) | u16(p + 2);
    e.explicitVr = explicitVr;
    std::size_t header = 8;
    if (e.tag == 0xFFFEE000u || e.tag == 0xFFFEE00Du || e.tag == 0xFFFEE0DDu) {
      length = u32(p + 4);
      e.vr[0] = e.vr[1] = 0;
    } else if (explicitVr) {
      e.vr[0] = static_cast<char>(p[4]);
      e.vr[1] = static_cast<char>(p[5]);
      if (e.vr[0] < 'A' || e.vr[0] > 'Z' || e.vr[1] < 'A' || e.vr[1] > 'Z') return false;
      if (longLengthVr(e.vr[0], e.vr[1])) {
        if (pos + 12 > n_) return false;
        length = u32(p + 8);
        header = 12;
      } else {
        length = u16(p + 6);
      }
    } else {
      e.vr[0] = e.vr[1] = 0;
      length = u32(p + 4);
    }
    pos += header;
    undefinedLength = length == 0xFFFFFFFFu;
    if (!undefinedLength) {
      if (e.tag != 0x7FE00010u && pos + length > n_) return false;
      if (e.tag != 0x7FE00010u) e.value = std::string_view(reinterpret_cast<const char*>(d_ + pos), length);
    }
    return true;
  }

  /// Skips the content of an undefined-length sequence or item (nested), up to and including its delimiter.
  bool skipUndefined(bool explicitVr, int depth) {
    if (depth > 16) return false;
    for (;;) {
      Element e;
      bool undefinedLength = false;
      std::uint32_t length = 0;
      if (!next(explicitVr, e, undefinedLength, length)) return false;
      if (e.tag == 0xFFFEE00Du || e.tag == 0xFFFEE0DDu) return true;  // item / sequence delimiter
      if (e.tag == 0x7FE00010u) return false;
      if (undefinedLength) {
        if (!skipUndefined(explicitVr, depth + 1)) return false;
      } else {
        pos += length;
      }
    }
  }

 private:
  const unsigned char* d_;
  std::size_t n_;
};

bool isNumericVr(const Element& e) {
  return !e.explicitVr || (e.vr[0] == 'D' && e.vr[1] == 'S') || (e.vr[0] == 'I' && e.vr[1] == 'S');
}

const char* tagName(std::uint32_t tag) {
  switch (tag) {
    case 0x00200032u:
      return "ImagePositionPatient";
    case 0x00200037u:
      return "ImageOrientationPatient";
    case 0x00280030u:
      return "PixelSpacing";
    case 0x00180050u:
      return "SliceThickness";
    case 0x00281052u:
      return "RescaleIntercept";
    case 0x00281053u:
      return "RescaleSlope";
    case 0x00280010u:
      return "Rows";
    case 0x00280011u:
      return "Columns";
    case 0x00280002u:
      return "SamplesPerPixel";
    case 0x00280100u:
      return "BitsAllocated";
    case 0x00280101u:
      return "BitsStored";
    case 0x00280102u:
      return "HighBit";
    case 0x00280103u:
      return "PixelRepresentation";
    default:
      return "attribute";
  }
}

/// DS values; returns false (and a problem text) when the VR or the value count is wrong.
template <std::size_t N>
bool decimals(const Element& e, std::array<double, N>& out, std::string& problem, bool& present) {
  present = false;
  if (e.value.empty()) return true;  // empty: treated as absent, like the DCMTK reader
  std::string text(e.value);
  std::size_t count = 1;
  for (char c : text) count += c == '\\';
  auto fail = [&] {
    if (problem.empty()) {
      const std::string vr = e.explicitVr ? std::string(e.vr, 2) : std::string("DS");
      problem = std::string(tagName(e.tag)) + " has " + std::to_string(count) +
                " value(s) or the wrong VR (" + vr + "), " + std::to_string(N) + " numbers expected";
    }
    return false;
  };
  if (e.explicitVr && !(e.vr[0] == 'D' && e.vr[1] == 'S')) {
    if (e.vr[0] == 'F' && e.vr[1] == 'D') return false;  // binary doubles: let DCMTK read them
    return fail();
  }
  const char* p = text.c_str();
  for (std::size_t i = 0; i < N; ++i) {
    while (*p == ' ') ++p;
    char* endp = nullptr;
    const double v = std::strtod(p, &endp);
    if (endp == p || !std::isfinite(v)) return fail();
    out[i] = v;
    p = endp;
    while (*p == ' ' || *p == '\0') {
      if (*p == '\0') break;
      ++p;
    }
    if (i + 1 < N) {
      if (*p != '\\') return fail();
      ++p;
    }
  }
  present = true;
  return true;
}

}  // namespace

FastHeaderResult readHeaderFast(const std::string& path, InstanceRecord& rec, SeriesAttributes& attrs) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FastHeaderResult::NotHandled;
  unsigned char buf[kWindow];
  const ssize_t got = ::pread(fd, buf, sizeof buf, 0);
  struct stat st {};
  const bool statOk = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (got < 144 || !statOk || std::memcmp(buf + 128, "DICM", 4) != 0) return FastHeaderResult::NotHandled;
  const std::size_t n = static_cast<std::size_t>(got);
  Parser parser(buf, n);
  parser.pos = 132;
  // Meta group (always explicit VR little endian).
  std::string transferSyntax, mediaSopClass;
  for (;;) {
    if (parser.pos + 8 > n) return FastHeaderResult::NotHandled;
    if (u16(buf + parser.pos) != 0x0002) break;
    Element e;
    bool undefinedLength = false;
    std::uint32_t length = 0;
    if (!parser.next(true, e, undefinedLength, length) || undefinedLength)
      return FastHeaderResult::NotHandled;
    if (e.tag == 0x00020010u) transferSyntax = trimmed(e.value, true);
    if (e.tag == 0x00020002u) mediaSopClass = trimmed(e.value, true);
    parser.pos += length;
  }
  bool explicitVr;
  if (transferSyntax == "1.2.840.10008.1.2.1")
    explicitVr = true;
  else if (transferSyntax == "1.2.840.10008.1.2")
    explicitVr = false;
  else if (transferSyntax.rfind("1.2.840.10008.1.2.4.", 0) == 0 || transferSyntax == "1.2.840.10008.1.2.5")
    explicitVr = true;  // encapsulated (JPEG, JPEG-LS, J2K, RLE): explicit VR LE dataset, no pixel offset
  else
    return FastHeaderResult::NotHandled;
  const bool native = transferSyntax == "1.2.840.10008.1.2.1" || transferSyntax == "1.2.840.10008.1.2";

  rec = InstanceRecord{};
  attrs = SeriesAttributes{};
  rec.path = path;
  rec.transferSyntaxUid = transferSyntax;
  rec.fileSize = static_cast<std::uint64_t>(st.st_size);
  std::string& problem = rec.headerProblem;
  bool haveBitsStored = false, haveHighBit = false;
  bool havePadding = false, havePaddingRange = false;
  std::uint16_t paddingRaw = 0, paddingRangeRaw = 0;
  bool pixelData = false;
  // Like DCMTK: padding removed from each value of a multi-valued string (leading too for code strings).
  auto perValue = [](std::string_view v, bool leading) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = v.find('\\', start);
      out += trimmed(v.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start),
                     leading);
      if (end == std::string_view::npos) break;
      out += '\\';
      start = end + 1;
    }
    return out;
  };
  auto str = [&](const Element& e) {
    const bool code = e.explicitVr
                          ? (e.vr[0] == 'C' && e.vr[1] == 'S') || (e.vr[0] == 'D' && e.vr[1] == 'A') ||
                                (e.vr[0] == 'T' && e.vr[1] == 'M') || (e.vr[0] == 'A' && e.vr[1] == 'S')
                          : false;
    return perValue(e.value, code);
  };
  auto us = [&](const Element& e, int& out) {
    if (e.value.empty()) return;
    if (e.explicitVr && !((e.vr[0] == 'U' || e.vr[0] == 'S') && e.vr[1] == 'S')) {
      if (problem.empty())
        problem =
            std::string(tagName(e.tag)) + " has the wrong VR (" + std::string(e.vr, 2) + "), US expected";
      return;
    }
    if (e.value.size() < 2) return;
    const std::uint16_t v = u16(reinterpret_cast<const unsigned char*>(e.value.data()));
    out = (e.explicitVr && e.vr[0] == 'S') ? static_cast<int16_t>(v) : v;
  };
  auto is = [](const Element& e, int& out) {
    const std::string t = trimmed(e.value, true);
    if (t.empty()) return;
    char* endp = nullptr;
    const long v = std::strtol(t.c_str(), &endp, 10);
    if (endp != t.c_str()) out = static_cast<int>(v);
  };
  for (;;) {
    if (parser.atEnd()) break;
    Element e;
    bool undefinedLength = false;
    std::uint32_t length = 0;
    if (!parser.next(explicitVr, e, undefinedLength, length)) {
      if (rec.fileSize <= n && parser.pos >= n) break;  // whole (small) file read: no pixel data
      return FastHeaderResult::NotHandled;
    }
    if (e.tag == 0x7FE00010u) {
      pixelData = true;
      if (native && !undefinedLength && (rec.bitsAllocated == 8 || rec.bitsAllocated == 16)) {
        const std::uint64_t expected = static_cast<std::uint64_t>(rec.rows) *
                                       static_cast<std::uint64_t>(rec.columns) *
                                       static_cast<std::uint64_t>(std::max(1, rec.frames)) *
                                       static_cast<std::uint64_t>(std::max(1, rec.samplesPerPixel)) *
                                       static_cast<std::uint64_t>(rec.bitsAllocated / 8);
        if (expected > 0 && (length == expected || length == expected + (expected & 1u)))
          rec.pixelDataOffset = static_cast<std::int64_t>(parser.pos);
      }
      break;
    }
    if (undefinedLength) {
      if (!parser.skipUndefined(explicitVr, 0)) return FastHeaderResult::NotHandled;
      continue;
    }
    parser.pos += length;
    if ((e.tag >> 16) > 0x0028 && (e.tag >> 16) < 0x7FE0) continue;
    // Standard attributes stored as UN: DCMTK's interpretation is the reference, let it read the file.
    if (e.explicitVr && e.vr[0] == 'U' && e.vr[1] == 'N' && ((e.tag >> 16) & 1u) == 0)
      return FastHeaderResult::NotHandled;
    // Implicit VR: only the attributes we know are interpreted, with their dictionary VR.
    const auto needs3 = [&](std::array<double, 3>& v, bool& flag) {
      bool present = false;
      if (decimals<3>(e, v, problem, present)) flag = present;
    };
    switch (e.tag) {
      case 0x00080008u:
        rec.imageType = attrs.imageType = str(e);
        break;
      case 0x00080016u:
        rec.sopClassUid = attrs.sopClassUid = trimmed(e.value, true);
        break;
      case 0x00080018u:
        rec.sopInstanceUid = trimmed(e.value, true);
        break;
      case 0x00080020u:
        attrs.studyDate = str(e);
        break;
      case 0x00080021u:
        attrs.seriesDate = str(e);
        break;
      case 0x00080030u:
        attrs.studyTime = str(e);
        break;
      case 0x00080031u:
        attrs.seriesTime = str(e);
        break;
      case 0x00080050u:
        attrs.accessionNumber = str(e);
        break;
      case 0x00080060u:
        attrs.modality = str(e);
        break;
      case 0x00080070u:
        attrs.manufacturer = str(e);
        break;
      case 0x00081030u:
        attrs.studyDescription = str(e);
        break;
      case 0x0008103Eu:
        attrs.seriesDescription = str(e);
        break;
      case 0x00100010u:
        rec.patientName = attrs.patientName = str(e);
        break;
      case 0x00100020u:
        rec.patientId = attrs.patientId = str(e);
        break;
      case 0x00100030u:
        attrs.patientBirthDate = str(e);
        break;
      case 0x00100040u:
        attrs.patientSex = str(e);
        break;
      case 0x00101010u:
        attrs.patientAge = str(e);
        break;
      case 0x001021B0u:
        attrs.additionalPatientHistory = str(e);
        break;
      case 0x00180015u:
        attrs.bodyPartExamined = str(e);
        break;
      case 0x00180050u: {
        std::array<double, 1> v{};
        bool present = false;
        if (decimals<1>(e, v, problem, present) && present)
          rec.sliceThicknessMm = attrs.sliceThicknessMm = v[0];
        break;
      }
      case 0x00181210u:
        attrs.convolutionKernel = str(e);
        break;
      case 0x0020000Du:
        attrs.studyInstanceUid = trimmed(e.value, true);
        break;
      case 0x0020000Eu:
        attrs.seriesInstanceUid = trimmed(e.value, true);
        break;
      case 0x00200011u:
        is(e, attrs.seriesNumber);
        break;
      case 0x00200013u:
        is(e, rec.instanceNumber);
        break;
      case 0x00200032u:
        needs3(rec.positionLps, rec.hasPosition);
        break;
      case 0x00200037u: {
        std::array<double, 6> v{};
        bool present = false;
        if (decimals<6>(e, v, problem, present) && present) {
          rec.orientation = v;
          rec.hasOrientation = true;
        }
        break;
      }
      case 0x00200052u:
        attrs.frameOfReferenceUid = trimmed(e.value, true);
        break;
      case 0x00280002u:
        us(e, rec.samplesPerPixel);
        break;
      case 0x00280004u:
        rec.photometricInterpretation = trimmed(e.value, true);
        break;
      case 0x00280008u:
        is(e, rec.frames);
        break;
      case 0x00280010u:
        us(e, rec.rows);
        break;
      case 0x00280011u:
        us(e, rec.columns);
        break;
      case 0x00280030u: {
        std::array<double, 2> v{};
        bool present = false;
        if (decimals<2>(e, v, problem, present) && present) {
          rec.pixelSpacingMm = v;
          rec.hasPixelSpacing = true;
        }
        break;
      }
      case 0x00280100u:
        us(e, rec.bitsAllocated);
        break;
      case 0x00280101u:
        haveBitsStored = !e.value.empty();
        us(e, rec.bitsStored);
        break;
      case 0x00280102u:
        haveHighBit = !e.value.empty();
        us(e, rec.highBit);
        break;
      case 0x00280103u:
        us(e, rec.pixelRepresentation);
        break;
      case 0x00280120u:
        if (e.value.size() >= 2) {
          havePadding = true;
          paddingRaw = u16(reinterpret_cast<const unsigned char*>(e.value.data()));
        }
        break;
      case 0x00280121u:
        if (e.value.size() >= 2) {
          havePaddingRange = true;
          paddingRangeRaw = u16(reinterpret_cast<const unsigned char*>(e.value.data()));
        }
        break;
      case 0x00281052u: {
        std::array<double, 1> v{};
        bool present = false;
        if (decimals<1>(e, v, problem, present) && present) rec.rescaleIntercept = v[0];
        break;
      }
      case 0x00281053u: {
        std::array<double, 1> v{};
        bool present = false;
        if (decimals<1>(e, v, problem, present) && present) rec.rescaleSlope = v[0];
        break;
      }
      default:
        break;
    }
    (void)isNumericVr;
  }
  if (!pixelData && rec.fileSize > n) return FastHeaderResult::NotHandled;  // header longer than the window
  if (rec.sopClassUid.empty()) rec.sopClassUid = attrs.sopClassUid = mediaSopClass;
  if (!haveBitsStored) rec.bitsStored = rec.bitsAllocated;
  if (!haveHighBit) rec.highBit = rec.bitsStored - 1;
  const auto interpret = [&](std::uint16_t raw) {
    return rec.pixelRepresentation == 1 ? static_cast<std::int32_t>(static_cast<int16_t>(raw))
                                        : static_cast<std::int32_t>(raw);
  };
  if (havePadding) {
    rec.hasPixelPadding = true;
    rec.pixelPaddingValue = interpret(paddingRaw);
  }
  if (havePaddingRange) {
    rec.hasPixelPaddingRange = true;
    rec.pixelPaddingRangeLimit = interpret(paddingRangeRaw);
  }
  attrs.patientId = rec.patientId;
  attrs.patientName = rec.patientName;
  attrs.rows = rec.rows;
  attrs.columns = rec.columns;
  attrs.sliceThicknessMm = rec.sliceThicknessMm;
  attrs.isDicomdir = mediaSopClass == "1.2.840.10008.1.3.10";
  return FastHeaderResult::Parsed;
}

}  // namespace imaging::detail
