// verification/particles.cpp — ensemble storage, initial sampling, steppers and walls
// (see particles.hpp).
#include "verification/particles.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {

void psd_cholesky(const double* a, int n, double* L) {
  // a and L are 3 x 3 row-major (stride 3), whatever n.
  for (int i = 0; i < 9; ++i) L[i] = 0;
  double scale = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::fabs(a[4 * i]));
  for (int j = 0; j < n; ++j) {
    double d = a[4 * j];
    for (int k = 0; k < j; ++k) d -= L[3 * j + k] * L[3 * j + k];
    if (d < -1e-12 * scale || !std::isfinite(d))
      throw Error("diffusion matrix is not positive semi-definite (or not finite)");
    const double ljj = d > 1e-14 * scale ? std::sqrt(d) : 0.0;
    L[4 * j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      double s = a[3 * i + j];
      for (int k = 0; k < j; ++k) s -= L[3 * i + k] * L[3 * j + k];
      L[3 * i + j] = ljj > 0 ? s / ljj : 0.0;
    }
  }
}

std::vector<double> psd_cholesky(const std::vector<double>& a, int n) {
  double a9[9] = {0}, L9[9];
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a9[3 * i + j] = a[i * n + j];
  psd_cholesky(a9, n, L9);
  std::vector<double> L(std::size_t(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) L[i * n + j] = L9[3 * i + j];
  return L;
}

Ensemble::Ensemble(MPI_Comm comm, int dim, std::uint64_t n_global, std::uint32_t seed)
    : comm_(comm),
      dim_(dim),
      n_global_(n_global),
      noise_rng_(seed, Purpose::noise),
      init_rng_(seed, Purpose::initial) {
  const std::uint64_t size = std::uint64_t(comm_size(comm)), rank = std::uint64_t(comm_rank(comm));
  begin_ = n_global * rank / size;
  const std::uint64_t end = n_global * (rank + 1) / size;
  x_.assign(3 * (end - begin_), 0.0);
  alive_.assign(end - begin_, 1);
  exit_.assign(end - begin_, -1.0);
}

void Ensemble::set_walls(const Grid& grid) {
  has_walls_ = true;
  box_ = grid.box();
  for (int d = 0; d < 3; ++d) bc_[d] = grid.boundary(d);
}

void Ensemble::normals(std::uint64_t id, std::uint32_t step, std::uint32_t block,
                       double* z) const {
  z[0] = z[1] = z[2] = 0;
  for (std::uint32_t b = 0; b < block; ++b) {
    const std::uint32_t s = step * block + b;
    const auto a = noise_rng_.normals(id, s, 0);
    z[0] += a[0], z[1] += a[1];
    if (dim_ == 3) z[2] += noise_rng_.normals(id, s, 1)[0];
  }
  if (block > 1) {
    const double r = 1.0 / std::sqrt(double(block));
    z[0] *= r, z[1] *= r, z[2] *= r;
  }
}

void Ensemble::sample_gaussian(const std::vector<double>& mean, const std::vector<double>& cov) {
  sample_mixture({GaussianComponent{1.0, mean, cov}});
}

void Ensemble::sample_mixture(const GaussianMixture& law) {
  if (law.empty()) throw Error("internal: sampling an empty Gaussian mixture");
  std::vector<std::vector<double>> L;
  std::vector<double> cdf;
  double total = 0;
  for (const auto& g : law) {
    if (int(g.mean.size()) != dim_ || int(g.cov.size()) != dim_ * dim_ || !(g.weight >= 0))
      throw Error("internal: malformed Gaussian mixture component");
    L.push_back(psd_cholesky(g.cov, dim_));
    cdf.push_back(total += g.weight);
  }
  auto inside = [&](const double* x) {
    for (int d = 0; d < dim_ && has_walls_; ++d)
      if (x[d] < box_.lo[d] || x[d] > box_.hi[d]) return false;
    return true;
  };
  // With walls, draws outside the box are redrawn (attempt number = the counter's step word):
  // the grid holds only the mass inside, so both sides start from the law conditioned on the box.
  const std::uint32_t max_attempts = 10000;
  bool exhausted = false;
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    const std::uint64_t id = begin_ + p;
    double* x = &x_[3 * p];
    std::uint32_t attempt = 0;
    do {
      std::size_t k = 0;
      if (law.size() > 1) {
        const double u = init_rng_.uniforms(id, attempt, 2)[0] * total;
        k = std::min<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin(),
                                  law.size() - 1);
      }
      const auto a = init_rng_.normals(id, attempt, 0);
      const double z[3] = {a[0], a[1], dim_ == 3 ? init_rng_.normals(id, attempt, 1)[0] : 0.0};
      for (int i = 0; i < dim_; ++i) {
        double v = law[k].mean[i];
        for (int j = 0; j <= i; ++j) v += L[k][i * dim_ + j] * z[j];
        x[i] = v;
      }
    } while (!inside(x) && ++attempt < max_attempts);
    exhausted = exhausted || attempt == max_attempts;
    alive_[p] = 1;
    exit_[p] = -1;
  }
  throw_if_any(comm_, exhausted ? "the initial law has (almost) no mass inside the box" : "");
}

void Ensemble::sample_cells(const Grid& grid, Vec rho) {
  // Gather in natural (x fastest) order so every rank count builds the same CDF, summed in the
  // same order: the draw is then bitwise rank-independent.
  VecH natural, all;
  FP_CHECK(DMDACreateNaturalVector(grid.dm(), natural.out()));
  FP_CHECK(DMDAGlobalToNaturalBegin(grid.dm(), rho, INSERT_VALUES, natural));
  FP_CHECK(DMDAGlobalToNaturalEnd(grid.dm(), rho, INSERT_VALUES, natural));
  VecScatterH scatter;
  FP_CHECK(VecScatterCreateToAll(natural, scatter.out(), all.out()));
  FP_CHECK(VecScatterBegin(scatter, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  FP_CHECK(VecScatterEnd(scatter, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscInt nx = grid.cells(0), ny = grid.cells(1);
  std::vector<double> cdf;
  {
    VecArrayRead r(all);
    PetscInt n = 0;
    FP_CHECK(VecGetLocalSize(all, &n));
    cdf.resize(std::size_t(n));
    double total = 0;
    for (PetscInt c = 0; c < n; ++c) {
      if (!(r[c] >= 0) || !std::isfinite(r[c]))
        throw Error("cannot sample particles from a density that is negative or not finite");
      cdf[c] = total += r[c];
    }
    if (!(total > 0)) throw Error("cannot sample particles from a density of zero mass");
  }
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    const std::uint64_t id = begin_ + p;
    const auto u = init_rng_.uniforms(id, 0, 3), v = init_rng_.uniforms(id, 0, 4);
    // u in (0, 1]: the first cell whose cumulative mass reaches u * total has positive mass.
    const std::size_t c = std::min<std::size_t>(
        std::lower_bound(cdf.begin(), cdf.end(), u[0] * cdf.back()) - cdf.begin(), cdf.size() - 1);
    const PetscInt idx[3] = {PetscInt(c % nx), PetscInt((c / nx) % ny), PetscInt(c / (nx * ny))};
    const double w[3] = {u[1], v[0], v[1]};
    for (int d = 0; d < dim_; ++d) x_[3 * p + d] = grid.face(d, idx[d]) + w[d] * grid.h(d);
    alive_[p] = 1;
    exit_[p] = -1;
  }
}

void Ensemble::walls(std::size_t p, const double* x0, const double* s2, double t,
                     std::uint32_t step) {
  double* x = &x_[3 * p];
  double survive = 1;  // Brownian-bridge probability of not touching an absorbing wall
  for (int d = 0; d < dim_; ++d) {
    const double lo = box_.lo[d], hi = box_.hi[d], L = hi - lo;
    if (!std::isfinite(x[d])) return;  // reported by check_step
    const AxisBoundary& bc = bc_[d];
    if (x[d] < lo || x[d] > hi) {
      if (bc.periodic()) {
        x[d] = lo + (x[d] - lo) - L * std::floor((x[d] - lo) / L);
      } else if (bc.lo == Boundary::reflecting && bc.hi == Boundary::reflecting) {
        // Mirror in both walls (a step longer than the box folds repeatedly): the reflected
        // path has period 2L, so fold once instead of looping.
        double y = std::fmod(x[d] - lo, 2 * L);
        if (y < 0) y += 2 * L;
        x[d] = y <= L ? lo + y : lo + 2 * L - y;
      } else {
        // At least one side absorbs: mirror in a reflecting side, until the path ends inside or
        // beyond an absorbing side (after at most one mirror: the other side absorbs).
        while (x[d] < lo || x[d] > hi) {
          const int side = x[d] < lo ? 0 : 1;
          if (bc.side(side) == Boundary::absorbing) {
            alive_[p] = 0;
            exit_[p] = t;
            return;
          }
          x[d] = side == 0 ? 2 * lo - x[d] : 2 * hi - x[d];
        }
      }
    }
    if (s2[d] > 0 && bc.any(Boundary::absorbing)) {
      // The bridge from x0 to the (mirrored) end point touching an absorbing side in between.
      const double low = bc.lo == Boundary::absorbing
                             ? 1 - std::exp(-2 * (x0[d] - lo) * (x[d] - lo) / s2[d]) : 1.0;
      const double high = bc.hi == Boundary::absorbing
                              ? 1 - std::exp(-2 * (hi - x0[d]) * (hi - x[d]) / s2[d]) : 1.0;
      survive *= low * high;
    }
  }
  if (survive < 1 && noise_rng_.uniforms(begin_ + p, step, 7)[0] > survive) {
    alive_[p] = 0;
    exit_[p] = t;
  }
}

void Ensemble::step_euler_maruyama(const Coefficients& c, double t, double dt,
                                   std::uint32_t step, std::uint32_t block) {
  const double sq = std::sqrt(dt * diffusion_scale_);
  const bool constant = c.constant_diffusion();
  double G[9], a[9], s2[3] = {0, 0, 0}, b[3] = {0, 0, 0}, z[3];
  auto factor = [&](const double* x) {
    c.diffusion(x, t, a);
    psd_cholesky(a, dim_, G);
    for (int d = 0; d < dim_; ++d) s2[d] = a[4 * d] * dt * diffusion_scale_;
  };
  std::string error;
  try {
    if (constant) {
      const double origin[3] = {0, 0, 0};
      factor(origin);
    }
    for (std::size_t p = 0; p < alive_.size(); ++p) {
      if (!alive_[p]) continue;
      double* x = &x_[3 * p];
      const double x0[3] = {x[0], x[1], x[2]};
      c.drift(x0, t, b);
      if (!constant) factor(x0);
      normals(begin_ + p, step, block, z);
      for (int i = 0; i < dim_; ++i) {
        double w = 0;
        for (int k = 0; k <= i; ++k) w += G[3 * i + k] * z[k];
        x[i] = x0[i] + drift_scale_ * b[i] * dt + sq * w;
      }
      if (has_walls_) walls(p, x0, s2, t + dt, step);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  check_step(error);
}

void Ensemble::check_step(std::string error) const {
  if (error.empty())
    for (std::size_t p = 0; p < alive_.size() && error.empty(); ++p)
      for (int d = 0; d < dim_; ++d)
        if (alive_[p] && !std::isfinite(x_[3 * p + d])) {
          error = "particle " + std::to_string(begin_ + p) +
                  " has a non-finite position (non-finite drift or velocity?)";
          break;
        }
  throw_if_any(comm_, error);
}

void Ensemble::step_linear_exact(const LinearSDE& sde, double t, double dt, std::uint32_t step) {
  if (dt != cached_dt_ || sde.B != cached_sde_.B || sde.c != cached_sde_.c ||
      sde.a != cached_sde_.a) {
    LinearSDE scaled = sde;
    for (double& v : scaled.a) v *= diffusion_scale_;
    for (double& v : scaled.B) v *= drift_scale_;
    for (double& v : scaled.c) v *= drift_scale_;
    cached_ = exact_transition(scaled, dim_, dt);
    cached_L_ = psd_cholesky(cached_.Q, dim_);
    cached_dt_ = dt;
    cached_sde_ = sde;
  }
  const auto& E = cached_.E;
  const auto& L = cached_L_;
  double s2[3] = {0, 0, 0}, z[3];
  for (int d = 0; d < dim_; ++d) s2[d] = cached_.Q[d * dim_ + d];
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    const double x0[3] = {x[0], x[1], x[2]};
    normals(begin_ + p, step, 1, z);
    for (int i = 0; i < dim_; ++i) {
      double v = cached_.f[i];
      for (int k = 0; k < dim_; ++k) v += E[i * dim_ + k] * x0[k];
      for (int k = 0; k <= i; ++k) v += L[i * dim_ + k] * z[k];
      x[i] = v;
    }
    if (has_walls_) walls(p, x0, s2, t + dt, step);
  }
  check_step("");
}

void Ensemble::step_heun(const Coefficients& c, double t, double dt) {
  const double s2[3] = {0, 0, 0};
  double k1[3] = {0, 0, 0}, k2[3] = {0, 0, 0};
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    const double x0[3] = {x[0], x[1], x[2]};
    double y[3] = {x0[0], x0[1], x0[2]};
    c.drift(x0, t, k1);
    for (int i = 0; i < dim_; ++i) y[i] += drift_scale_ * dt * k1[i];
    c.drift(y, t + dt, k2);
    for (int i = 0; i < dim_; ++i) x[i] = x0[i] + drift_scale_ * 0.5 * dt * (k1[i] + k2[i]);
    if (has_walls_) walls(p, x0, s2, t + dt, 0);
  }
  check_step("");
}

void Ensemble::step_rk4(const Coefficients& c, double t, double dt) {
  const double s2[3] = {0, 0, 0};
  double k[4][3] = {};
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    const double x0[3] = {x[0], x[1], x[2]};
    double y[3] = {x0[0], x0[1], x0[2]};
    const double frac[4] = {0, 0.5, 0.5, 1};
    for (int s = 0; s < 4; ++s) {
      if (s > 0)
        for (int i = 0; i < dim_; ++i) y[i] = x0[i] + frac[s] * dt * k[s - 1][i];
      c.drift(y, t + frac[s] * dt, k[s]);
      for (int i = 0; i < dim_; ++i) k[s][i] *= drift_scale_;
    }
    for (int i = 0; i < dim_; ++i)
      x[i] = x0[i] + dt / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
    if (has_walls_) walls(p, x0, s2, t + dt, 0);
  }
  check_step("");
}

void Ensemble::step_flow_rk4(const FlowField& f, double t, double dt) {
  const double s2[3] = {0, 0, 0}, frac[4] = {0, 0.5, 0.5, 1};
  const bool carry = !log_rho_.empty();
  double k[4][3] = {}, q[4] = {};
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    const double x0[3] = {x[0], x[1], x[2]};
    double y[3] = {x0[0], x0[1], x0[2]};
    for (int s = 0; s < 4; ++s) {
      if (s > 0)
        for (int i = 0; i < dim_; ++i) y[i] = x0[i] + frac[s] * dt * k[s - 1][i];
      f.eval(y, t + frac[s] * dt, k[s], &q[s]);
    }
    for (int i = 0; i < dim_; ++i)
      x[i] = x0[i] + dt / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
    if (carry) log_rho_[p] -= dt / 6 * (q[0] + 2 * q[1] + 2 * q[2] + q[3]);
    if (has_walls_) walls(p, x0, s2, t + dt, 0);
  }
  check_step("");
}

std::uint64_t Ensemble::alive_count() const {
  unsigned long long local = 0, global = 0;
  for (auto a : alive_) local += a;
  MPI_Allreduce(&local, &global, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_);
  return global;
}

}  // namespace fpflow
