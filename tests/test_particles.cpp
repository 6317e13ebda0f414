// tests/test_particles.cpp — the particle engine (issue 4 groundwork): Euler-Maruyama against the
// EM chain's own exact law, exact Gaussian transitions against the exact OU law, walls, and
// bitwise rank independence. Gates are 6 standard errors (two-sided false alarm 2e-9 per check).
// Runs at 1 and 2 ranks.
#define BOOST_TEST_MODULE particles
#include "common.hpp"

#include "verification/particles.hpp"

#include <cstring>

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

struct OU1 : Coefficients {
  double theta = 1, sigma = 1;
  void drift(const double* x, double, double* b) const override { b[0] = -theta * x[0]; }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    a[0] = sigma * sigma;
  }
  bool time_dependent() const override { return false; }
};

// Global sample mean and variance of coordinate 0 over live particles.
std::pair<double, double> moments(const Ensemble& e) {
  double s[3] = {0, 0, 0}, g[3];
  for (std::size_t p = 0; p < e.local_size(); ++p) {
    if (!e.alive(p)) continue;
    const double x = e.position(p)[0];
    s[0] += 1, s[1] += x, s[2] += x * x;
  }
  MPI_Allreduce(s, g, 3, MPI_DOUBLE, MPI_SUM, world());
  const double m = g[1] / g[0];
  return {m, (g[2] - g[0] * m * m) / (g[0] - 1)};
}

// Survival to time T in (-1, 1) of dX = dW started from N(0, 0.1^2), absorbed at both walls:
// the sine series of the heat kernel (beta = 1/2, half-width 1), smoothed by the initial law.
double survival(double T) {
  double S = 0;
  for (int m = 1; m < 2001; m += 2) {
    const double k = m * M_PI / 2;
    S += std::sin(k) * std::exp(-k * k * 0.01 / 2) * std::exp(-0.5 * k * k * T) * 2 / k;
  }
  return S;
}

void gate(std::pair<double, double> mv, double mean, double var, double n) {
  BOOST_CHECK_SMALL(mv.first - mean, 6 * std::sqrt(var / n));
  BOOST_CHECK_SMALL(mv.second - var, 6 * var * std::sqrt(2 / (n - 1)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(euler_maruyama_matches_the_em_chain_law) {
  // dX = -X dt + dW from x0 = 1, dt = 0.01, 100 steps. The EM chain is Gaussian with mean
  // (1 - dt)^n and v_{k+1} = (1 - dt)^2 v_k + dt (VERIFICATION.md) — not the SDE's own law,
  // whose mean and variance differ by ~3 and ~5 SE at this N.
  const double n = 1 << 18, dt = 0.01;
  Ensemble e(world(), 1, std::uint64_t(n), 2024);
  e.sample_gaussian({1.0}, {0.0});
  OU1 ou;
  double mean = 1, var = 0;
  for (std::uint32_t k = 0; k < 100; ++k) {
    e.step_euler_maruyama(ou, k * dt, dt, k);
    mean *= 1 - dt;
    var = (1 - dt) * (1 - dt) * var + dt;
  }
  gate(moments(e), mean, var, n);
  // Power: the same gate with a 5% larger sigma must fail (variance off by ~18 SE).
  Ensemble f(world(), 1, std::uint64_t(n), 2024);
  f.sample_gaussian({1.0}, {0.0});
  OU1 wrong;
  wrong.sigma = 1.05;
  for (std::uint32_t k = 0; k < 100; ++k) f.step_euler_maruyama(wrong, k * dt, dt, k);
  BOOST_CHECK_GT(std::fabs(moments(f).second - var), 6 * var * std::sqrt(2 / (n - 1)));
}

BOOST_AUTO_TEST_CASE(exact_transition_matches_the_ou_law) {
  // 2-D OU with B = I, a = I, from N((1, -1), 0.1 I): ten exact steps of 0.1 reach t = 1.
  const double n = 1 << 18, dt = 0.1, e1 = std::exp(-dt);
  const double q = 0.5 * (1 - std::exp(-2 * dt));  // transition variance per axis
  Ensemble e(world(), 2, std::uint64_t(n), 7);
  e.sample_gaussian({1.0, -1.0}, {0.1, 0.0, 0.0, 0.1});
  const LinearSDE ou{{1, 0, 0, 1}, {0, 0}, {1, 0, 0, 1}};
  const LinearTransition tr = exact_transition(ou, 2, dt);
  BOOST_CHECK_CLOSE(tr.E[0], e1, 1e-12);
  BOOST_CHECK_CLOSE(tr.Q[0], q, 1e-10);
  BOOST_CHECK_SMALL(tr.Q[1], 1e-15);
  for (std::uint32_t k = 0; k < 10; ++k) e.step_linear_exact(ou, 0.1 * k, dt, k);
  const double m = std::exp(-1.0), v = 0.1 * std::exp(-2.0) + 0.5 * (1 - std::exp(-2.0));
  gate(moments(e), m, v, n);
}

BOOST_AUTO_TEST_CASE(walls_reflect_wrap_and_absorb) {
  // Heat-like noise on a narrow box: every kind of wall is hit many times.
  struct Noise : Coefficients {
    void drift(const double*, double, double* b) const override { b[0] = b[1] = 0; }
    void diffusion(const double*, double, double* a) const override {
      for (int i = 0; i < 9; ++i) a[i] = 0;
      a[0] = a[4] = 1;
    }
    bool time_dependent() const override { return false; }
  } noise;
  GridSpec spec;
  spec.dim = 2;
  spec.box.lo = {-1, -1, 0};
  spec.box.hi = {1, 1, 1};
  spec.cells = {8, 8, 1};
  spec.bc = {Boundary::reflecting, Boundary::periodic, Boundary::reflecting};
  ScopedOptions none("");
  // 20000 particles from N(0, 0.1^2 I), 50 steps of 0.1 with the walls of `walls`.
  auto walk = [&](const Grid& walls) {
    Ensemble e(world(), 2, 20000, 3);
    e.set_walls(walls);
    e.sample_gaussian({0.0, 0.0}, {0.01, 0, 0, 0.01});
    for (std::uint32_t k = 0; k < 50; ++k) e.step_euler_maruyama(noise, 0.1 * k, 0.1, k);
    return e;
  };
  Grid box(world(), spec);
  const Ensemble e = walk(box);
  BOOST_CHECK_EQUAL(e.alive_count(), 20000u);
  for (std::size_t p = 0; p < e.local_size(); ++p)
    for (int d = 0; d < 2; ++d) {
      BOOST_CHECK_GE(e.position(p)[d], -1.0);
      BOOST_CHECK_LE(e.position(p)[d], 1.0);
    }
  // Absorbing in x: after long enough almost everyone has left, with exit times in range.
  spec.bc = {Boundary::absorbing, Boundary::periodic, Boundary::reflecting};
  Grid sink(world(), spec);
  const Ensemble a = walk(sink);
  // Exact survival in (-1, 1) for dX = dW from N(0, 0.1^2) with continuous monitoring. The
  // Brownian-bridge test inside each step makes the discretely stepped walk exact in law.
  const double S = survival(5.0), alive = double(a.alive_count()), expect = 20000 * S;  // ~54
  BOOST_CHECK_SMALL(alive - expect, 6 * std::sqrt(expect));
  BOOST_CHECK_LE(alive, 0.05 * 20000);  // and most particles did leave
  for (std::size_t p = 0; p < a.local_size(); ++p)
    if (!a.alive(p)) {
      BOOST_CHECK_GT(a.exit_time(p), 0.0);
      BOOST_CHECK_LE(a.exit_time(p), 5.0 + 1e-12);
    }
}

BOOST_AUTO_TEST_CASE(particles_are_identical_on_any_rank_count) {
  if (size() != 2) return;
  const std::uint64_t n = 1001;
  auto evolve = [&](MPI_Comm comm) {
    Ensemble e(comm, 2, n, 99);
    e.sample_gaussian({0.5, 0.0}, {0.2, 0.05, 0.05, 0.1});
    OU1 ou;
    struct OU2 : Coefficients {
      void drift(const double* x, double, double* b) const override {
        b[0] = -x[0] + 0.3 * x[1];
        b[1] = -x[1];
      }
      void diffusion(const double*, double, double* a) const override {
        for (int i = 0; i < 9; ++i) a[i] = 0;
        a[0] = 1, a[1] = a[3] = 0.4, a[4] = 0.8;
      }
      bool time_dependent() const override { return false; }
    } c;
    for (std::uint32_t k = 0; k < 20; ++k) e.step_euler_maruyama(c, 0.05 * k, 0.05, k);
    return e;
  };
  const Ensemble par = evolve(world());
  // Gather the parallel positions to rank 0 in global-id order (contiguous ranges).
  std::vector<double> mine;
  for (std::size_t p = 0; p < par.local_size(); ++p)
    mine.insert(mine.end(), par.position(p), par.position(p) + 2);
  int count = int(mine.size()), counts[2], displs[2] = {0, 0};
  MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, world());
  if (rank() == 0) displs[1] = counts[0];
  std::vector<double> all(2 * n);
  MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts, displs, MPI_DOUBLE, 0, world());
  if (rank() != 0) return;
  const Ensemble ser = evolve(PETSC_COMM_SELF);
  for (std::size_t p = 0; p < n; ++p)
    BOOST_REQUIRE(std::memcmp(ser.position(p), &all[2 * p], 2 * sizeof(double)) == 0);
}
