// problems/gaussian.hpp — exact cell averages of axis-aligned Gaussians.
//
// Interval probabilities use erfc on the side of the tail, so a cell 8 standard deviations out
// still gets its (tiny) mass with full relative precision instead of a difference of two
// numbers near 1. Used for exact initial data and exact solutions of heat and OU problems.
#pragma once

#include <cmath>

namespace fpflow::gaussian {

// P(a < X < b) for X ~ N(m, s^2).
inline double interval_probability(double a, double b, double m, double s) {
  const double r = 1.0 / (s * std::sqrt(2.0));
  const double za = (a - m) * r, zb = (b - m) * r;
  if (za >= 0) return 0.5 * (std::erfc(za) - std::erfc(zb));
  if (zb <= 0) return 0.5 * (std::erfc(-zb) - std::erfc(-za));
  return 1.0 - 0.5 * (std::erfc(zb) + std::erfc(-za));
}

// Average over [a, b] of the density of N(m, s^2): one axis's factor of a product law.
inline double axis_average(double a, double b, double m, double s) {
  return interval_probability(a, b, m, s) / (b - a);
}

// Average over the box [lo, hi] (dim axes) of the product density N(mean_d, sd_d^2).
inline double cell_average(int dim, const double* lo, const double* hi, const double* mean,
                           const double* sd) {
  double v = 1.0;
  for (int d = 0; d < dim; ++d) v *= axis_average(lo[d], hi[d], mean[d], sd[d]);
  return v;
}

inline double density(int dim, const double* x, const double* mean, const double* sd) {
  double v = 1.0;
  for (int d = 0; d < dim; ++d) {
    const double z = (x[d] - mean[d]) / sd[d];
    v *= std::exp(-0.5 * z * z) / (sd[d] * std::sqrt(2.0 * M_PI));
  }
  return v;
}

}  // namespace fpflow::gaussian
