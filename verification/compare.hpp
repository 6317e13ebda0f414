// verification/compare.hpp — grid density against particle samples (docs/VERIFICATION.md §2).
//
// Both sides are reduced to the same statistics:
//  * bins that are unions of grid cells (blocks of whole cells, B_k), so the grid's bin
//    probability p_k = sum_{c in B_k} rho_c |c| is exact for cell averages; with absorbing walls
//    one more bin holds the absorbed mass (grid) and the killed particles;
//  * per axis, the marginal CDF: exact at faces, linear inside a cell (the piecewise-constant
//    density the cell averages define), against the particles' empirical CDF;
//  * per axis, mean and variance (the grid's from the same piecewise-constant density).
// Every gate is  value <= threshold = statistical floor + grid-error bound + time-step bias,
// each part reported:
//  * statistical floor at false-alarm probability delta per gate: L1 sqrt((K-1)/N) +
//    sqrt(2 ln(1/delta)/N) (McDiarmid); KS sqrt(ln(2/delta)/(2N)) (DKW-Massart); W1
//    (1/sqrt N) int sqrt(F(1-F)) dx + s sqrt(2 ln(1/delta)/N) (Jensen + Gaussian concentration,
//    s the marginal sd: only for Gaussian laws); moments z SE with z = sqrt(2 ln(2/delta)); the
//    absorbed fraction sqrt(ln(2/delta)/(2N)) (Hoeffding);
//  * grid-error bound from a refinement pair, order 2: (4/3) d(grid_h, grid_h/2) in the same
//    metric (the error bound of the coarse grid, so conservative for the fine one we compare);
//  * time-step bias: 0 for exact transitions; for Euler-Maruyama the same metric between the run
//    at dt and a run at 2 dt on the same Brownian paths (weak order 1: bias(dt) ~ d(2dt, dt)).
#pragma once

#include "mesh/grid.hpp"
#include "verification/particles.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

namespace fpflow::compare {

// One grid solution reduced to bin and marginal masses (identical on every rank).
struct GridSide {
  int dim = 1;
  Box box;
  std::array<PetscInt, 3> cells{1, 1, 1};
  std::array<double, 3> h{1, 1, 1};
  std::array<int, 3> blocks{1, 1, 1};           // bins per axis
  std::vector<double> block_mass;               // blocks in natural order (x fastest)
  std::array<std::vector<double>, 3> marginal;  // cell masses along each axis
  double mass = 0, absorbed = 0;
  bool absorbing = false;                       // the absorbed bin is part of the partition
};
// Collective. Every axis's cell count must be a multiple of its block count.
GridSide reduce_grid(const Grid& grid, Vec rho, std::array<int, 3> blocks, double absorbed);

// One ensemble reduced: bin counts on every rank, sorted live coordinates on rank 0.
struct ParticleSide {
  double n = 0, killed = 0;
  std::vector<double> block_count;
  std::array<std::vector<double>, 3> sorted;  // rank 0 only
};
ParticleSide reduce_particles(const Ensemble& e, const GridSide& layout);

struct Gate {
  std::string metric;
  double value = 0, threshold = 0;
  nlohmann::json parts;  // statistical, grid, time_step and what they were computed from
  bool pass() const { return value <= threshold; }
};

struct Budget {
  double delta = 1e-6;
  bool gaussian = true;   // the law is Gaussian: W1 gates (their concentration term needs it)
  bool marginals = true;  // KS, W1 and moment gates (not for absorbing runs: defective law)
  std::string bias_note = "exact transition";                     // without a second ensemble
  std::string pair_note = "Euler-Maruyama at 2 dt on the same paths";  // what the second one is
};

// All gates of one comparison (particles against the fine grid; grid bound from the pair;
// bias from `coarse_dt`, an ensemble at twice the step, when given). Collective; every rank
// gets the result.
std::vector<Gate> gates(MPI_Comm comm, const GridSide& coarse, const GridSide& fine,
                        const ParticleSide& p, const ParticleSide* coarse_dt,
                        const Budget& budget);

// Histograms for plots: per-axis marginal densities of both sides on the bins, and (2-D/3-D)
// the block map of the first two axes, summed over the rest. Rank 0.
nlohmann::json plot_data(const GridSide& fine, const ParticleSide& p);

// Primitives (exposed for tests). F is the grid marginal CDF of `mass` on faces lo + i h.
double ks_grid(const std::vector<double>& sorted, double lo, double h,
               const std::vector<double>& mass);
double w1_grid(const std::vector<double>& sorted, double lo, double h,
               const std::vector<double>& mass);
double ks_two_sample(const std::vector<double>& a, const std::vector<double>& b);
double w1_two_sample(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace fpflow::compare
