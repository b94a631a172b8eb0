#pragma once
// Small geometry helpers shared by the anatomy and the renderer (private).
#include <algorithm>
#include <array>
#include <cmath>

namespace phantom::detail {

using Vec3 = std::array<double, 3>;

inline Vec3 add(const Vec3& a, const Vec3& b) {
  return {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
}
inline Vec3 sub(const Vec3& a, const Vec3& b) {
  return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
inline Vec3 mul(const Vec3& a, double s) {
  return {a[0] * s, a[1] * s, a[2] * s};
}
inline double dot(const Vec3& a, const Vec3& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
inline double norm(const Vec3& a) {
  return std::sqrt(dot(a, a));
}
inline Vec3 normalized(const Vec3& a) {
  const double n = norm(a);
  return n > 1e-12 ? mul(a, 1.0 / n) : Vec3{0, 0, 1};
}

/// Approximate signed distance (mm) to an axis-aligned ellipse centred at 0 (negative inside); exact for
/// circles.
inline double ellipseSignedDistance(double x, double y, double a, double b) {
  const double rho = std::sqrt((x / a) * (x / a) + (y / b) * (y / b));
  const double r = std::sqrt(x * x + y * y);
  if (rho < 1e-12) return -std::min(a, b);
  return (rho - 1.0) * r / rho;
}

/// Fraction of a voxel of size `h` covered by a shape whose surface is `d` mm away (d < 0 inside).
inline double coverage(double d, double h) {
  return std::clamp(0.5 - d / h, 0.0, 1.0);
}

/// Rotates v about the unit axis k by angle (Rodrigues).
inline Vec3 rotate(const Vec3& v, const Vec3& k, double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return add(add(mul(v, c), mul(cross(k, v), s)), mul(k, dot(k, v) * (1 - c)));
}

/// Distance from p to segment ab; t receives the closest point's parameter in [0, 1].
inline double distanceToSegment(const Vec3& p, const Vec3& a, const Vec3& b, double& t) {
  const Vec3 ab = sub(b, a), ap = sub(p, a);
  const double len2 = dot(ab, ab);
  t = len2 > 1e-12 ? std::clamp(dot(ap, ab) / len2, 0.0, 1.0) : 0.0;
  const Vec3 d = sub(ap, mul(ab, t));
  return std::sqrt(dot(d, d));
}

inline double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

}  // namespace phantom::detail
