#include "multimodal/WeightsFile.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "MiniJson.h"
#include "TemporaryPath.h"
#include "multimodal/ModelError.h"

namespace multimodal {
namespace {
const char* dtypeName(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::I64: return "I64";
  }
  return "?";
}
DType dtypeFromName(const std::string& s) {
  if (s == "F32") return DType::F32;
  if (s == "F16") return DType::F16;
  if (s == "I64") return DType::I64;
  throw ModelError("unknown tensor dtype '" + s + "'");
}
}  // namespace

std::size_t dtypeSize(DType t) { return t == DType::F16 ? 2 : (t == DType::F32 ? 4 : 8); }

const TensorBlob* WeightsFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string fnv1a64Hex(const void* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::uint16_t floatToHalf(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t mant = x & 0x7FFFFFu;
  const int exp = static_cast<int>((x >> 23) & 0xFF);
  if (exp == 0xFF) return static_cast<std::uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));
  int e = exp - 127 + 15;
  if (e >= 31) return static_cast<std::uint16_t>(sign | 0x7C00u);
  if (e <= 0) {
    if (e < -10) return static_cast<std::uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    std::uint32_t h = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1);
    const std::uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = (static_cast<std::uint32_t>(e) << 10) | (mant >> 13);
  const std::uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: correct
  return static_cast<std::uint16_t>(sign | h);
}

float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7F800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void writeWeightsFile(const std::string& path, const WeightsFile& file) {
  std::string data;
  std::ostringstream hdr;
  hdr << "{\"__format__\":\"medseek-weights\",\"__format_version__\":" << kWeightsFormatVersion;
  for (const auto& t : file.tensors) {
    std::size_t numel = 1;
    for (auto d : t.shape) numel *= static_cast<std::size_t>(d);
    if (numel * dtypeSize(t.dtype) != t.bytes.size())
      throw ModelError("tensor '" + t.name + "': byte size does not match its shape");
    const std::size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
    hdr << "," << json::quote(t.name) << ":{\"dtype\":\"" << dtypeName(t.dtype) << "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) hdr << (i ? "," : "") << t.shape[i];
    hdr << "],\"offsets\":[" << begin << "," << data.size() << "]}";
  }
  auto meta = file.metadata;
  meta["data_fnv1a64"] = fnv1a64Hex(data.data(), data.size());
  hdr << ",\"__metadata__\":{";
  bool first = true;
  for (const auto& [k, v] : meta) {
    hdr << (first ? "" : ",") << json::quote(k) << ":" << json::quote(v);
    first = false;
  }
  hdr << "}}";
  std::string header = hdr.str();
  while (header.size() % 8) header += ' ';
  const std::uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xFF);

  const std::string tmp = detail::temporaryPathFor(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelError("cannot write weights file '" + path + "'");
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw ModelError("writing weights file '" + path + "' failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw ModelError("cannot rename into '" + path + "'");
  }
}

WeightsFile readWeightsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("model weights '" + path + "' not found or unreadable");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string what = "model weights '" + path + "' ";
  if (all.size() < 8) throw ModelError(what + "are truncated (" + std::to_string(all.size()) + " bytes)");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(all[i])) << (8 * i);
  if (n == 0 || n > 64ull * 1024 * 1024 || n > all.size() - 8)
    throw ModelError(what + "are truncated or not a MedSeek weights file (header length " + std::to_string(n) +
                     ", file size " + std::to_string(all.size()) + ")");
  json::Value hdr;
  try {
    hdr = json::parse(all.substr(8, n).c_str());  // c_str: the padding may hold NULs in damaged files
  } catch (const std::exception& e) {
    throw ModelError(what + "have a corrupt header (" + e.what() + ")");
  }
  try {
    if (!hdr.has("__format__") || hdr.at("__format__").asString() != "medseek-weights")
      throw ModelError(what + "are not a MedSeek weights file");
    const int fv = static_cast<int>(hdr.at("__format_version__").asNumber());
    if (fv != kWeightsFormatVersion)
      throw ModelError(what + "use format version " + std::to_string(fv) + "; this build reads version " +
                       std::to_string(kWeightsFormatVersion));
    WeightsFile f;
    for (const auto& [k, v] : hdr.at("__metadata__").obj) f.metadata[k] = v.asString();
    const std::size_t dataSize = all.size() - 8 - n;
    const char* data = all.data() + 8 + n;
    const auto sum = f.metadata.find("data_fnv1a64");
    if (sum == f.metadata.end()) throw ModelError(what + "have no checksum");
    std::size_t maxEnd = 0;
    for (const auto& [name, v] : hdr.obj) {
      if (name.rfind("__", 0) == 0) continue;
      TensorBlob t;
      t.name = name;
      t.dtype = dtypeFromName(v.at("dtype").asString());
      std::size_t numel = 1;
      for (const auto& d : v.at("shape").arr) {
        const double dv = d.asNumber();
        if (dv < 0 || dv > 1e9) throw ModelError(what + "tensor '" + name + "' has a bad shape");
        t.shape.push_back(static_cast<std::int64_t>(dv));
        numel *= static_cast<std::size_t>(dv);
      }
      const auto& off = v.at("offsets").arr;
      if (off.size() != 2) throw ModelError(what + "tensor '" + name + "' has bad offsets");
      const auto b = static_cast<std::size_t>(off[0].asNumber());
      const auto e = static_cast<std::size_t>(off[1].asNumber());
      if (e < b || e > dataSize)
        throw ModelError(what + "are truncated: tensor '" + name + "' ends at byte " + std::to_string(e) +
                         " of a " + std::to_string(dataSize) + "-byte data section");
      if (e - b != numel * dtypeSize(t.dtype))
        throw ModelError(what + "tensor '" + name + "' size does not match its shape");
      t.bytes.assign(data + b, data + e);
      maxEnd = std::max(maxEnd, e);
      f.tensors.push_back(std::move(t));
    }
    if (maxEnd != dataSize)
      throw ModelError(what + "have " + std::to_string(dataSize - maxEnd) + " unexpected trailing bytes");
    if (fnv1a64Hex(data, dataSize) != sum->second)
      throw ModelError(what + "are corrupt (data checksum mismatch)");
    return f;
  } catch (const ModelError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelError(what + "have an invalid header (" + e.what() + ")");
  }
}
}  // namespace multimodal
