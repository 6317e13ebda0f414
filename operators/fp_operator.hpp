// operators/fp_operator.hpp — the Fokker-Planck operator in flux form on a Grid.
//
// Equation: d_t rho + div J = 0,  J_i = b_i rho - 1/2 d_i(a_ii rho)   (diagonal a, Ito form)
//         = (b_i - 1/2 d_i a_ii) rho - 1/2 a_ii d_i rho.
// Each face carries FaceCoef{u = b_i - 1/2 d_i a_ii, D = a_ii / 2} sampled from Coefficients
// (d_i a_ii by the central difference of a_ii at the two adjacent cell centres), and a flux
// from the chosen scheme (flux_kernels.hpp). Every face flux is computed once per line of
// cells and applied with opposite signs to its two cells, so sum(rho)*|c| is conserved to
// round-off; a face shared by two ranks is computed by both from identical ghost data and
// applied by each to its own cell only, so this holds on any rank count.
//
// Boundary faces: reflecting -> zero coefficients (flux exactly 0); periodic -> DMDA ghosts
// and wrapped coefficient samples (face M is the same face as face 0, bit for bit);
// absorbing -> ghost density 0, the flux through the face is the outflow.
//
// Parts (for IMEX splitting): full = the scheme; diffusion = central diffusion alone;
// explicit_part = full - diffusion. full = explicit_part + diffusion exactly, for every scheme.
// Limitations: diagonal diffusion only; MUSCL's Jacobian is that of first-order upwind (exact
// for the other schemes, which are linear in rho).
#pragma once

#include "mesh/grid.hpp"
#include "operators/coefficients.hpp"
#include "operators/flux_kernels.hpp"

#include <array>
#include <string>
#include <vector>

namespace fpflow {

enum class Scheme { upwind, muscl, sg };
enum class Part { full, explicit_part, diffusion };

Scheme parse_scheme(const std::string& name);
std::string to_string(Scheme s);
kernels::Limiter parse_limiter(const std::string& name);
std::string to_string(kernels::Limiter l);
bool is_linear(Scheme s);

class FokkerPlanckOperator {
 public:
  FokkerPlanckOperator(const Grid& grid, const Coefficients& coef, Scheme scheme,
                       kernels::Limiter limiter);

  static PetscInt stencil_width(Scheme s) { return s == Scheme::muscl ? 2 : 1; }
  Scheme scheme() const { return scheme_; }
  bool time_independent() const { return !coef_.time_dependent(); }
  const Grid& grid() const { return grid_; }

  // out = -div F_part(rho) at time t. `rho_local` is ghosted with boundary ghosts filled.
  void apply_local(double t, Vec rho_local, Vec out, Part part);
  // Same from a global vector (does the ghost exchange itself).
  void apply(double t, Vec rho, Vec out, Part part);

  // Jacobian of apply(., Part) with respect to rho (exact for linear schemes). part != explicit.
  void assemble_jacobian(double t, Mat J, Part part);

  // Rate (per unit time) at which mass leaves through absorbing faces owned by THIS rank.
  double local_outflow(double t, Vec rho_local);

  // Largest total outgoing-flux coefficient of any cell (global): forward Euler keeps rho >= 0
  // for dt <= 1 / max_rate (MUSCL: drift counted twice, the limiter's worst case).
  // drift_only: the same bound for the explicit half of an IMEX split (D taken as 0).
  double max_rate(double t, bool drift_only = false);

  // Cell-centred current (mean of a cell's two face fluxes per axis, the same fluxes as the
  // update) and drift b at cell centres; owned cells, 3 components each (unused axes 0).
  void current(double t, Vec rho_local, std::vector<double>& J3);
  void drift_at_cells(double t, std::vector<double>& b3) const;

 private:
  void update_coefficients(double t);
  template <class Flux>
  void divergence(const PetscScalar* loc, PetscScalar* out, const Flux& flux) const;
  template <class Visit>
  void for_each_line(int a, Visit&& visit) const;

  const Grid& grid_;
  const Coefficients& coef_;
  Scheme scheme_;
  kernels::Limiter limiter_;
  std::array<std::vector<kernels::FaceCoef>, 3> face_;  // per axis, owned faces, line-major
  double coef_time_ = 0;
  bool coef_ready_ = false;
};

}  // namespace fpflow
