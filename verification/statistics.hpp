// verification/statistics.hpp — statistical floors for grid-versus-particle comparisons
// (docs/VERIFICATION.md §2). Pure functions; delta is the false-alarm probability of one check.
//
//   L1 (= 2 TV) between empirical bin frequencies of N samples and K bin probabilities p_k:
//     L1 <= sqrt((K-1)/N) + sqrt(2 ln(1/delta)/N)   with probability >= 1 - delta (McDiarmid)
//   Kolmogorov-Smirnov (DKW-Massart):  D_N <= sqrt(ln(2/delta)/(2N))
//   Wasserstein-1 in 1-D for N(m, s^2):  E W1 ~ 1.288 s/sqrt(N); threshold adds
//     s sqrt(2 ln(1/delta)/N)
//   Grid error bound from a refinement pair, order 2: (4/3) ||rho_h - rho_{h/2}||.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace fpflow::stats {

inline double l1_floor(std::size_t bins, double n, double delta) {
  return std::sqrt(double(bins - 1) / n) + std::sqrt(2 * std::log(1 / delta) / n);
}

inline double dkw_floor(double n, double delta) { return std::sqrt(std::log(2 / delta) / (2 * n)); }

inline double w1_gaussian_floor(double sd, double n, double delta) {
  return 1.288 * sd / std::sqrt(n) + sd * std::sqrt(2 * std::log(1 / delta) / n);
}

inline double richardson_bound(double diff_h_h2, double order = 2) {
  const double r = std::pow(2.0, order);
  return r / (r - 1) * diff_h_h2;
}

// Groups consecutive bins so every group has expected count n * p >= min_count (the last group
// absorbs a short tail). Returns, for each input bin, the index of its group.
inline std::vector<std::size_t> merge_sparse_bins(const std::vector<double>& p, double n,
                                                  double min_count = 5) {
  std::vector<std::size_t> group(p.size(), 0);
  std::size_t g = 0;
  double acc = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    group[k] = g;
    acc += p[k] * n;
    if (acc >= min_count && k + 1 < p.size()) {
      ++g;
      acc = 0;
    }
  }
  if (acc < min_count && g > 0)  // short tail joins the previous group
    for (std::size_t k = 0; k < p.size(); ++k)
      if (group[k] == g) group[k] = g - 1;
  return group;
}

}  // namespace fpflow::stats
