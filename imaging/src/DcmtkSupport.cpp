// DCMTK process-wide setup and small formatting helpers shared by the writer, index and loader.
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "Internal.h"
#include "imaging/DicomError.h"

namespace imaging::detail {

std::string formatDs(double value) {
  if (!std::isfinite(value)) value = 0;
  if (std::fabs(value) < 1e-9) value = 0;
  char buf[64];
  for (int precision = 12; precision >= 1; --precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::string(buf).size() <= 16) return buf;
  }
  return "0";
}

void ensureDcmtkCodecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs warnings about odd files on stderr by default; the library reports through exceptions.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJEncoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
  // Without its data dictionary DCMTK cannot name a single tag (e.g. DCMTK unpacked outside /usr): say so
  // once, clearly, instead of failing on the first tag of the first file.
  static const bool dictionaryLoaded = dcmDataDict.isDictionaryLoaded();
  if (!dictionaryLoaded) {
    const char* env = std::getenv("DCMDICTPATH");
    throw DicomError(std::string("DCMTK's DICOM data dictionary is not loaded (looked in ") +
                     (env ? std::string("DCMDICTPATH=") + env : std::string("DCMTK's default ") + DCM_DICT_DEFAULT_PATH) +
                     "): set DCMDICTPATH to the dicom.dic of the DCMTK installation");
  }
}

}  // namespace imaging::detail
