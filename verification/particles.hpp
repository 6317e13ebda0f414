// verification/particles.hpp — Monte Carlo ensembles of the SDE/ODE behind a Fokker-Planck problem.
//
// N independent particles, split over the ranks by global id (rank r owns a contiguous id
// range); all randomness comes from Philox streams keyed by {seed, purpose} and countered by
// {global id, step, substream}, so positions are bitwise identical on any rank count.
//
// Initial laws: exact draws from Gaussian mixtures, or from the grid's own initial data (cell
// masses by inverse CDF over the whole grid in natural order, then uniform inside the cell).
// Steppers:
//  * Euler-Maruyama  x += b(x,t) dt + G sqrt(dt) xi,  G = chol(a) (pivot-free Cholesky that treats
//    zero pivots as zero noise; factored once when the problem says a is constant). Weak order 1.
//    A step can use the sum of k consecutive fine increments (`block` = k), which couples a
//    coarse run to a fine run on the same Brownian paths (time-step-halving studies).
//  * exact Gaussian transition of a linear SDE (problems/laws.hpp): no time-step bias.
//  * Heun (order 2) and classical RK4 (order 4) for the ODE dX = b(X, t) dt, and RK4 for the
//    probability-flow ODE with the log-density carried along (d log rho/dt = -div v).
// Walls match the grid's boundary kinds, side by side, and are applied inside every step:
// reflecting = mirror (repeated until inside), periodic = wrap, absorbing = killed, with the exit
// time recorded as the end of the step. An absorbing wall also kills a particle whose path
// crossed it *within* the step although both end points are inside, with the Brownian-bridge
// crossing probability exp(-2 (x0 - w)(x1 - w) / s^2) (s^2 = the step's variance along the axis;
// exact for Brownian motion with constant drift, first order otherwise). Without it, monitoring
// only step ends misses O(sqrt(dt)) of the exits.
#pragma once

#include "mesh/grid.hpp"
#include "operators/coefficients.hpp"
#include "problems/laws.hpp"
#include "verification/random.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace fpflow {

// A velocity field with its divergence, for the probability-flow ODE (flow_particles.hpp).
class FlowField {
 public:
  virtual ~FlowField() = default;
  // v(x, t) (dim components) and div v(x, t); x has 3 entries.
  virtual void eval(const double* x, double t, double* v, double* div) const = 0;
};

class Ensemble {
 public:
  Ensemble(MPI_Comm comm, int dim, std::uint64_t n_global, std::uint32_t seed);

  int dim() const { return dim_; }
  MPI_Comm comm() const { return comm_; }
  std::uint64_t global_size() const { return n_global_; }
  std::uint64_t first_id() const { return begin_; }
  std::size_t local_size() const { return alive_.size(); }
  // Position of local particle p (3 entries; axes >= dim are 0) and its state.
  const double* position(std::size_t p) const { return &x_[3 * p]; }
  bool alive(std::size_t p) const { return alive_[p] != 0; }
  double exit_time(std::size_t p) const { return exit_[p]; }

  // The walls: box and boundary kinds of `grid`. Until this is called, space is unbounded.
  void set_walls(const Grid& grid);
  // The particles see the diffusion scale * a (1 by default): the power check's deliberate
  // fault (fpflow verify -inject_fault).
  void set_diffusion_scale(double scale) {
    diffusion_scale_ = scale;
    cached_dt_ = -1;
  }
  // Likewise the drift: b -> scale b (-fault_kind drift, the power check of the mean gates).
  void set_drift_scale(double scale) {
    drift_scale_ = scale;
    cached_dt_ = -1;
  }

  // Exact draw from N(mean, cov) (cov row-major dim x dim, positive semi-definite).
  // Collective (like every sampler) when walls are set.
  void sample_gaussian(const std::vector<double>& mean, const std::vector<double>& cov);
  // Exact draw from a Gaussian mixture (the component first, then the Gaussian). With walls
  // set, the law conditioned on the box (draws outside are redrawn), as the grid holds it.
  void sample_mixture(const GaussianMixture& law);
  // Draw from the piecewise-constant density of the grid vector rho: a cell with probability
  // rho_c |c| / mass, then a uniform point inside it. Collective; rho is gathered to every rank
  // in natural order, so the draw does not depend on the rank count.
  void sample_cells(const Grid& grid, Vec rho);

  // One Euler-Maruyama step from t to t + dt. Its Brownian increment is the normalised sum of
  // the fine increments numbered step*block .. step*block + block - 1.
  void step_euler_maruyama(const Coefficients& c, double t, double dt, std::uint32_t step,
                           std::uint32_t block = 1);
  // One exact step of the linear SDE from t to t + dt (the transition is cached per SDE and dt).
  // Every stepper is collective: a non-finite position or a diffusion matrix that is not PSD
  // on any rank raises the same error on all ranks.
  void step_linear_exact(const LinearSDE& sde, double t, double dt, std::uint32_t step);
  // Deterministic steps of dX = b(X, t) dt (the diffusion is ignored).
  void step_heun(const Coefficients& c, double t, double dt);
  void step_rk4(const Coefficients& c, double t, double dt);

  // Probability-flow ODE: one RK4 step of dx/dt = v(x, t) together with the particle's
  // log-density, d(log rho)/dt = -div v(x, t) (when set_log_density was called).
  void step_flow_rk4(const FlowField& f, double t, double dt);
  // Gives every particle its log-density log_rho(x) (x: 3 entries); carried by step_flow_rk4.
  template <class Fn>
  void set_log_density(Fn&& log_rho) {
    log_rho_.resize(alive_.size());
    for (std::size_t p = 0; p < alive_.size(); ++p) log_rho_[p] = log_rho(&x_[3 * p]);
  }
  double log_density(std::size_t p) const { return log_rho_[p]; }
  bool has_log_density() const { return !log_rho_.empty(); }

  // Global count of live particles.
  std::uint64_t alive_count() const;

 private:
  // dim standard normals for particle id: the sum of `block` fine increments / sqrt(block).
  void normals(std::uint64_t id, std::uint32_t step, std::uint32_t block, double* z) const;
  // Applies the walls to particle p that moved from x0 to its current position during a step
  // ending at t; s2[d] = variance of the step along axis d (for the bridge test).
  void walls(std::size_t p, const double* x0, const double* s2, double t, std::uint32_t step);
  // After a step: positions must be finite (a NaN drift must not reach the statistics).
  void check_step(std::string error) const;

  MPI_Comm comm_;
  int dim_;
  std::uint64_t n_global_, begin_;
  Philox noise_rng_, init_rng_;
  std::vector<double> x_;
  std::vector<std::uint8_t> alive_;
  std::vector<double> exit_, log_rho_;
  bool has_walls_ = false;
  Box box_;
  Boundaries bc_{};
  double diffusion_scale_ = 1, drift_scale_ = 1;
  LinearSDE cached_sde_;
  double cached_dt_ = -1;
  LinearTransition cached_;
  std::vector<double> cached_L_;
};

// Lower-triangular L with L L^T = a (n x n row-major, n <= 3, PSD): zero pivots give zero
// columns. Throws if a is not positive semi-definite.
void psd_cholesky(const double* a, int n, double* L);
std::vector<double> psd_cholesky(const std::vector<double>& a, int n);

}  // namespace fpflow
