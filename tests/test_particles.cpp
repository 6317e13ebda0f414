// tests/test_particles.cpp — the particle engine (issue 4 groundwork): Euler-Maruyama against the
// EM chain's own exact law, exact Gaussian transitions against the exact OU law, walls, and
// bitwise rank independence of every sampler and stepper; Brownian-bridge exits, Heun/RK4
// orders, mixture and grid-cell samplers, and the comparison primitives by hand. Gates are 6
// standard errors (two-sided false alarm 2e-9 per check).
// Runs at 1 and 2 ranks.
#define BOOST_TEST_MODULE particles
#include "common.hpp"

#include "verification/compare.hpp"
#include "verification/norms.hpp"
#include "verification/particles.hpp"
#include "verification/statistics.hpp"

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

// A small grid: the walls (box and boundary kinds) of particle tests.
GridSpec walls_of(int dim, std::array<double, 3> lo, std::array<double, 3> hi,
                  std::array<PetscInt, 3> cells, Boundaries bc) {
  GridSpec s;
  s.dim = dim;
  s.box.lo = lo;
  s.box.hi = hi;
  s.cells = cells;
  s.bc = bc;
  return s;
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
  // (1 - dt)^n and v_{k+1} = (1 - dt)^2 v_k + dt (docs/VERIFICATION.md §2) — not the SDE's own law,
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
  // The offset of dX = (c - B X) dt + G dW: for B = I the mean relaxes to c,
  // m(t) = e^{-t} m0 + (1 - e^{-t}) c, here with c = (0.4, -0.2).
  const LinearSDE shifted{{1, 0, 0, 1}, {0.4, -0.2}, {1, 0, 0, 1}};
  const LinearTransition ts = exact_transition(shifted, 2, dt);
  BOOST_CHECK_CLOSE(ts.f[0], 0.4 * (1 - e1), 1e-10);
  BOOST_CHECK_CLOSE(ts.f[1], -0.2 * (1 - e1), 1e-10);
  Ensemble f(world(), 2, std::uint64_t(n), 8);
  f.sample_gaussian({1.0, -1.0}, {0.1, 0.0, 0.0, 0.1});
  for (std::uint32_t k = 0; k < 10; ++k) f.step_linear_exact(shifted, 0.1 * k, dt, k);
  gate(moments(f), std::exp(-1.0) + 0.4 * (1 - std::exp(-1.0)), v, n);
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
  GridSpec spec = walls_of(2, {-1, -1, 0}, {1, 1, 1}, {8, 8, 1},
                           {Boundary::reflecting, Boundary::periodic, Boundary::reflecting});
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
  // Every sampler and stepper, walls of every kind: same seed => bitwise identical positions,
  // alive flags and exit times at 1 and 2 ranks.
  if (size() != 2) return;
  const std::uint64_t n = 1001;
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
  const LinearSDE sde{{1, -0.3, 0, 1}, {0.1, 0}, {1, 0.4, 0.4, 0.8}};
  const GridSpec spec = walls_of(2, {-1.5, -2, 0}, {1.5, 2, 1}, {16, 12, 1},
                                 {Boundary::absorbing, Boundary::reflecting, Boundary::reflecting});
  ScopedOptions none("");
  auto evolve = [&](MPI_Comm comm, int start) {
    Grid grid(comm, spec);
    Ensemble e(comm, 2, n, 99);
    e.set_walls(grid);
    if (start == 0) {
      e.sample_mixture({{0.3, {0.5, 0.0}, {0.2, 0.05, 0.05, 0.1}}, {0.7, {-0.5, 1}, {0.1, 0, 0, 0.1}}});
    } else {
      VecH rho;
      FP_CHECK(DMCreateGlobalVector(grid.dm(), rho.out()));
      fill_cell_averages(grid, rho, [](const double* lo, const double*) {
        return 1.5 + std::sin(3 * lo[0]) * std::cos(2 * lo[1]);
      });
      e.sample_cells(grid, rho);
    }
    for (std::uint32_t k = 0; k < 10; ++k) e.step_euler_maruyama(c, 0.05 * k, 0.05, k);
    for (std::uint32_t k = 10; k < 20; ++k) e.step_linear_exact(sde, 0.05 * k, 0.05, k);
    return e;
  };
  for (int start = 0; start < 2; ++start) {
    const Ensemble par = evolve(world(), start);
    // Gather (x, y, alive, exit time) to rank 0 in global-id order (contiguous ranges).
    std::vector<double> mine;
    for (std::size_t p = 0; p < par.local_size(); ++p) {
      mine.insert(mine.end(), par.position(p), par.position(p) + 2);
      mine.push_back(par.alive(p));
      mine.push_back(par.exit_time(p));
    }
    int count = int(mine.size()), counts[2], displs[2] = {0, 0};
    MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, world());
    if (rank() == 0) displs[1] = counts[0];
    std::vector<double> all(4 * n);
    MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts, displs, MPI_DOUBLE, 0,
                world());
    if (rank() != 0) continue;
    const Ensemble ser = evolve(PETSC_COMM_SELF, start);
    std::size_t killed = 0;
    for (std::size_t p = 0; p < n; ++p) {
      const double mine_ser[4] = {ser.position(p)[0], ser.position(p)[1], double(ser.alive(p)),
                                  ser.exit_time(p)};
      BOOST_REQUIRE(std::memcmp(mine_ser, &all[4 * p], sizeof mine_ser) == 0);
      killed += !ser.alive(p);
    }
    BOOST_CHECK_GT(killed, 10u);  // the absorbing walls were exercised
  }
}

BOOST_AUTO_TEST_CASE(brownian_bridge_exits_are_exact_at_coarse_steps) {
  // dX = dW in (-1, 1), absorbing, from N(0, 0.1^2): survival to T = 0.5 (~0.68) has a sine
  // series. With steps of 0.1 (step sd 0.32, a third of the half-width) end-point monitoring alone
  // would overestimate survival by 0.11 (~120 SE: measured with the bridge test switched off);
  // the bridge test makes both steppers exact in law.
  const GridSpec spec = walls_of(1, {-1, 0, 0}, {1, 1, 1}, {8, 1, 1},
                                 {Boundary::absorbing, Boundary::absorbing, Boundary::absorbing});
  ScopedOptions none("");
  Grid grid(world(), spec);
  struct BM : Coefficients {
    void drift(const double*, double, double* b) const override { b[0] = 0; }
    void diffusion(const double*, double, double* a) const override {
      for (int i = 0; i < 9; ++i) a[i] = 0;
      a[0] = 1;
    }
    bool constant_diffusion() const override { return true; }
    bool time_dependent() const override { return false; }
  } bm;
  const double n = 1 << 18, S = survival(0.5), se = std::sqrt(S * (1 - S) / n);
  for (int exact = 0; exact < 2; ++exact) {
    Ensemble e(world(), 1, std::uint64_t(n), 11);
    e.set_walls(grid);
    e.sample_gaussian({0.0}, {0.01});
    for (std::uint32_t k = 0; k < 5; ++k) {
      if (exact) e.step_linear_exact({{0.0}, {0.0}, {1.0}}, 0.1 * k, 0.1, k);
      else e.step_euler_maruyama(bm, 0.1 * k, 0.1, k);
    }
    BOOST_CHECK_SMALL(double(e.alive_count()) / n - S, 6 * se);
  }
}

BOOST_AUTO_TEST_CASE(first_passage_with_one_absorbing_side) {
  // dX = dW in (-1, 1), absorbing at -1 and reflecting at 1 (and the mirror image: reflecting at
  // -1, absorbing at 1, from the mirrored start), from N(0.5, 0.1^2): the survival to T = 1 is
  // S = sum_n 4/((2n+1) pi) sin((2n+1) pi d/(2L)) e^{-((2n+1) pi/(2L))^2 (T + s0^2)/2},
  // d = distance to the absorbing side, L = 2. Steps of 0.1 reach both walls; only the absorbing
  // side kills (end points beyond it, or bridges touching it), the other mirrors.
  struct BM : Coefficients {
    void drift(const double*, double, double* b) const override { b[0] = 0; }
    void diffusion(const double*, double, double* a) const override {
      for (int i = 0; i < 9; ++i) a[i] = 0;
      a[0] = 1;
    }
    bool constant_diffusion() const override { return true; }
    bool time_dependent() const override { return false; }
  } bm;
  const double L = 2, d = 1.5, T = 1.0, s0 = 0.1, n = 1 << 18;
  double S = 0;
  for (int k = 2000; k >= 0; --k) {
    const double q = (2 * k + 1) * M_PI / (2 * L);
    S += 4 / ((2 * k + 1) * M_PI) * std::sin(q * d) * std::exp(-0.5 * q * q * (T + s0 * s0));
  }
  const double se = std::sqrt(S * (1 - S) / n);
  ScopedOptions none("");
  for (int mirrored = 0; mirrored < 2; ++mirrored) {
    const AxisBoundary walls = mirrored ? AxisBoundary(Boundary::reflecting, Boundary::absorbing)
                                        : AxisBoundary(Boundary::absorbing, Boundary::reflecting);
    Grid grid(world(), walls_of(1, {-1, 0, 0}, {1, 1, 1}, {8, 1, 1}, {walls, walls, walls}));
    for (int exact = 0; exact < 2; ++exact) {
      BOOST_TEST_INFO("walls " << to_string(walls) << (exact ? ", exact steps" : ", Euler-Maruyama"));
      Ensemble e(world(), 1, std::uint64_t(n), 17);
      e.set_walls(grid);
      e.sample_gaussian({mirrored ? -0.5 : 0.5}, {s0 * s0});
      for (std::uint32_t k = 0; k < 10; ++k) {
        if (exact) e.step_linear_exact({{0.0}, {0.0}, {1.0}}, 0.1 * k, 0.1, k);
        else e.step_euler_maruyama(bm, 0.1 * k, 0.1, k);
      }
      BOOST_CHECK_SMALL(double(e.alive_count()) / n - S, 6 * se);
      for (std::size_t p = 0; p < e.local_size(); ++p)
        if (e.alive(p)) {
          BOOST_REQUIRE_GE(e.position(p)[0], -1.0);
          BOOST_REQUIRE_LE(e.position(p)[0], 1.0);
        }
    }
  }
}

BOOST_AUTO_TEST_CASE(heun_and_rk4_reach_their_orders) {
  // dX = -B X with B = [[0.5, 1], [-1, 0.5]] (a decaying rotation): exact flow e^{-Bt} x0.
  struct Rot : Coefficients {
    void drift(const double* x, double, double* b) const override {
      b[0] = -0.5 * x[0] - x[1];
      b[1] = x[0] - 0.5 * x[1];
    }
    void diffusion(const double*, double, double* a) const override {
      for (int i = 0; i < 9; ++i) a[i] = 0;
    }
    bool time_dependent() const override { return false; }
  } rot;
  small::Mat mB(2);
  mB.a = {-0.5, -1, 1, -0.5};
  const small::Mat E = small::expm(mB);
  auto error = [&](int method, int steps) {
    Ensemble e(world(), 2, 64, 5);
    e.sample_gaussian({1.0, -0.5}, {0.3, 0, 0, 0.3});
    std::vector<double> x0;
    for (std::size_t p = 0; p < e.local_size(); ++p) x0.insert(x0.end(), e.position(p), e.position(p) + 2);
    const double dt = 1.0 / steps;
    for (int k = 0; k < steps; ++k) {
      if (method == 2) e.step_heun(rot, k * dt, dt);
      else e.step_rk4(rot, k * dt, dt);
    }
    double err = 0;
    for (std::size_t p = 0; p < e.local_size(); ++p)
      for (int i = 0; i < 2; ++i)
        err = std::max(err, std::fabs(e.position(p)[i] - E(i, 0) * x0[2 * p] - E(i, 1) * x0[2 * p + 1]));
    MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPI_DOUBLE, MPI_MAX, world());
    return err;
  };
  BOOST_CHECK_SMALL(order(error(2, 20), error(2, 40)) - 2, 0.1);
  BOOST_CHECK_SMALL(order(error(4, 10), error(4, 20)) - 4, 0.1);
  BOOST_CHECK_LT(error(4, 20), 1e-6);  // and the constant: no O(dt) leak
}

BOOST_AUTO_TEST_CASE(samplers_draw_the_right_law) {
  // Mixture weights (6 SE per component) and grid-cell sampling (cell frequencies against the
  // cell masses in L1, floor at delta = 1e-9).
  const double n = 1 << 18;
  Ensemble m(world(), 1, std::uint64_t(n), 21);
  m.sample_mixture({{1, {-10.0}, {0.25}}, {2, {0.0}, {1.0}}, {1, {10.0}, {0.04}}});
  double count[3] = {0, 0, 0};
  for (std::size_t p = 0; p < m.local_size(); ++p) {
    const double x = m.position(p)[0];
    count[x < -5 ? 0 : x < 5 ? 1 : 2] += 1;
  }
  MPI_Allreduce(MPI_IN_PLACE, count, 3, MPI_DOUBLE, MPI_SUM, world());
  const double w[3] = {0.25, 0.5, 0.25};
  for (int k = 0; k < 3; ++k) BOOST_CHECK_SMALL(count[k] / n - w[k], 6 * std::sqrt(w[k] * (1 - w[k]) / n));

  const GridSpec spec = walls_of(2, {0, 0, 0}, {1, 2, 1}, {12, 10, 1},
                                 {Boundary::reflecting, Boundary::reflecting, Boundary::reflecting});
  ScopedOptions none("");
  Grid grid(world(), spec);
  VecH rho;
  FP_CHECK(DMCreateGlobalVector(grid.dm(), rho.out()));
  fill_cell_averages(grid, rho, [](const double* lo, const double*) {
    return lo[0] < 0.5 ? 0.0 : 1 + lo[0] * lo[1];  // zero-mass cells must never be drawn
  });
  Ensemble c(world(), 2, std::uint64_t(n), 22);
  c.sample_cells(grid, rho);
  const auto side = compare::reduce_grid(grid, rho, {12, 10, 1}, 0.0);
  const auto parts = compare::reduce_particles(c, side);
  double l1 = 0;
  for (std::size_t k = 0; k < side.block_mass.size(); ++k) {
    const double p = side.block_mass[k] / side.mass;
    if (p == 0) BOOST_CHECK_EQUAL(parts.block_count[k], 0.0);
    l1 += std::fabs(parts.block_count[k] / n - p);
  }
  BOOST_CHECK_LT(l1, stats::l1_floor(side.block_mass.size(), n, 1e-9));
  // Uniform inside a cell: the x-marginal CDF of the draws against the piecewise-linear one.
  if (rank() == 0)
    BOOST_CHECK_LT(compare::ks_grid(parts.sorted[0], 0.0, 1.0 / 12, side.marginal[0]),
                   stats::dkw_floor(n, 1e-9));
}

BOOST_AUTO_TEST_CASE(comparison_primitives_by_hand) {
  // One cell of uniform density on [0, 1] and one sample at 0.5: KS = 1/2, W1 = 1/4.
  BOOST_CHECK_CLOSE(compare::ks_grid({0.5}, 0.0, 1.0, {1.0}), 0.5, 1e-12);
  BOOST_CHECK_CLOSE(compare::w1_grid({0.5}, 0.0, 1.0, {1.0}), 0.25, 1e-12);
  // Two cells [0, 1], [1, 2] with masses 1/4, 3/4 and samples {1, 1.5}: F(1) = 1/4, F(1.5) = 5/8.
  BOOST_CHECK_CLOSE(compare::ks_grid({1.0, 1.5}, 0.0, 1.0, {0.25, 0.75}), 0.375, 1e-12);
  // W1 = int_0^1 x/4 + int_1^1.5 |1/2 - F| + int_1.5^2 (1 - F), F = 1/4 + 3/4 (x - 1) on [1, 2];
  // the middle term is two triangles either side of F = 1/2 at x = 4/3.
  const double w = 0.125 + (0.25 * (1.0 / 3) / 2 + 0.125 * (1.0 / 6) / 2) + 0.375 * 0.5 / 2;
  BOOST_CHECK_CLOSE(compare::w1_grid({1.0, 1.5}, 0.0, 1.0, {0.25, 0.75}), w, 1e-12);
  BOOST_CHECK_CLOSE(compare::w1_two_sample({0, 1}, {0.5, 1.5}), 0.5, 1e-12);
  BOOST_CHECK_CLOSE(compare::ks_two_sample({0, 1}, {0.5, 1.5}), 0.5, 1e-12);
  BOOST_CHECK_CLOSE(compare::ks_two_sample({0, 1}, {2, 3}), 1.0, 1e-12);
}
