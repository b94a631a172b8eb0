#pragma once
// Minimal JSON value + parser + writer for the weights header and report output (private to multimodal).
// Supports objects, arrays, strings (with \uXXXX), numbers, true/false/null. Throws std::runtime_error.
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace multimodal::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Value> arr;
  std::map<std::string, Value> obj;

  bool has(const std::string& k) const { return kind == Kind::Object && obj.count(k) > 0; }
  const Value& at(const std::string& k) const {
    auto it = obj.find(k);
    if (kind != Kind::Object || it == obj.end()) throw std::runtime_error("missing key '" + k + "'");
    return it->second;
  }
  const std::string& asString() const {
    if (kind != Kind::String) throw std::runtime_error("expected a string");
    return str;
  }
  double asNumber() const {
    if (kind != Kind::Number) throw std::runtime_error("expected a number");
    return num;
  }
};

Value parse(const std::string& text);
std::string quote(const std::string& s);

}  // namespace multimodal::json
