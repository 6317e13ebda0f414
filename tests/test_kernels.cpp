// tests/test_kernels.cpp — pointwise flux kernels and Gaussian cell averages (serial unit tests).
#define BOOST_TEST_MODULE kernels
#include <boost/test/unit_test.hpp>

#include "operators/flux_kernels.hpp"
#include "problems/gaussian.hpp"

#include <cmath>

using namespace fpflow;
using namespace fpflow::kernels;

BOOST_AUTO_TEST_CASE(bernoulli_is_accurate_across_the_series_switch) {
  // Reference: x/expm1(x) is accurate away from 0; the series is used below |x| = 1e-3.
  for (double x : {-0.5, -1e-2, -1.001e-3, 1.001e-3, 1e-2, 0.5, 3.0, -30.0, 30.0})
    BOOST_CHECK_CLOSE(bernoulli(x), x / std::expm1(x), 1e-12);
  for (double x : {-9.99e-4, -1e-6, 1e-6, 9.99e-4}) {
    // Taylor expansion to x^6 as an independent reference.
    const double ref = 1 - x / 2 + x * x / 12 - std::pow(x, 4) / 720 + std::pow(x, 6) / 30240;
    BOOST_CHECK_CLOSE(bernoulli(x), ref, 1e-12);
  }
  BOOST_CHECK_EQUAL(bernoulli(0.0), 1.0);
  BOOST_CHECK(std::isfinite(bernoulli(1000.0)) && bernoulli(1000.0) >= 0);
  BOOST_CHECK_CLOSE(bernoulli(-1000.0), 1000.0, 1e-12);
  for (double x : {-5.0, -1e-4, 1e-4, 0.3, 7.0}) BOOST_CHECK_CLOSE(bernoulli(-x), bernoulli(x) + x, 1e-11);
}

BOOST_AUTO_TEST_CASE(sg_has_zero_flux_on_the_discrete_gibbs_ratio) {
  const double h = 0.1, D = 0.35;
  for (double u : {-40.0, -1.0, -1e-5, 0.0, 2e-4, 3.0, 80.0}) {
    const double delta = u * h / D, rhoK = 0.7, rhoL = rhoK * std::exp(delta);
    const LinearFlux f = scharfetter_gummel({u, D}, h);
    BOOST_CHECK_SMALL(f(rhoK, rhoL) / (f.alpha * rhoK + 1e-300), 1e-13);
    BOOST_CHECK(f.alpha >= 0 && f.beta >= 0);
  }
}

BOOST_AUTO_TEST_CASE(sg_limits_central_and_upwind) {
  const double h = 0.05;
  // delta -> 0: central differencing of u rho - D drho/dx.
  const LinearFlux c = scharfetter_gummel({1e-9, 1.0}, h), ref = {0.5e-9 + 1 / h, -0.5e-9 + 1 / h};
  BOOST_CHECK_CLOSE(c.alpha, ref.alpha, 1e-9);
  BOOST_CHECK_CLOSE(c.beta, ref.beta, 1e-9);
  // |delta| -> infinity and D = 0: upwind.
  const LinearFlux up = scharfetter_gummel({2.0, 1e-12}, h);
  BOOST_CHECK_CLOSE(up.alpha, 2.0, 1e-6);
  BOOST_CHECK_SMALL(up.beta, 1e-9);
  const LinearFlux zero_d = scharfetter_gummel({-3.0, 0.0}, h);
  BOOST_CHECK_EQUAL(zero_d.alpha, 0.0);
  BOOST_CHECK_EQUAL(zero_d.beta, 3.0);
}

BOOST_AUTO_TEST_CASE(upwind_and_central_coefficients) {
  const LinearFlux f = upwind({2.0, 0.5}, 0.25);
  BOOST_CHECK_EQUAL(f.alpha, 2.0 + 2.0);
  BOOST_CHECK_EQUAL(f.beta, 2.0);
  const LinearFlux g = upwind({-2.0, 0.5}, 0.25);
  BOOST_CHECK_EQUAL(g.alpha, 2.0);
  BOOST_CHECK_EQUAL(g.beta, 4.0);
  const LinearFlux d = central_diffusion({7.0, 0.5}, 0.25);
  BOOST_CHECK_EQUAL(d.alpha, 2.0);
  BOOST_CHECK_EQUAL(d.beta, 2.0);
}

BOOST_AUTO_TEST_CASE(limiters_are_tvd_and_second_order) {
  for (Limiter l : {Limiter::minmod, Limiter::vanleer, Limiter::mc}) {
    BOOST_CHECK_CLOSE(limit(l, 1.0), 1.0, 1e-14);  // exact on linear data
    for (double r : {-3.0, -0.1, 0.0}) BOOST_CHECK_EQUAL(limit(l, r), 0.0);
    for (double r : {0.1, 0.5, 2.0, 10.0}) {
      BOOST_CHECK(limit(l, r) >= 0);
      BOOST_CHECK(limit(l, r) <= 2 * std::min(1.0, r) + 1e-15);
    }
  }
  // Linear data is reconstructed exactly at the face; an extremum falls back to the cell value.
  BOOST_CHECK_CLOSE(reconstruct(Limiter::vanleer, 1.0, 2.0, 3.0), 2.5, 1e-14);
  BOOST_CHECK_EQUAL(reconstruct(Limiter::mc, 1.0, 3.0, 2.0), 3.0);
  BOOST_CHECK_CLOSE(muscl_drift(Limiter::minmod, 2.0, 1, 2, 3, 4), 5.0, 1e-14);
  BOOST_CHECK_CLOSE(muscl_drift(Limiter::minmod, -2.0, 1, 2, 3, 4), -5.0, 1e-14);
}

BOOST_AUTO_TEST_CASE(gaussian_interval_probabilities) {
  // Symmetric interval and a far tail where 1 - Phi would cancel catastrophically.
  BOOST_CHECK_CLOSE(gaussian::interval_probability(-1, 1, 0, 1), std::erf(1 / std::sqrt(2.0)), 1e-13);
  const double tail = 0.5 * std::erfc(9 / std::sqrt(2.0)) - 0.5 * std::erfc(10 / std::sqrt(2.0));
  BOOST_CHECK_CLOSE(gaussian::interval_probability(9, 10, 0, 1), tail, 1e-12);
  BOOST_CHECK_CLOSE(gaussian::interval_probability(-10, -9, 0, 1), tail, 1e-12);
  // Cell averages of a 2-D Gaussian over a partition of a wide box sum to 1.
  const double m[2] = {0.3, -0.2}, s[2] = {0.5, 0.8};
  double sum = 0;
  const int n = 40;
  const double L = 8;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const double h = 2 * L / n, lo[2] = {-L + i * h, -L + j * h}, hi[2] = {lo[0] + h, lo[1] + h};
      sum += gaussian::cell_average(2, lo, hi, m, s) * h * h;
    }
  BOOST_CHECK_CLOSE(sum, 1.0, 1e-11);
}

#include "problems/images.hpp"

namespace {
// Integral of images::density over [a, b] by composite 5-point Gauss-Legendre (400 panels).
double integrate_density(double a, double b, double m, double s, const images::Walls& w,
                         images::Method how) {
  static const double x5[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                               0.9061798459386640};
  static const double w5[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                               0.4786286704993665, 0.2369268850561891};
  const int panels = 400;
  const double h = (b - a) / panels;
  double sum = 0;
  for (int p = 0; p < panels; ++p)
    for (int q = 0; q < 5; ++q)
      sum += 0.5 * h * w5[q] * images::density(a + (p + 0.5) * h + 0.5 * h * x5[q], m, s, w, how);
  return sum;
}
}  // namespace

BOOST_AUTO_TEST_CASE(walled_gaussian_images_and_series_agree) {
  // The law of N(m, s^2) through reflecting, absorbing and periodic walls, and mixed walls (one
  // side absorbing, the other reflecting), by images and by the eigen-series: two independent
  // exact sums must agree to round-off at every width s/L, over subintervals of every size, and
  // match the density's own integral.
  using images::Method;
  for (AxisBoundary bc : {AxisBoundary(Boundary::reflecting), AxisBoundary(Boundary::absorbing),
                          AxisBoundary(Boundary::periodic),
                          AxisBoundary(Boundary::absorbing, Boundary::reflecting),
                          AxisBoundary(Boundary::reflecting, Boundary::absorbing)}) {
    const images::Walls w{-1.0, 2.0, bc};  // L = 3
    for (double s : {0.3, 0.9, 1.5, 3.0, 6.0}) {
      for (double m : {-0.7, 0.5, 1.9}) {
        for (auto [a, b] : {std::pair{-1.0, 2.0}, {-1.0, -0.9}, {0.3, 0.35}, {1.2, 2.0}}) {
          BOOST_TEST_INFO("bc " << to_string(bc) << " s " << s << " m " << m << " [" << a << ", " << b << "]");
          const double pi = images::interval_probability(a, b, m, s, w, Method::images);
          const double ps = images::interval_probability(a, b, m, s, w, Method::series);
          BOOST_CHECK_SMALL(pi - ps, 1e-14);
          BOOST_CHECK_SMALL(integrate_density(a, b, m, s, w, Method::images) - pi, 1e-13);
          BOOST_CHECK_SMALL(integrate_density(a, b, m, s, w, Method::series) - ps, 1e-13);
        }
        // Reflecting and periodic walls keep all the mass; absorbing walls keep the survival.
        const double total = images::interval_probability(-1, 2, m, s, w);
        if (!bc.any(Boundary::absorbing)) BOOST_CHECK_SMALL(total - 1.0, 1e-14);
        else BOOST_CHECK(total > 0 && total <= 1);  // (1 to round-off when far from the sink)
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(walled_gaussian_boundary_conditions) {
  const double m = 0.4, s = 0.7, eps = 1e-6;
  const images::Walls refl{-1.0, 2.0, Boundary::reflecting}, absb{-1.0, 2.0, Boundary::absorbing},
      per{-1.0, 2.0, Boundary::periodic};
  for (auto how : {images::Method::images, images::Method::series}) {
    // Absorbing: zero density on the walls. Reflecting: zero normal derivative. Periodic: the
    // density and its derivative match across the wrap.
    BOOST_CHECK_SMALL(images::density(-1.0, m, s, absb, how), 1e-15);
    BOOST_CHECK_SMALL(images::density(2.0, m, s, absb, how), 1e-15);
    BOOST_CHECK_SMALL((images::density(-1.0 + eps, m, s, refl, how) - images::density(-1.0, m, s, refl, how)) / eps, 1e-5);
    BOOST_CHECK_SMALL((images::density(2.0, m, s, refl, how) - images::density(2.0 - eps, m, s, refl, how)) / eps, 1e-5);
    BOOST_CHECK_SMALL(images::density(-1.0, m, s, per, how) - images::density(2.0, m, s, per, how), 1e-14);
  }
  // Absorbing survival with a narrow law: the reflection principle, 1 - 2 Phi(-d_lo/s) -
  // 2 Phi(-d_hi/s), exact up to paths crossing twice (Phi(-(2L - d)/s) < 1e-60 here).
  const double sn = 0.2, survival = 1 - std::erfc(1.4 / (sn * std::sqrt(2.0))) -
                                    std::erfc(1.6 / (sn * std::sqrt(2.0)));
  BOOST_CHECK_CLOSE(images::interval_probability(-1, 2, 0.4, sn, absb), survival, 1e-12);
  // Far walls (beyond 12 s): exactly the free-space Gaussian.
  const images::Walls far{-20.0, 20.0, Boundary::absorbing};
  for (double a : {-1.0, -0.2, 0.5})
    BOOST_CHECK_EQUAL(images::interval_probability(a, a + 0.1, 0.1, 1.0, far),
                      gaussian::interval_probability(a, a + 0.1, 0.1, 1.0));
}

BOOST_AUTO_TEST_CASE(mixed_walls_first_passage_law) {
  // Absorbing at lo, reflecting at hi (the first-passage set-up), L = 3.
  const double lo = -1.0, hi = 2.0, L = hi - lo, eps = 1e-6;
  const images::Walls ar{lo, hi, {Boundary::absorbing, Boundary::reflecting}},
      ra{lo, hi, {Boundary::reflecting, Boundary::absorbing}};
  for (auto how : {images::Method::images, images::Method::series})
    for (double s : {0.3, 0.7, 2.5}) {
      BOOST_TEST_INFO("method " << int(how) << " s " << s);
      const double m = 0.4;
      // Zero on the absorbing side, zero normal derivative on the reflecting one.
      BOOST_CHECK_SMALL(images::density(lo, m, s, ar, how), 1e-15);
      BOOST_CHECK_SMALL((images::density(hi, m, s, ar, how) - images::density(hi - eps, m, s, ar, how)) / eps, 1e-5);
      BOOST_CHECK_SMALL(images::density(hi, m, s, ra, how), 1e-15);
      BOOST_CHECK_SMALL((images::density(lo + eps, m, s, ra, how) - images::density(lo, m, s, ra, how)) / eps, 1e-5);
      // Mirror symmetry: reflecting:absorbing is absorbing:reflecting seen from the other end.
      for (double x : {-0.9, 0.1, 1.3, 1.95})
        BOOST_CHECK_SMALL(images::density(x, m, s, ra, how) -
                              images::density(lo + hi - x, lo + hi - m, s, ar, how), 1e-13);
    }
  // Survival against the point-start series (written out here, independently of images.hpp):
  // S = sum_n 4/((2n+1) pi) sin((2n+1) pi d/(2L)) exp(-((2n+1) pi/(2L))^2 s^2/2), d = m - lo
  // (a Gaussian start of variance s0^2 is the point start run for s0^2 longer).
  for (double m : {-0.8, 0.4, 1.9})
    for (double s : {0.2, 0.8, 3.0}) {
      double S = 0;
      for (int n = 2000; n >= 0; --n) {
        const double k = (2 * n + 1) * M_PI / (2 * L);
        S += 4 / ((2 * n + 1) * M_PI) * std::sin(k * (m - lo)) * std::exp(-0.5 * k * k * s * s);
      }
      BOOST_TEST_INFO("m " << m << " s " << s);
      BOOST_CHECK_SMALL(images::interval_probability(lo, hi, m, s, ar, images::Method::images) - S, 1e-13);
      BOOST_CHECK_SMALL(images::interval_probability(lo, hi, lo + hi - m, s, ra, images::Method::images) - S, 1e-13);
    }
  // A narrow law near the absorbing side: the reflection principle, 1 - 2 Phi(-d/s).
  BOOST_CHECK_CLOSE(images::interval_probability(lo, hi, -0.6, 0.2, ar),
                    1 - std::erfc(0.4 / (0.2 * std::sqrt(2.0))), 1e-12);
}

#include "verification/random.hpp"

BOOST_AUTO_TEST_CASE(philox_known_answer_and_normal_moments) {
  // Random123's published known-answer vector for Philox4x32-10 (counter 0, key 0).
  const r123::Philox4x32::ctr_type c = {{0, 0, 0, 0}};
  const r123::Philox4x32::key_type k = {{0, 0}};
  const auto r = r123::Philox4x32()(c, k);
  BOOST_CHECK_EQUAL(r[0], 0x6627e8d5u);
  BOOST_CHECK_EQUAL(r[1], 0xe169c58du);
  BOOST_CHECK_EQUAL(r[2], 0xbc57ac4cu);
  BOOST_CHECK_EQUAL(r[3], 0x9b00dbd8u);
  // Streams are pure functions of (key, counter); purposes and substreams differ.
  const Philox a(7, Purpose::noise), b(7, Purpose::initial);
  BOOST_CHECK(a.raw(12345, 3, 0) == a.raw(12345, 3, 0));
  BOOST_CHECK(a.raw(12345, 3, 0) != b.raw(12345, 3, 0));
  BOOST_CHECK(a.raw(12345, 3, 0) != a.raw(12345, 3, 1));
  BOOST_CHECK(a.raw(1ull << 40, 0, 0) != a.raw(0, 0, 0));  // the high id word is used
  // Normal moments from N = 2^21 draws: SE(mean) = 1/sqrt(N) = 6.9e-4, SE(var) =
  // sqrt(2/N) = 9.8e-4, SE(4th moment) = sqrt(96/N) = 6.8e-3; gates at 6 SE (two-sided false
  // alarm 2e-9 each). A wrong transform (e.g. uniform, or variance 1/2) misses by > 100 SE.
  const int N = 1 << 21;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int p = 0; p < N / 2; ++p) {
    for (double z : a.normals(p, 0, 0)) {
      s1 += z;
      s2 += z * z;
      s4 += z * z * z * z;
    }
  }
  BOOST_CHECK_SMALL(s1 / N, 6 / std::sqrt(double(N)));
  BOOST_CHECK_SMALL(s2 / N - 1, 6 * std::sqrt(2.0 / N));
  BOOST_CHECK_SMALL(s4 / N - 3, 6 * std::sqrt(96.0 / N));
}

#include "verification/statistics.hpp"

BOOST_AUTO_TEST_CASE(statistical_floors_match_verification_md) {
  using namespace fpflow::stats;
  // docs/VERIFICATION.md §2: K = 50, N = 1e6, delta = 1e-6 -> L1 floor 0.0123.
  BOOST_CHECK_CLOSE(l1_floor(50, 1e6, 1e-6), 0.0123, 1.0);
  // DKW coefficient 2.693/sqrt(N) at delta = 1e-6.
  BOOST_CHECK_CLOSE(dkw_floor(1e6, 1e-6) * 1e3, 2.693, 0.1);
  BOOST_CHECK_CLOSE(richardson_bound(3e-4), 4e-4, 1e-12);
  BOOST_CHECK_CLOSE(w1_gaussian_floor(2.0, 1e4, 1e-6), 2 * (0.01288 + std::sqrt(2 * std::log(1e6) / 1e4)), 1e-9);
  // Bin merging: every group reaches the minimum expected count; the tail joins its neighbour.
  const std::vector<double> p = {1e-6, 2e-6, 0.1, 0.3, 0.3, 0.299, 1e-3, 1e-6};
  const auto g = merge_sparse_bins(p, 1000.0);
  std::vector<double> count(g.back() + 1, 0.0);
  for (size_t k = 0; k < p.size(); ++k) count[g[k]] += 1000 * p[k];
  for (double c : count) BOOST_CHECK_GE(c, 5.0);
  BOOST_CHECK_EQUAL(g.front(), 0u);
  BOOST_CHECK(std::is_sorted(g.begin(), g.end()));
}
