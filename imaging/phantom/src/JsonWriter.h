#pragma once
// Tiny streaming JSON writer (no third-party dependency): UTF-8 passes through, quotes, backslashes and
// control characters are escaped; numbers are formatted without the C locale (a GUI may change it).
#include <string>
#include <string_view>
#include <vector>

namespace phantom::detail {

/// Fixed-point decimal with at most `maxDecimals` decimals, trailing zeros stripped, '.' always.
std::string formatNumber(double value, int maxDecimals = 6);

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(double v, int maxDecimals = 6);
  JsonWriter& value(int v);
  JsonWriter& value(bool v);
  JsonWriter& null();
  /// Inserts already-serialised JSON as one value.
  JsonWriter& raw(std::string_view json);
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  const std::string& str() const { return out_; }

  static std::string escape(std::string_view s);

 private:
  void beforeValue();
  std::string out_;
  std::vector<bool> needComma_;
  bool afterKey_ = false;
};

}  // namespace phantom::detail
