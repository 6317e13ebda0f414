// operators/fp_operator.hpp — the Fokker-Planck operator in flux form on a Grid.
//
// Equation (Ito): d_t rho + div J = 0,  J_i = b_i rho - 1/2 sum_j d_j(a_ij rho)
//                 = (b_i - 1/2 sum_j d_j a_ij) rho - 1/2 a_ii d_i rho - 1/2 sum_{j!=i} a_ij d_j rho.
// Each face normal to axis i carries FaceCoef{u = b_i - 1/2 sum_j d_j a_ij, D = a_ii / 2},
// sampled from Coefficients (d_j a_ij by central differences of a across the face), and the
// cross coefficients C_j = a_ij / 2 for the transverse axes. The flux is the chosen scheme
// (flux_kernels.hpp) on (u, D) plus the cross-diffusion flux on a box stencil. Every face flux
// is computed once per line of cells and applied with opposite signs to its two cells, so
// sum(rho)*|c| is conserved to round-off; a face shared by two ranks is computed by both from
// identical ghost data and applied by each to its own cell only, so this holds on any rank count.
//
// Boundary faces, by the kind of their side (face 0: the axis's low side, face M: its high side):
// reflecting -> zero coefficients (flux exactly 0); periodic (both sides) -> DMDA ghosts and
// wrapped coefficient samples (face M is the same face as face 0, bit for bit); absorbing ->
// density 0 on the wall (half-cell Dirichlet flux against a zero ghost); the flux through the
// face is that side's outflow.
//
// Parts (for IMEX splitting): full = the scheme + cross; diffusion = central diffusion + cross
// (unlimited); explicit_part = full - diffusion. full = explicit_part + diffusion for every scheme.
// Gradient-form problems (Coefficients::has_potential, diagonal a) get u = -D (U_L - U_K)/h at
// every face, so e^{-U(x_c)} is stationary to round-off with SG and sghr (the discrete Gibbs
// state).
//
// Positivity. Every face flux is F = alpha rho_K - beta rho_L + (cross-diffusion flux) with
// alpha, beta >= 0: the scheme's weights, which for sghr and MUSCL depend on the state through a
// bounded factor (sghr: (1 + c) x the SG weights, |c| <= min(1, 4 theta - 2); MUSCL: the drift
// part u (1 + s) rho_up, |s| <= 1; see flux_kernels.hpp). Such a flux is an M-matrix flux at
// every state, so without cross terms
//   forward Euler keeps rho >= 0 for dt <= 1/max_i d_i, d_i the cell's largest outflow rate
//                  (SG's at small cell Peclet numbers, twice it at large ones), and
//   backward Euler keeps rho >= 0 for every dt (the matrix frozen at the solution is an
//                  M-matrix with columns summing to <= 0).
// Cross-diffusion (-fp_cross limited, the default) is an antidiffusive flux A added to that
// monotone flux and limited per face: F = F_lo + lambda A. For each cell i, P_i is the rate at
// which the A's of its faces would remove mass from it, and Q_i = kappa_i rho_i^+ + (the
// low-order inflow from its neighbours, sum_j w_ij rho_j^+); R_i = min(1, Q_i / P_i), and a face
// takes lambda = R of the cell its A drains. Then, per unit volume,
//   forward Euler: rho_i' >= rho_i (1 - dt (d_i + kappa_i)) >= 0 for dt <= 1/max_i(d_i + kappa_i);
//   backward Euler: rho >= 0 for every dt (a cell with rho_i <= 0 loses nothing to A; summing
//                  the equations over the negative cells gives a contradiction, because the
//                  low-order matrix has non-negative off-diagonals and columns summing to <= 0).
// kappa_i = sum over its faces of sum_j |a_ij|/(2 h_a h_j), the scale of the cross flux on
// smooth data, so on resolved data lambda = 1 and the stencil is the second-order one; limiting
// acts where a cross flux would empty a cell (walls, where the stencil is one-sided and never
// monotone; strong drift; steep data). Mass is conserved exactly: lambda is one number per face.
// In parallel, R of the ghost cells is exchanged (each rank computes R of its own cells), so
// fluxes agree across ranks bit for bit. A nonlinear operator's Jacobian freezes the factors and
// lambda at a state (a Picard matrix, which reproduces the operator at that state exactly).
// Linear operators (sg, upwind, with no or unlimited cross terms): forward Euler keeps rho >= 0
// for dt <= 1/max_rate when every off-diagonal of the matrix is >= 0; monotonicity() says
// whether that holds (unlimited cross terms may break it).
#pragma once

#include "mesh/grid.hpp"
#include "operators/coefficients.hpp"
#include "operators/flux_kernels.hpp"
#include "operators/linear_stencil.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace fpflow {

// sghr: Scharfetter-Gummel plus its limited high-resolution correction (kernels::sg_correction):
// second order at every cell Peclet number (also where a_ii = 0), still exact on discrete Gibbs
// states. pflow: the continuity equation d_t rho + div(v rho) = 0 with the probability-flow
// velocity v = b - 1/2 div a - 1/2 a grad log rho of the evolving density (diagonal a; MUSCL
// face values). It solves the same equation as the Fokker-Planck schemes by a different,
// nonlinear route.
enum class Scheme { upwind, muscl, sg, sghr, pflow };

// Cross-diffusion (a_ij, i != j): limited = the signed 7/19-point stencil (CrossStencil::
// monotone) with its fluxes limited for positivity (below); monotone = the same stencil
// unlimited (positive only when it is an M-matrix); average = the symmetric 9/19-point stencil.
enum class CrossMode { limited, monotone, average };

// Densities below this are treated as this in log rho (probability-flow velocity and score).
inline constexpr double kDensityFloor = 1e-300;
enum class Part { full, explicit_part, diffusion };

Scheme parse_scheme(const std::string& name);
std::string to_string(Scheme s);
kernels::Limiter parse_limiter(const std::string& name);
std::string to_string(kernels::Limiter l);
CrossMode parse_cross(const std::string& name);
std::string to_string(CrossMode c);
bool is_linear(Scheme s);

// Where the operator matrix has its most negative off-diagonal (relative to the diagonal).
struct Monotonicity {
  bool monotone = true;
  double worst = 0;   // most negative off-diagonal / |diagonal| (0 if none negative)
  std::string where;  // cell centre of that row
};

class FokkerPlanckOperator {
 public:
  FokkerPlanckOperator(const Grid& grid, const Coefficients& coef, Scheme scheme,
                       kernels::Limiter limiter, CrossMode cross = CrossMode::limited);

  static PetscInt stencil_width(Scheme s) {
    return s == Scheme::muscl || s == Scheme::pflow || s == Scheme::sghr ? 2 : 1;
  }
  Scheme scheme() const { return scheme_; }
  // The same equation and scheme on another grid (a multigrid level: rediscretisation).
  std::unique_ptr<FokkerPlanckOperator> on_grid(const Grid& g) const {
    return std::make_unique<FokkerPlanckOperator>(g, coef_, scheme_, limiter_, cross_mode_);
  }
  bool time_independent() const { return !coef_.time_dependent(); }
  bool has_cross() const { return cross_present_; }
  // The operator is a linear map of rho (the Jacobian is exact and state-independent).
  bool linear() const { return is_linear(scheme_) && !limited_; }
  // Forward Euler keeps rho >= 0 for dt <= 1/max_rate, whatever the coefficients: the flux is a
  // monotone low-order flux plus limited corrections (no unlimited cross-diffusion, not pflow).
  // Backward Euler then keeps rho >= 0 for any dt.
  bool positivity_preserving() const {
    return scheme_ != Scheme::pflow && (!cross_present_ || cross_mode_ == CrossMode::limited);
  }
  const Grid& grid() const { return grid_; }

  // out = -div F_part(rho) at time t. `rho_local` is ghosted with boundary ghosts filled.
  void apply_local(double t, Vec rho_local, Vec out, Part part);
  // Same from a global vector (does the ghost exchange itself).
  void apply(double t, Vec rho, Vec out, Part part);

  // Test hook: false makes apply() of sghr take the general face-flux loops instead of the
  // plane sweep (the two must agree to round-off).
  void set_fast_path(bool on) { use_fast_ = on; }
  // The precomputed single-pass kernels (operators/linear_stencil.hpp), or null when the scheme
  // is nonlinear, the coefficients depend on t or a cross-diffusion term is present. apply()
  // with Part::full uses them; the fused Euler stepper (solvers/fused_euler.hpp) needs them.
  const LinearStencil* linear_stencil() const { return linear_.get(); }

  // Jacobian of apply(., Part) with respect to rho (exact for linear schemes). part != explicit.
  // With the linear stencil (Part::full) the rows come from its weights; otherwise from the
  // general face-flux rows. stencil_rows = false forces the general rows (tests compare both).
  // A limited operator is linearised at `state` (a global vector) with its limiter factors and
  // high-resolution corrections frozen there (a Picard matrix: exact where nothing is limited);
  // without a state, at no limiting and no correction (multigrid coarse levels).
  void assemble_jacobian(double t, Mat J, Part part, bool stencil_rows = true,
                         Vec state = nullptr);

  // Rate (per unit time) at which mass leaves through absorbing faces owned by THIS rank: per
  // side (entry 2 axis + side, side 0 = low, 1 = high; 0 for sides that do not absorb), and
  // their sum. The update's own fluxes, so d(mass)/dt = -(sum over ranks and sides) exactly.
  std::array<double, 6> local_outflow_by_side(double t, Vec rho_local);
  double local_outflow(double t, Vec rho_local);

  // The forward-Euler positivity rate: forward Euler keeps rho >= 0 for dt <= 1 / max_rate.
  // Linear operators: max over cells of -diag(operator matrix), when the matrix is monotone.
  // Limited operators: max over cells of the low-order outflow rate plus the cell's budget for
  // antidiffusive outflow (kappa below). drift_only: the bound for the explicit half of an IMEX
  // split.
  double max_rate(double t, bool drift_only = false);
  // Sign structure of the operator matrix at time t (collective).
  Monotonicity monotonicity(double t);

  // Cell-centred current (mean of a cell's two face fluxes per axis, the same fluxes as the
  // update) and drift b at cell centres; owned cells, 3 components each (unused axes 0).
  void current(double t, Vec rho_local, std::vector<double>& J3);
  void drift_at_cells(double t, std::vector<double>& b3) const;

  // Probability-flow diagnostics of rho at time t (MATH.md: J = v rho, v = b - 1/2 div a -
  // 1/2 a grad log rho). At faces: v_f = J_f / logmean(rho_K, rho_L) with J_f exactly the
  // update's flux (for SG with u = 0 this is -D d(log rho)/dn to round-off) and the score
  // s_f = d(log rho)/dn. Densities below `floor` (absolute) count as `floor` in the logs, and a
  // face with a neighbour below it uses v_f = J_f / max(rho_K, rho_L, floor); such cells get
  // mask 0. Cells: score and velocity are the means of the two faces per axis, divergence is
  // sum_a (v_{f+} - v_{f-}) / h_a. Owned cells; vectors have 3 components per cell.
  struct FlowFields {
    std::vector<double> score, velocity, divergence, mask;
    std::array<std::vector<double>, 3> face_velocity;  // per axis, line-major, owned(a)+1 per line
  };
  void flow_fields(double t, Vec rho_local, double floor, FlowFields& out);
  // Global index of the first owned cell of owned line `line` along axis a (the layout of
  // FlowFields::face_velocity: face f of that line is the low face of cell start(a) + f).
  std::array<PetscInt, 3> line_cell(int a, std::size_t line) const {
    std::array<PetscInt, 3> idx{};
    idx[a] = grid_.start(a);
    for (int j : {(a + 1) % 3, (a + 2) % 3}) idx[j] = line_coordinate(a, line, j);
    return idx;
  }

 private:
  struct Entry {
    std::array<PetscInt, 3> cell;
    double value;
  };
  enum class RowMode { jacobian, rate, rate_drift_only };
  void update_coefficients(double t);
  void update_limited_weights();
  // Limited operators (see the class comment): the face fluxes of rho into flux_, and, if
  // `record`, the limiter factors and corrections into frozen_alpha_/frozen_c_ for the Jacobian.
  void limited_fluxes(const PetscScalar* rho_local, bool record, PetscScalar* div = nullptr,
                      bool store = true);
  // The weights (alpha, beta) >= 0 of F = alpha rho_K - beta rho_L at face k along a, with the
  // scheme's state-dependent factor (sghr: (1 + c) F_SG; MUSCL: the drift part u (1 + s) rho_up).
  kernels::LinearFlux state_weights(int a, std::size_t k, double factor) const {
    const LowWeights& w = low_[a][k];
    if (scheme_ == Scheme::sghr) return {(1 + factor) * w.alpha, (1 + factor) * w.beta};
    if (scheme_ == Scheme::muscl) {
      const double u = face_[a][k].u;
      return {w.alpha + std::max(u, 0.0) * factor, w.beta - std::min(u, 0.0) * factor};
    }
    return {w.alpha, w.beta};
  }
  void apply_limited(const PetscScalar* rho_local, PetscScalar* out);
  void apply_unlimited(const PetscScalar* rho_local, PetscScalar* out, Part part);
  void apply_sghr_fast(const PetscScalar* rho_local, PetscScalar* out);
  void build_face_planes();
  double limited_rate_local() const;
  double cross_flux(int a, std::size_t line, PetscInt f, const PetscScalar* L) const;
  template <class Flux>
  void face_fluxes(int a, bool with_cross, const Flux& flux,
                   std::size_t line, const PetscScalar* p, double* F) const;
  template <class Visit>
  void for_each_line(int a, Visit&& visit) const;
  template <class Visit>
  void for_each_flux_line(const PetscScalar* rho_local, Visit&& visit);
  // Entries of one row of the operator matrix (duplicates merged, ghosts mapped to cells).
  void row(std::array<PetscInt, 3> cell, Part part, RowMode mode, std::vector<Entry>& out) const;
  bool map_to_cell(std::array<PetscInt, 3>& c) const;
  // Face i along axis a lies on an absorbing side (face 0 on the low side, face M on the high).
  bool absorbing_face(int a, PetscInt i) const {
    return (i == 0 && grid_.bc(a, 0) == Boundary::absorbing) ||
           (i == grid_.cells(a) && grid_.bc(a, 1) == Boundary::absorbing);
  }
  kernels::TransverseSide transverse_side(int j, PetscInt i) const;
  PetscInt line_coordinate(int a, std::size_t line, int j) const;

  const Grid& grid_;
  const Coefficients& coef_;
  Scheme scheme_;
  kernels::Limiter limiter_;
  CrossMode cross_mode_;
  kernels::CrossStencil cross_stencil_;
  bool cross_present_;
  bool limited_;      // nonlinear: sghr/MUSCL factors and/or limited cross fluxes (class comment)
  bool limit_cross_;  // cross-diffusion fluxes limited for positivity
  bool fast_sghr_;    // sghr, van Leer, no cross terms: apply() sweeps face planes (apply_sghr_fast)
  bool use_fast_ = true;
  bool gibbs_faces_;  // face drift from potential differences (gradient form, diagonal a)
  std::array<std::vector<kernels::FaceCoef>, 3> face_;       // per axis, owned faces, line-major
  std::array<std::vector<std::array<double, 2>>, 3> cross_;  // C for axes (a+1)%3, (a+2)%3
  // Limited operators: per owned face the low-order weights and the SG upwind weight theta; per
  // owned cell the antidiffusive budget kappa; work arrays of one evaluation.
  struct LowWeights {
    double alpha = 0, beta = 0, theta = 1;
  };
  std::array<std::vector<LowWeights>, 3> low_;
  std::vector<double> kappa_;
  std::array<std::vector<double>, 3> flux_lo_, flux_anti_, flux_;
  std::vector<double> drain_, inflow_;  // per owned cell, per unit volume
  struct FacePlanes {
    std::vector<double> alpha, beta, theta;  // alpha/h, beta/h, signed upwind weight
  };
  std::array<FacePlanes, 3> planes_;  // the fast sghr path's face tables (build_face_planes)
  std::vector<double> row_buffer_;
  std::array<std::vector<double>, 3> frozen_alpha_, frozen_c_;
  VecH limit_, limit_local_;  // the limiter factor R per cell, and with ghosts
  double coef_time_ = 0;
  double rate_cache_ = -1, rate_time_ = 0;  // limited_rate_local() at coef_time_
  bool coef_ready_ = false;
  std::unique_ptr<LinearStencil> linear_;
  void build_linear_stencil();
};

}  // namespace fpflow
