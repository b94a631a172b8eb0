#include "MiniJson.h"

#include <cstdio>
#include <cstdlib>

namespace multimodal::json {
namespace {
struct Parser {
  const std::string& s;
  size_t p = 0;
  int depth = 0;

  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("JSON: ") + what + " at byte " + std::to_string(p));
  }
  void ws() {
    while (p < s.size() && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t')) ++p;
  }
  bool lit(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s.compare(p, n, w) == 0) {
      p += n;
      return true;
    }
    return false;
  }
  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (p + 4 > s.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s[p++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string str() {
    if (p >= s.size() || s[p] != '"') fail("expected string");
    ++p;
    std::string out;
    while (true) {
      if (p >= s.size()) fail("unterminated string");
      char c = s[p++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p >= s.size()) fail("unterminated escape");
      char e = s[p++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && p + 6 <= s.size() && s[p] == '\\' && s[p + 1] == 'u') {
            p += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }
  Value value() {
    if (++depth > 64) fail("nesting too deep");
    ws();
    Value v;
    if (p >= s.size()) fail("unexpected end");
    char c = s[p];
    if (c == '{') {
      v.kind = Value::Kind::Object;
      ++p;
      ws();
      if (p < s.size() && s[p] == '}') {
        ++p;
      } else {
        while (true) {
          ws();
          std::string k = str();
          ws();
          if (p >= s.size() || s[p] != ':') fail("expected ':'");
          ++p;
          v.obj[k] = value();
          ws();
          if (p < s.size() && s[p] == ',') { ++p; continue; }
          if (p < s.size() && s[p] == '}') { ++p; break; }
          fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      v.kind = Value::Kind::Array;
      ++p;
      ws();
      if (p < s.size() && s[p] == ']') {
        ++p;
      } else {
        while (true) {
          v.arr.push_back(value());
          ws();
          if (p < s.size() && s[p] == ',') { ++p; continue; }
          if (p < s.size() && s[p] == ']') { ++p; break; }
          fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.kind = Value::Kind::String;
      v.str = str();
    } else if (lit("true")) {
      v.kind = Value::Kind::Bool;
      v.b = true;
    } else if (lit("false")) {
      v.kind = Value::Kind::Bool;
    } else if (lit("null")) {
      v.kind = Value::Kind::Null;
    } else {
      const char* begin = s.c_str() + p;
      char* end = nullptr;
      v.num = std::strtod(begin, &end);
      if (end == begin) fail("unexpected character");
      v.kind = Value::Kind::Number;
      p += static_cast<size_t>(end - begin);
    }
    --depth;
    return v;
  }
};
}  // namespace

Value parse(const std::string& text) {
  Parser ps{text};
  Value v = ps.value();
  ps.ws();
  if (ps.p != text.size()) ps.fail("trailing characters");
  return v;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}
}  // namespace multimodal::json
