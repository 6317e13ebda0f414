// verification/particles.cpp — ensemble storage, steppers and walls (see particles.hpp).
#include "verification/particles.hpp"

#include <cmath>

namespace fpflow {

std::vector<double> psd_cholesky(const std::vector<double>& a, int n) {
  std::vector<double> L(std::size_t(n) * n, 0.0);
  double scale = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::fabs(a[i * n + i]));
  for (int j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int k = 0; k < j; ++k) d -= L[j * n + k] * L[j * n + k];
    if (d < -1e-12 * scale) throw Error("diffusion matrix is not positive semi-definite");
    const double ljj = d > 1e-14 * scale ? std::sqrt(d) : 0.0;
    L[j * n + j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = ljj > 0 ? s / ljj : 0.0;
    }
  }
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

// Three independent normals for particle `id`: two Philox blocks (substreams 2s, 2s+1).
std::array<double, 3> Ensemble::noise(std::uint64_t id, std::uint32_t step,
                                      std::uint32_t sub) const {
  const auto a = noise_rng_.normals(id, step, 2 * sub);
  const auto b = noise_rng_.normals(id, step, 2 * sub + 1);
  return {a[0], a[1], b[0]};
}

void Ensemble::sample_gaussian(const std::vector<double>& mean, const std::vector<double>& cov) {
  const auto L = psd_cholesky(cov, dim_);
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    const std::uint64_t id = begin_ + p;
    const auto a = init_rng_.normals(id, 0, 0);
    const auto b = init_rng_.normals(id, 0, 1);
    const double z[3] = {a[0], a[1], b[0]};
    for (int i = 0; i < dim_; ++i) {
      double v = mean[i];
      for (int k = 0; k <= i; ++k) v += L[i * dim_ + k] * z[k];
      x_[3 * p + i] = v;
    }
    alive_[p] = 1;
    exit_[p] = -1;
  }
}

void Ensemble::step_euler_maruyama(const Coefficients& c, double t, double dt,
                                   std::uint32_t step) {
  const double sq = std::sqrt(dt);
  double b[3], a9[9];
  std::vector<double> a(std::size_t(dim_) * dim_);
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    c.drift(x, t, b);
    c.diffusion(x, t, a9);
    for (int i = 0; i < dim_; ++i)
      for (int j = 0; j < dim_; ++j) a[i * dim_ + j] = a9[3 * i + j];
    const auto G = psd_cholesky(a, dim_);
    const auto z = noise(begin_ + p, step, 0);
    double xn[3] = {x[0], x[1], x[2]};
    for (int i = 0; i < dim_; ++i) {
      xn[i] += b[i] * dt;
      for (int k = 0; k <= i; ++k) xn[i] += G[i * dim_ + k] * sq * z[k];
    }
    for (int i = 0; i < dim_; ++i) x[i] = xn[i];
  }
}

void Ensemble::step_linear_exact(const std::vector<double>& E, const std::vector<double>& L,
                                 std::uint32_t step) {
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    const auto z = noise(begin_ + p, step, 0);
    double xn[3] = {0, 0, 0};
    for (int i = 0; i < dim_; ++i) {
      for (int k = 0; k < dim_; ++k) xn[i] += E[i * dim_ + k] * x[k];
      for (int k = 0; k <= i; ++k) xn[i] += L[i * dim_ + k] * z[k];
    }
    for (int i = 0; i < dim_; ++i) x[i] = xn[i];
  }
}

void Ensemble::apply_walls(const Grid& grid, double t) {
  for (std::size_t p = 0; p < alive_.size(); ++p) {
    if (!alive_[p]) continue;
    double* x = &x_[3 * p];
    for (int d = 0; d < dim_; ++d) {
      const double lo = grid.box().lo[d], hi = grid.box().hi[d], L = hi - lo;
      if (x[d] >= lo && x[d] <= hi) continue;
      switch (grid.bc(d)) {
        case Boundary::periodic:
          x[d] = lo + (x[d] - lo) - L * std::floor((x[d] - lo) / L);
          break;
        case Boundary::reflecting:
          // Mirror in both walls until inside (a step longer than the box folds repeatedly).
          while (x[d] < lo || x[d] > hi) x[d] = x[d] < lo ? 2 * lo - x[d] : 2 * hi - x[d];
          break;
        case Boundary::absorbing:
          alive_[p] = 0;
          exit_[p] = t;
          break;
      }
      if (!alive_[p]) break;
    }
  }
}

std::uint64_t Ensemble::alive_count() const {
  unsigned long long local = 0, global = 0;
  for (auto a : alive_) local += a;
  MPI_Allreduce(&local, &global, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_);
  return global;
}

}  // namespace fpflow
