// verification/particles.hpp — Monte Carlo ensembles of the SDE behind a Fokker-Planck problem.
//
// N independent particles, split over the ranks by global id (rank r owns a contiguous id
// range); all randomness comes from Philox streams keyed by {seed, purpose} and countered by
// {global id, step, substream}, so positions are bitwise identical on any rank count.
// Steppers: Euler-Maruyama  x += b(x,t) dt + G sqrt(dt) xi  with G = chol(a) (a = G G^T, PSD:
// a pivot-free Cholesky that treats zero pivots as zero noise), and an exact Gaussian transition
// x' = E x + L xi for linear SDEs (E = e^{-B dt}, L L^T = the transition covariance). Walls
// match the grid's boundary kinds: reflecting = mirror (repeated until inside), periodic = wrap,
// absorbing = the particle is killed and its exit time recorded (the end of the step in which it
// left: first-order in dt, as for any discretely monitored walk).
#pragma once

#include "mesh/grid.hpp"
#include "operators/coefficients.hpp"
#include "verification/random.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace fpflow {

class Ensemble {
 public:
  Ensemble(MPI_Comm comm, int dim, std::uint64_t n_global, std::uint32_t seed);

  int dim() const { return dim_; }
  std::uint64_t global_size() const { return n_global_; }
  std::uint64_t first_id() const { return begin_; }
  std::size_t local_size() const { return alive_.size(); }
  // Position of local particle p (3 entries; axes >= dim are 0) and its state.
  const double* position(std::size_t p) const { return &x_[3 * p]; }
  bool alive(std::size_t p) const { return alive_[p] != 0; }
  double exit_time(std::size_t p) const { return exit_[p]; }

  // Exact draw from N(mean, cov) (cov row-major dim x dim, positive semi-definite).
  void sample_gaussian(const std::vector<double>& mean, const std::vector<double>& cov);
  // One Euler-Maruyama step from t to t + dt (step = step index, part of the random counter).
  void step_euler_maruyama(const Coefficients& c, double t, double dt, std::uint32_t step);
  // One exact step of the linear SDE dX = -B X dt + G dW: x' = E x + L xi.
  void step_linear_exact(const std::vector<double>& E, const std::vector<double>& L,
                         std::uint32_t step);
  // Applies the walls of `grid` (box and boundary kinds) after a step that ended at time t.
  void apply_walls(const Grid& grid, double t);

  // Global count of live particles.
  std::uint64_t alive_count() const;

 private:
  std::array<double, 3> noise(std::uint64_t id, std::uint32_t step, std::uint32_t sub) const;
  MPI_Comm comm_;
  int dim_;
  std::uint64_t n_global_, begin_;
  Philox noise_rng_, init_rng_;
  std::vector<double> x_;
  std::vector<std::uint8_t> alive_;
  std::vector<double> exit_;
};

// Lower-triangular L with L L^T = a (n x n row-major, PSD): zero pivots give zero columns.
std::vector<double> psd_cholesky(const std::vector<double>& a, int n);

}  // namespace fpflow
