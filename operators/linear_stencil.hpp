// operators/linear_stencil.hpp — the single-pass kernels behind fpflow's fast explicit path.
//
// For a linear scheme (SG, upwind) with time-independent coefficients and no cross-diffusion,
// every face flux is F = A rho_K - B rho_L with A = alpha/h, B = beta/h fixed for the run. The
// operator precomputes (A, B) once and hands them here. Per cell update the kernel then moves
//   rho in + rho out (16 bytes) + the weights it cannot recompute cheaply.
// How the weights are kept decides the rest ("compute cheap, stream expensive"):
//   separable  every axis' weights depend only on the face index along that axis (e.g. OU with
//              diagonal drift matrix, heat): detected exactly after sampling (every line of the
//              axis carries the same numbers) and kept as 1-D tables of M+1 faces per axis,
//              which stay in cache: 16 bytes per cell update.
//   streamed   otherwise (Gaussian-mixture Langevin, custom drifts): two weights per face per
//              axis are streamed from memory: 16 + 16 dim bytes per cell update.
// One pass over the cells applies the operator row by row in matrix form,
//   (L rho)_K = sum_a [A_lo rho_{K-e_a} + B_hi rho_{K+e_a}] - (sum_a B_lo + A_hi) rho_K,
// which is the flux form F_lo - F_hi regrouped (columns sum to zero, so mass is conserved to
// round-off) at half its multiplications: the kernel is then bound by memory, not arithmetic.
// No output zeroing, no per-axis pass, no flux buffer.
//
// euler(): rho_new = rho + dt L rho, reading the current state from its owned (global-vector)
// array, and only the ghost values from the ghosted local array (another rank's cells and
// periodic wraps; Grid::update_ghosts scatters just those); wall ghosts follow the width-1 rule
// of their side (mirror = the boundary cell, absorbing = 0). No copy of the state is made. It
// also returns the min, max and finiteness of the new state, which the stepper would otherwise
// re-read.
#pragma once

#include "mesh/grid.hpp"

#include <array>
#include <vector>

namespace fpflow {

struct StepStats {
  double min = 0, max = 0;
  bool finite = true;
};

class LinearStencil {
 public:
  explicit LinearStencil(const Grid& grid);

  // Weights are given in one of two ways (both compute bitwise the same numbers, so ranks may
  // choose differently):
  // separable: per axis, the weights of this rank's faces start(axis)..start(axis)+owned(axis)
  //   of every line along the axis (the caller has checked that all lines carry the same);
  void set_axis(int axis, const std::vector<double>& A, const std::vector<double>& B);
  // streamed: per face, the weights of the face whose high-side cell is `cell` (global indices,
  //   owned cell or the first cell past the owned range along `axis`).
  // F = A rho_K - B rho_L, already divided by h.
  void set_face(int axis, std::array<PetscInt, 3> cell, double A, double B);
  // After the weights are set.
  void finalize();

  bool separable() const { return separable_; }
  // Bytes a fused Euler cell update must move: state in and out, plus streamed weights.
  double bytes_per_cell_update() const;

  // out = L rho on the owned cells (owned layout); rho_local ghosted and fully valid.
  void apply(const PetscScalar* rho_local, PetscScalar* out) const;
  // out = rho + dt L rho (owned layout). rho_owned: the state (owned layout); rho_local: a
  // ghosted array whose ghost points of other ranks / periodic wraps are valid.
  // Returns this rank's stats of `out` (not reduced).
  // check: also compute the stats (a second, cache-hot pass over each line); without it they
  // are returned as {0, 0, finite}.
  StepStats euler(const PetscScalar* rho_owned, const PetscScalar* rho_local, double dt,
                  PetscScalar* out, bool check) const;
  // Largest outflow rate (-diagonal) of this rank's rows: for dt <= 1/rate (global max) forward
  // Euler maps non-negative finite states to non-negative finite states (all update weights are
  // then >= 0), so the result needs no check.
  double max_rate_local() const { return max_rate_; }
  // The matrix of apply(), row by row for the owned cells: emit(row, n, cols, vals) with global
  // indices (l2g: the DMDA's ghosted-local-to-global map), the diagonal first, then the
  // neighbours that exist (another rank's cell or a periodic wrap; none past a wall, whose
  // weights multiply a mirror image or an absorbing zero). The entries are the kernel's own
  // weights: (L rho)_K = sum_a [A_lo rho_{K-e_a} + B_hi rho_{K+e_a}] - (sum_a B_lo + A_hi) rho_K.
  template <class Emit>
  void matrix_rows(const PetscInt* l2g, Emit&& emit) const;

 private:
  // A cell run's values and those of its six neighbours (each aligned with c).
  struct Nbr {
    const PetscScalar *c, *xm, *xp, *ym, *yp, *zm, *zp;
    Nbr shifted(std::ptrdiff_t d) const {
      return {c + d, xm + d, xp + d, ym + d, yp + d, zm + d, zp + d};
    }
  };
  template <int Dim, bool Sep, bool Euler>
  void segment(PetscInt i0, PetscInt n, PetscInt j, PetscInt k, const Nbr& p, double dt,
               PetscScalar* out) const;
  const PetscScalar* line_of(int axis, PetscInt g, const PetscScalar* self,
                             const PetscScalar* owned, const PetscScalar* local,
                             std::array<PetscInt, 3> at) const;
  template <int Dim, bool Sep, bool Check>
  StepStats euler_impl(const PetscScalar* rho_owned, const PetscScalar* rho_local, double dt,
                       PetscScalar* out) const;
  template <int Dim, bool Sep>
  void apply_impl(const PetscScalar* rho_local, PetscScalar* out) const;

  const Grid& grid_;
  bool separable_ = false;
  // Streamed: per axis, weights of the low face of every ghosted-local cell (local layout).
  std::array<std::vector<double>, 3> A_, B_;
  // Separable: per axis, weights of faces 0..M (global face index).
  std::array<std::vector<double>, 3> tA_, tB_;
  std::vector<double> tD_;  // separable: x part of the diagonal per cell
  double max_rate_ = 0;
  std::vector<double> zeros_;  // the absorbing wall's ghost line
};

template <class Emit>
void LinearStencil::matrix_rows(const PetscInt* l2g, Emit&& emit) const {
  const int dim = grid_.dim();
  PetscInt cols[7];
  double vals[7];
  grid_.for_each_owned([&](std::array<PetscInt, 3> c) {
    const std::ptrdiff_t l = grid_.local_index(c[0], c[1], c[2]);
    int n = 1;
    double diag = 0;
    for (int a = 0; a < dim; ++a) {
      const std::ptrdiff_t ls = grid_.lstride(a);
      const auto i = std::size_t(c[a]);
      const double A_lo = separable_ ? tA_[a][i] : A_[a][l];
      const double B_lo = separable_ ? tB_[a][i] : B_[a][l];
      const double A_hi = separable_ ? tA_[a][i + 1] : A_[a][l + ls];
      const double B_hi = separable_ ? tB_[a][i + 1] : B_[a][l + ls];
      diag += B_lo + A_hi;
      const bool periodic = grid_.periodic(a);
      if (c[a] > 0 || periodic) cols[n] = l2g[l - ls], vals[n++] = A_lo;
      if (c[a] < grid_.cells(a) - 1 || periodic) cols[n] = l2g[l + ls], vals[n++] = B_hi;
    }
    cols[0] = l2g[l];
    vals[0] = -diag;
    emit(l2g[l], n, cols, vals);
  });
}

}  // namespace fpflow
