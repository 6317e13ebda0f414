// problems/images.hpp — the law of Brownian motion on an interval with reflecting, absorbing or
// periodic walls: N(m, s^2) "seen through the walls" (the heat kernel of [lo, hi] at variance s^2).
// Each side has its own kind (periodic: both sides); "absorbing at lo, reflecting at hi" is the
// first-passage set-up.
//
// With L = hi - lo there are two exact representations (docs/MATH.md, "Heat between walls"). The
// images are the orbit of m under the mirrors in lo and hi, each with the product of the signs of
// the mirrors used (+1 reflecting, -1 absorbing; m' = 2 lo - m):
//   images   reflecting  sum_k  g(x - m - 2kL) + g(x - m' - 2kL)
//            absorbing   sum_k  g(x - m - 2kL) - g(x - m' - 2kL)
//            abs:refl    sum_k (-1)^k [g(x - m - 2kL) - g(x - m' - 2kL)]   (lo absorbing)
//            refl:abs    sum_k (-1)^k [g(x - m - 2kL) + g(x - m' - 2kL)]   (hi absorbing)
//            periodic    sum_k  g(x - m - kL)
//   series   reflecting  1/L + 2/L sum_n e^{-k^2 s^2/2} cos k(m - lo) cos k(x - lo),  k = n pi/L
//            absorbing         2/L sum_n e^{-k^2 s^2/2} sin k(m - lo) sin k(x - lo),  k = n pi/L
//            abs:refl          2/L sum_n e^{-k^2 s^2/2} sin k(m - lo) sin k(x - lo)
//            refl:abs          2/L sum_n e^{-k^2 s^2/2} cos k(m - lo) cos k(x - lo)
//                                                         (mixed walls: k = (n - 1/2) pi/L)
//            periodic    1/L + 2/L sum_n e^{-k^2 s^2/2} cos k(x - m),                 k = 2 n pi/L
// (g the N(0, s^2) density, n from 1). Interval probabilities integrate each term exactly:
// normal-CDF differences (erfc on the tail side, problems/gaussian.hpp) for images, sines and
// cosines for the series. Images converge fast when s is small against L, the series when it is
// large: each is cut where the next term is below 1e-30 of the law, and the one with fewer terms
// is used. An unbounded interval (lo or hi infinite) has no walls: the plain Gaussian.
#pragma once

#include "mesh/grid.hpp"
#include "problems/gaussian.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow::images {

// Which representation to sum: the cheaper one, or one of them (tests compare the two).
enum class Method { automatic, images, series };

struct Walls {
  double lo = -INFINITY, hi = INFINITY;
  AxisBoundary bc = Boundary::reflecting;
  bool bounded() const { return std::isfinite(lo) && std::isfinite(hi); }
};

namespace detail {
// Images farther than this many s from the interval add less than Phi(-12) ~ 2e-33.
constexpr double kReach = 12.0;
// Series terms stop once k s exceeds this: e^{-k^2 s^2/2} < 1e-33.
constexpr double kSeriesKs = 12.3;

// One side absorbing, the other reflecting: the modes are shifted by half a wavenumber and the
// images alternate in sign from one period to the next.
inline bool mixed(const Walls& w) { return !w.bc.periodic() && w.bc.lo != w.bc.hi; }
inline double sign(Boundary b) { return b == Boundary::absorbing ? -1.0 : 1.0; }
inline double period(const Walls& w) {
  const double L = w.hi - w.lo;
  return w.bc.periodic() ? L : 2 * L;
}
inline double wavenumber(const Walls& w) {
  const double L = w.hi - w.lo;
  return (w.bc.periodic() ? 2 : 1) * M_PI / L;
}
// k_n = (n - shift) wavenumber, n = 1, 2, ...
inline double mode_shift(const Walls& w) { return mixed(w) ? 0.5 : 0.0; }
inline long series_terms(const Walls& w, double s) {
  return long(std::ceil(kSeriesKs / (wavenumber(w) * s) + mode_shift(w)));
}
inline long image_terms(const Walls& w, double s) {
  const long families = w.bc.periodic() ? 1 : 2;
  return families * (long(std::ceil((w.hi - w.lo + 2 * kReach * s) / period(w))) + 1);
}
inline bool use_series(const Walls& w, double s, Method how) {
  if (how != Method::automatic) return how == Method::series;
  return series_terms(w, s) < image_terms(w, s);
}

// fn(centre, sign) for every image of m whose centre is within kReach s of [lo, hi]. A shift by
// 2L is a mirror in lo then in hi: its sign is sign(lo) sign(hi) (-1 for mixed walls).
template <class Fn>
void for_each_image(double m, double s, const Walls& w, Fn&& fn) {
  const double P = period(w), from = w.lo - kReach * s, to = w.hi + kReach * s;
  const bool alternate = mixed(w);
  const auto family = [&](double c0, double sign0) {
    // Centres c0 + k P inside [from, to], in increasing k (a fixed order: the same sum on any rank).
    for (long k = long(std::ceil((from - c0) / P)); c0 + k * P <= to; ++k)
      fn(c0 + k * P, alternate && k % 2 != 0 ? -sign0 : sign0);
  };
  family(m, 1.0);
  if (!w.bc.periodic()) family(2 * w.lo - m, sign(w.bc.lo));
}

// sum_n coeff_n * basis_n over the series (n from 1), for the interval's wall kinds: fn(k)
// returns the n-th term without its e^{-k^2 s^2/2} factor.
template <class Fn>
double series_sum(double s, const Walls& w, Fn&& fn) {
  const double k1 = wavenumber(w), shift = mode_shift(w);
  const long N = series_terms(w, s);
  double sum = 0;
  for (long n = N; n >= 1; --n) {  // smallest terms first
    const double k = (double(n) - shift) * k1;
    sum += std::exp(-0.5 * k * k * s * s) * fn(k);
  }
  return sum;
}
}  // namespace detail

// P(a < X < b) for [a, b] inside [lo, hi] under the law of N(m, s^2) through the walls.
inline double interval_probability(double a, double b, double m, double s, const Walls& w,
                                   Method how = Method::automatic) {
  if (!w.bounded()) return gaussian::interval_probability(a, b, m, s);
  const double L = w.hi - w.lo;
  if (detail::use_series(w, s, how)) {
    // Cosine modes when lo reflects, sine modes when it absorbs; the constant mode only without
    // an absorbing side.
    double v;
    if (w.bc.periodic())
      v = (b - a) / L + 2 / L * detail::series_sum(s, w, [&](double k) {
            return (std::sin(k * (b - m)) - std::sin(k * (a - m))) / k;
          });
    else if (w.bc.lo == Boundary::reflecting)
      v = (w.bc.hi == Boundary::reflecting ? (b - a) / L : 0.0) +
          2 / L * detail::series_sum(s, w, [&](double k) {
            return std::cos(k * (m - w.lo)) * (std::sin(k * (b - w.lo)) - std::sin(k * (a - w.lo))) / k;
          });
    else
      v = 2 / L * detail::series_sum(s, w, [&](double k) {
            return std::sin(k * (m - w.lo)) * (std::cos(k * (a - w.lo)) - std::cos(k * (b - w.lo))) / k;
          });
    return std::max(0.0, v);  // round-off of the cancelling terms must not make a mass negative
  }
  double v = 0;
  detail::for_each_image(m, s, w, [&](double c, double sign) {
    v += sign * gaussian::interval_probability(a, b, c, s);
  });
  return std::max(0.0, v);
}

// Average over [a, b] of the density: one axis's factor of a product law.
inline double axis_average(double a, double b, double m, double s, const Walls& w) {
  return interval_probability(a, b, m, s, w) / (b - a);
}

// The density at x in [lo, hi].
inline double density(double x, double m, double s, const Walls& w,
                      Method how = Method::automatic) {
  const auto g = [s](double z) { return std::exp(-0.5 * z * z / (s * s)) / (s * std::sqrt(2 * M_PI)); };
  if (!w.bounded()) return g(x - m);
  const double L = w.hi - w.lo;
  if (detail::use_series(w, s, how)) {
    double v;
    if (w.bc.periodic())
      v = 1 / L + 2 / L * detail::series_sum(s, w, [&](double k) { return std::cos(k * (x - m)); });
    else if (w.bc.lo == Boundary::reflecting)
      v = (w.bc.hi == Boundary::reflecting ? 1 / L : 0.0) +
          2 / L * detail::series_sum(s, w, [&](double k) {
            return std::cos(k * (m - w.lo)) * std::cos(k * (x - w.lo));
          });
    else
      v = 2 / L * detail::series_sum(s, w, [&](double k) {
            return std::sin(k * (m - w.lo)) * std::sin(k * (x - w.lo));
          });
    return std::max(0.0, v);
  }
  double v = 0;
  detail::for_each_image(m, s, w, [&](double c, double sign) { v += sign * g(x - c); });
  return std::max(0.0, v);
}

}  // namespace fpflow::images
