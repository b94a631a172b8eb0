#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "multimodal/ModelError.h"
#include "multimodal/WeightsFile.h"

using namespace multimodal;

namespace {
std::string tempPath(const std::string& name) {
  return std::string(MEDSEEK_BINARY_DIR) + "/mm_test_" + name;
}
std::string readAll(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void writeAll(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}
WeightsFile sample() {
  WeightsFile f;
  f.metadata["model_version"] = "test-1";
  f.metadata["note"] = "quotes \" and 中文 and \n newlines";
  TensorBlob a{"layer.weight", DType::F32, {2, 3}, {}};
  for (int i = 0; i < 6; ++i) {
    const float v = 0.5f * static_cast<float>(i) - 1.0f;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v);
    a.bytes.insert(a.bytes.end(), b, b + 4);
  }
  TensorBlob h{"layer.half", DType::F16, {3}, {}};
  for (float v : {1.0f, -2.5f, 65504.0f}) {
    const std::uint16_t x = floatToHalf(v);
    h.bytes.push_back(static_cast<std::uint8_t>(x & 0xFF));
    h.bytes.push_back(static_cast<std::uint8_t>(x >> 8));
  }
  TensorBlob c{"bn.count", DType::I64, {}, std::vector<std::uint8_t>(8, 0)};
  c.bytes[0] = 42;
  f.tensors = {a, h, c};
  return f;
}
}  // namespace

TEST(WeightsFile, RoundTripsTensorsAndMetadata) {
  const auto p = tempPath("roundtrip.msw");
  writeWeightsFile(p, sample());
  const auto g = readWeightsFile(p);
  EXPECT_EQ(g.metadata.at("model_version"), "test-1");
  EXPECT_EQ(g.metadata.at("note"), sample().metadata.at("note"));
  ASSERT_EQ(g.tensors.size(), 3u);
  const auto* a = g.find("layer.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a->bytes, sample().tensors[0].bytes);
  const auto* c = g.find("bn.count");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->shape.empty());
  EXPECT_EQ(c->bytes[0], 42);
  // The file starts with the 8-byte little-endian header length.
  const auto raw = readAll(p);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(raw[i])) << (8 * i);
  EXPECT_EQ(raw.substr(8, 1), "{");
  EXPECT_LT(n, raw.size());
  std::remove(p.c_str());
}

TEST(WeightsFile, ConvertsHalfPrecisionExactlyForRepresentableValues) {
  for (float v : {0.0f, 1.0f, -2.5f, 0.000061035156f, 65504.0f, 0.33325195f})
    EXPECT_EQ(halfToFloat(floatToHalf(v)), v) << v;
  EXPECT_NEAR(halfToFloat(floatToHalf(0.1f)), 0.1f, 1e-4);
  EXPECT_TRUE(std::isinf(halfToFloat(floatToHalf(1e6f))));
  EXPECT_NEAR(halfToFloat(floatToHalf(1e-6f)), 1e-6f, 1e-7);  // subnormal
}

TEST(WeightsFile, RefusesAFlippedDataByte) {
  const auto p = tempPath("corrupt.msw");
  writeWeightsFile(p, sample());
  auto raw = readAll(p);
  raw[raw.size() - 10] ^= 0x5A;
  writeAll(p, raw);
  try {
    readWeightsFile(p);
    FAIL() << "corrupt file accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
  std::remove(p.c_str());
}

TEST(WeightsFile, RefusesTruncatedFilesAtEveryLength) {
  const auto p = tempPath("truncated.msw");
  writeWeightsFile(p, sample());
  const auto raw = readAll(p);
  for (std::size_t len : {std::size_t{0}, std::size_t{4}, std::size_t{8}, std::size_t{20}, raw.size() / 2, raw.size() - 1}) {
    writeAll(p, raw.substr(0, len));
    EXPECT_THROW(readWeightsFile(p), ModelError) << "length " << len;
  }
  std::remove(p.c_str());
}

TEST(WeightsFile, RefusesForeignFilesAndOtherFormatVersions) {
  const auto p = tempPath("foreign.msw");
  writeAll(p, std::string("PK\x03\x04 this is a zip archive, not weights") + std::string(100, 'x'));
  EXPECT_THROW(readWeightsFile(p), ModelError);
  writeWeightsFile(p, sample());
  auto raw = readAll(p);
  const auto at = raw.find("\"__format_version__\":1");
  ASSERT_NE(at, std::string::npos);
  raw[at + std::strlen("\"__format_version__\":")] = '7';
  writeAll(p, raw);
  try {
    readWeightsFile(p);
    FAIL() << "format version 7 accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("version 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(readWeightsFile(tempPath("does-not-exist.msw")), ModelError);
  std::remove(p.c_str());
}
