#include "JsonWriter.h"

#include <cmath>
#include <cstdint>

#include "phantom/CohortGenerator.h"

namespace phantom::detail {

std::string formatNumber(double value, int maxDecimals) {
  if (!std::isfinite(value)) throw PhantomError("JSON writer: a number is not finite");
  std::int64_t scale = 1;
  for (int d = 0; d < maxDecimals; ++d) scale *= 10;
  const bool negative = value < 0;
  const std::int64_t scaled = std::llround(std::fabs(value) * static_cast<double>(scale));
  std::int64_t whole = scaled / scale, frac = scaled % scale;
  std::string out = (negative && scaled != 0) ? "-" : "";
  out += std::to_string(whole);
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, static_cast<std::size_t>(maxDecimals) - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::string JsonWriter::escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 15];
        } else {
          out += c;  // UTF-8 passes through
        }
    }
  }
  out += '"';
  return out;
}

void JsonWriter::beforeValue() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!needComma_.empty()) {
    if (needComma_.back()) out_ += ',';
    needComma_.back() = true;
  }
}

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  needComma_.push_back(false);
  return *this;
}
JsonWriter& JsonWriter::endObject() {
  out_ += '}';
  needComma_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  needComma_.push_back(false);
  return *this;
}
JsonWriter& JsonWriter::endArray() {
  out_ += ']';
  needComma_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
  beforeValue();
  out_ += escape(k);
  out_ += ':';
  afterKey_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) {
  beforeValue();
  out_ += escape(s);
  return *this;
}
JsonWriter& JsonWriter::value(double v, int maxDecimals) {
  beforeValue();
  out_ += formatNumber(v, maxDecimals);
  return *this;
}
JsonWriter& JsonWriter::value(int v) {
  beforeValue();
  out_ += std::to_string(v);
  return *this;
}
JsonWriter& JsonWriter::value(bool v) {
  beforeValue();
  out_ += v ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
  return *this;
}
JsonWriter& JsonWriter::raw(std::string_view json) {
  beforeValue();
  out_ += json;
  return *this;
}

}  // namespace phantom::detail
