#include "explain/ExpertStats.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "explain/ExplainError.h"

namespace explain {
namespace {

// ---- a minimal JSON reader for the statistics file (objects, arrays, strings, numbers, literals) ----
struct J {
  enum K { Null, Num, Str, Arr, Obj, Bool } k = Null;
  double n = 0;
  std::string s;
  std::vector<J> a;
  std::vector<std::pair<std::string, J>> o;
  const J* get(const std::string& key) const {
    for (const auto& [kk, v] : o)
      if (kk == key) return &v;
    return nullptr;
  }
  double num(const std::string& key, double d = 0) const {
    const J* v = get(key);
    return v && v->k == Num ? v->n : d;
  }
  std::string str(const std::string& key) const {
    const J* v = get(key);
    return v && v->k == Str ? v->s : std::string();
  }
};

class Reader {
 public:
  explicit Reader(const std::string& t) : t_(t) {}
  J parse() {
    J v = value();
    ws();
    if (i_ != t_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw ExplainError("expert statistics: " + what + " at byte " + std::to_string(i_));
  }
  void ws() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  J value() {
    ws();
    if (i_ >= t_.size()) fail("unexpected end");
    const char c = t_[i_];
    J v;
    if (c == '{') {
      v.k = J::Obj;
      ++i_;
      ws();
      if (i_ < t_.size() && t_[i_] == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        ws();
        std::string key = string();
        ws();
        if (i_ >= t_.size() || t_[i_] != ':') fail("expected ':'");
        ++i_;
        v.o.push_back({key, value()});
        ws();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == '}') {
          ++i_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.k = J::Arr;
      ++i_;
      ws();
      if (i_ < t_.size() && t_[i_] == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.a.push_back(value());
        ws();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == ']') {
          ++i_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.k = J::Str;
      v.s = string();
      return v;
    }
    if (t_.compare(i_, 4, "true") == 0 || t_.compare(i_, 5, "false") == 0 || t_.compare(i_, 4, "null") == 0) {
      v.k = t_[i_] == 'n' ? J::Null : J::Bool;
      i_ += t_[i_] == 'f' ? 5 : 4;
      return v;
    }
    char* end = nullptr;
    v.n = std::strtod(t_.c_str() + i_, &end);
    if (end == t_.c_str() + i_) fail("bad value");
    v.k = J::Num;
    i_ = static_cast<std::size_t>(end - t_.c_str());
    return v;
  }
  std::string string() {
    if (i_ >= t_.size() || t_[i_] != '"') fail("expected a string");
    ++i_;
    std::string s;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) {
        ++i_;
        const char e = t_[i_];
        s += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \uXXXX is not written by toJson()
      } else {
        s += t_[i_];
      }
      ++i_;
    }
    if (i_ >= t_.size()) fail("unterminated string");
    ++i_;
    return s;
  }
  const std::string& t_;
  std::size_t i_ = 0;
};

std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o + "\"";
}
std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// ---- SHA-256 (FIPS 180-4) ----
struct Sha256 {
  std::array<std::uint32_t, 8> h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint64_t len = 0;
  unsigned char buf[64];
  std::size_t fill = 0;
  static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void block(const unsigned char* p) {
    static const std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) | (std::uint32_t(p[4 * i + 2]) << 8) | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 = hh + S1 + ch + k[i] + w[i];
      const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = S0 + mj;
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  void update(const unsigned char* p, std::size_t n) {
    len += n;
    while (n > 0) {
      const std::size_t take = std::min(n, 64 - fill);
      std::copy(p, p + take, buf + fill);
      fill += take;
      p += take;
      n -= take;
      if (fill == 64) {
        block(buf);
        fill = 0;
      }
    }
  }
  std::string hex() {
    const std::uint64_t bits = len * 8;
    const unsigned char pad = 0x80;
    update(&pad, 1);
    const unsigned char zero = 0;
    while (fill != 56) update(&zero, 1);
    unsigned char l[8];
    for (int i = 0; i < 8; ++i) l[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(l, 8);
    std::string out;
    char b[9];
    for (auto v : h) {
      std::snprintf(b, sizeof b, "%08x", v);
      out += b;
    }
    return out;
  }
};

}  // namespace

std::string sha256(const std::string& bytes) {
  Sha256 s;
  s.update(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return s.hex();
}

std::string sha256File(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ExplainError("cannot read '" + path + "' to compute its SHA-256");
  Sha256 s;
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    s.update(reinterpret_cast<const unsigned char*>(buf.data()), static_cast<std::size_t>(f.gcount()));
  }
  return s.hex();
}

void summarise(ExpertStatistics& s) {
  for (auto& [id, p] : s.experts) {
    char b[400];
    std::snprintf(b, sizeof b,
                  "among the top two for %d of %d generated cases (mean weight %.2f); of these %.0f%% had cancer, "
                  "%.0f%% a nodule (mean largest diameter %.1f mm; %.0f%% solid, %.0f%% part-solid, %.0f%% non-solid), "
                  "%.0f%% a Chinese note, mean image share %.0f%%",
                  p.cases, s.totalCases, p.meanWeight, 100 * p.shareCancer, 100 * p.shareWithNodule, p.meanDiameterMm,
                  100 * p.shareSolid, 100 * p.sharePartSolid, 100 * p.shareNonSolid, 100 * p.shareChinese,
                  100 * p.meanImageShare);
    p.summary = b;
  }
}

std::string toJson(const ExpertStatistics& s) {
  std::ostringstream o;
  o << "{\n  \"cohort\": " << quote(s.cohort) << ",\n  \"model_sha256\": " << quote(s.modelSha256)
    << ",\n  \"total_cases\": " << s.totalCases << ",\n  \"experts\": [";
  bool first = true;
  for (const auto& [id, p] : s.experts) {
    o << (first ? "\n" : ",\n") << "    {\"expert\": " << id << ", \"cases\": " << p.cases
      << ", \"mean_weight\": " << num(p.meanWeight) << ", \"share_cancer\": " << num(p.shareCancer)
      << ", \"share_with_nodule\": " << num(p.shareWithNodule) << ", \"share_chinese\": " << num(p.shareChinese)
      << ", \"mean_image_share\": " << num(p.meanImageShare) << ", \"mean_diameter_mm\": " << num(p.meanDiameterMm)
      << ", \"share_solid\": " << num(p.shareSolid) << ", \"share_part_solid\": " << num(p.sharePartSolid)
      << ", \"share_non_solid\": " << num(p.shareNonSolid) << ", \"summary\": " << quote(p.summary) << "}";
    first = false;
  }
  o << "\n  ]\n}\n";
  return o.str();
}

ExpertStatistics readExpertStatistics(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ExplainError("cannot read expert statistics '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  J root = Reader(text).parse();
  if (root.k != J::Obj) throw ExplainError("expert statistics '" + path + "' is not a JSON object");
  ExpertStatistics s;
  s.source = path;
  s.cohort = root.str("cohort");
  s.modelSha256 = root.str("model_sha256");
  s.totalCases = static_cast<int>(root.num("total_cases"));
  const J* ex = root.get("experts");
  if (!ex || ex->k != J::Arr) throw ExplainError("expert statistics '" + path + "' has no 'experts' array");
  for (const auto& e : ex->a) {
    ExpertProfile p;
    p.expert = static_cast<int>(e.num("expert", -1));
    p.cases = static_cast<int>(e.num("cases"));
    p.meanWeight = e.num("mean_weight");
    p.shareCancer = e.num("share_cancer");
    p.shareWithNodule = e.num("share_with_nodule");
    p.shareChinese = e.num("share_chinese");
    p.meanImageShare = e.num("mean_image_share");
    p.meanDiameterMm = e.num("mean_diameter_mm");
    p.shareSolid = e.num("share_solid");
    p.sharePartSolid = e.num("share_part_solid");
    p.shareNonSolid = e.num("share_non_solid");
    p.summary = e.str("summary");
    if (p.expert >= 0) s.experts[p.expert] = p;
  }
  if (s.totalCases > 0) {
    // Recompute summaries from the numbers so the text always matches them.
    summarise(s);
  }
  return s;
}

}  // namespace explain
