#pragma once
/// WeightsFile: the version-independent weights container of MedSeek models (".msw"), readable by any
/// LibTorch version because it holds raw little-endian arrays, not a torch archive.
///
///   multimodal::WeightsFile f;
///   f.metadata["model_version"] = "medseek-moe-1";
///   f.tensors.push_back({"head.weight", multimodal::DType::F16, {1, 128}, bytes});
///   multimodal::writeWeightsFile("model.msw", f);
///   auto g = multimodal::readWeightsFile("model.msw");   // throws ModelError if corrupt
///
/// Layout (safetensors-like): 8-byte little-endian header length N; N bytes of UTF-8 JSON
/// {"__format__":"medseek-weights","__format_version__":1,"__metadata__":{string:string},
///  "<tensor>":{"dtype":"F16|F32|I64","shape":[...],"offsets":[begin,end]}}; then the data section
/// (offsets are relative to it). The metadata holds an FNV-1a 64 checksum of the data section, so
/// truncated or bit-flipped files are refused rather than loaded as a random model.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace multimodal {

inline constexpr int kWeightsFormatVersion = 1;

enum class DType { F32, F16, I64 };
std::size_t dtypeSize(DType t);

struct TensorBlob {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  ///< little-endian raw data, numel * dtypeSize bytes
};

struct WeightsFile {
  std::map<std::string, std::string> metadata;
  std::vector<TensorBlob> tensors;
  const TensorBlob* find(const std::string& name) const;
};

/// Writes atomically (temporary file + rename). Throws ModelError on I/O failure.
void writeWeightsFile(const std::string& path, const WeightsFile& file);
/// Throws ModelError with a readable reason for a missing, truncated, corrupt or foreign file.
WeightsFile readWeightsFile(const std::string& path);

/// IEEE half <-> float (round to nearest even), used for fp16 storage.
std::uint16_t floatToHalf(float f);
float halfToFloat(std::uint16_t h);
/// FNV-1a 64-bit hash as 16 hex digits (vocabulary and data checksums).
std::string fnv1a64Hex(const void* data, std::size_t n);

}  // namespace multimodal
