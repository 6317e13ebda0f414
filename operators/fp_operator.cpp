// operators/fp_operator.cpp — face-coefficient sampling, flux loops and Jacobian assembly for
// FokkerPlanckOperator. The scheme is resolved once per call (with_flux) into a functor that the
// loops are instantiated with: no branching on the scheme inside a loop.
#include "operators/fp_operator.hpp"

#include "core/profiling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

namespace fpflow {

using kernels::FaceCoef;
using kernels::LinearFlux;

Scheme parse_scheme(const std::string& name) {
  if (name == "upwind") return Scheme::upwind;
  if (name == "muscl") return Scheme::muscl;
  if (name == "sg") return Scheme::sg;
  if (name == "sghr") return Scheme::sghr;
  if (name == "pflow") return Scheme::pflow;
  throw Error("unknown flux scheme '" + name + "'; valid: sghr, sg, muscl, upwind, pflow");
}

std::string to_string(Scheme s) {
  switch (s) {
    case Scheme::upwind: return "upwind";
    case Scheme::muscl: return "muscl";
    case Scheme::sg: return "sg";
    case Scheme::sghr: return "sghr";
    case Scheme::pflow: return "pflow";
  }
  return "?";
}

kernels::Limiter parse_limiter(const std::string& name) {
  if (name == "minmod") return kernels::Limiter::minmod;
  if (name == "vanleer") return kernels::Limiter::vanleer;
  if (name == "mc") return kernels::Limiter::mc;
  throw Error("unknown limiter '" + name + "'; valid: vanleer, minmod, mc");
}

std::string to_string(kernels::Limiter l) {
  switch (l) {
    case kernels::Limiter::minmod: return "minmod";
    case kernels::Limiter::vanleer: return "vanleer";
    case kernels::Limiter::mc: return "mc";
  }
  return "?";
}

CrossMode parse_cross(const std::string& name) {
  if (name == "limited") return CrossMode::limited;
  if (name == "monotone") return CrossMode::monotone;
  if (name == "average") return CrossMode::average;
  throw Error("unknown cross-diffusion stencil '" + name + "'; valid: limited, monotone, average");
}

std::string to_string(CrossMode c) {
  switch (c) {
    case CrossMode::limited: return "limited";
    case CrossMode::monotone: return "monotone";
    case CrossMode::average: return "average";
  }
  return "?";
}

bool is_linear(Scheme s) { return s == Scheme::sg || s == Scheme::upwind; }

namespace {

// Flux functors: F at the face whose high-side cell is *pL; s = stride along the axis.
template <LinearFlux (*Lin)(FaceCoef, double)>
struct LinearScheme {
  double operator()(const PetscScalar* pL, std::ptrdiff_t s, FaceCoef c, double h) const {
    return Lin(c, h)(pL[-s], pL[0]);
  }
};
using Upwind = LinearScheme<kernels::upwind>;
using SG = LinearScheme<kernels::scharfetter_gummel>;
using Diffusion = LinearScheme<kernels::central_diffusion>;

struct Muscl {
  kernels::Limiter lim;
  double operator()(const PetscScalar* pL, std::ptrdiff_t s, FaceCoef c, double h) const {
    return kernels::muscl_drift(lim, c.u, pL[-2 * s], pL[-s], pL[0], pL[s]) +
           c.D * (pL[-s] - pL[0]) / h;
  }
};

// The continuity equation with the probability-flow velocity of the density itself:
// F = v rho_face, v = u - D d(log rho)/dn at the face, rho_face the limited MUSCL value from the
// upwind side of v. Nonlinear in rho; no diffusion flux (the score term carries it).
struct PFlow {
  kernels::Limiter lim;
  double operator()(const PetscScalar* pL, std::ptrdiff_t s, FaceCoef c, double h) const {
    const double v = kernels::probability_flow_velocity(c, h, pL[-s], pL[0], kDensityFloor);
    return kernels::muscl_drift(lim, v, pL[-2 * s], pL[-s], pL[0], pL[s]);
  }
};

template <class Full>
struct ExplicitPart {
  Full full;
  double operator()(const PetscScalar* pL, std::ptrdiff_t s, FaceCoef c, double h) const {
    return full(pL, s, c, h) - Diffusion{}(pL, s, c, h);
  }
};

template <class Fn>
void with_flux(Scheme scheme, kernels::Limiter lim, Part part, Fn&& fn) {
  if (part == Part::diffusion) return fn(Diffusion{});
  const bool expl = part == Part::explicit_part;
  switch (scheme) {
    case Scheme::upwind: return expl ? fn(ExplicitPart<Upwind>{}) : fn(Upwind{});
    case Scheme::sg:
    case Scheme::sghr:  // (its correction is applied by the limited path, never here)
      return expl ? fn(ExplicitPart<SG>{}) : fn(SG{});
    case Scheme::muscl:
      return expl ? fn(ExplicitPart<Muscl>{Muscl{lim}}) : fn(Muscl{lim});
    case Scheme::pflow:
      return expl ? fn(ExplicitPart<PFlow>{PFlow{lim}}) : fn(PFlow{lim});
  }
}

// The monotone low-order flux of a scheme: SG for sg, sghr (and pflow: Newton on the
// Fokker-Planck SG Jacobian, the same equation in linear form), upwind for upwind and MUSCL.
LinearFlux low_order_flux(Scheme scheme, FaceCoef c, double h) {
  return scheme == Scheme::sg || scheme == Scheme::sghr || scheme == Scheme::pflow
             ? kernels::scharfetter_gummel(c, h)
             : kernels::upwind(c, h);
}

// Linear coefficients for the Jacobian (the low-order flux; limited operators add their frozen
// corrections in row()).
LinearFlux linearized(Scheme scheme, Part part, FaceCoef c, double h) {
  if (part == Part::diffusion) return kernels::central_diffusion(c, h);
  return low_order_flux(scheme, c, h);
}

// A symmetric matrix (row-major 3x3, first dim axes) is PSD iff all principal minors are >= 0.
bool psd(const double* a, int dim) {
  double scale = 0;
  for (int i = 0; i < dim; ++i) scale = std::max(scale, std::fabs(a[4 * i]));
  const double tol = 1e-12 * scale;
  for (int i = 0; i < dim; ++i)
    if (a[4 * i] < -tol) return false;
  for (int i = 0; i < dim; ++i)
    for (int j = i + 1; j < dim; ++j)
      if (a[4 * i] * a[4 * j] - a[3 * i + j] * a[3 * j + i] < -tol * scale) return false;
  if (dim == 3) {
    const double det = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
                       a[2] * (a[3] * a[7] - a[4] * a[6]);
    if (det < -tol * scale * scale) return false;
  }
  return true;
}

std::string point_string(const double* x, int dim) {
  std::ostringstream s;
  s.precision(6);
  s << "(";
  for (int d = 0; d < dim; ++d) s << (d ? ", " : "") << x[d];
  s << ")";
  return s.str();
}

}  // namespace


template <class Visit>
void FokkerPlanckOperator::for_each_line(int a, Visit&& visit) const {
  const int b = (a + 1) % 3, c = (a + 2) % 3;
  std::size_t line = 0;
  std::array<PetscInt, 3> idx{};
  idx[a] = grid_.start(a);
  for (PetscInt kc = grid_.start(c); kc < grid_.start(c) + grid_.owned(c); ++kc)
    for (PetscInt kb = grid_.start(b); kb < grid_.start(b) + grid_.owned(b); ++kb) {
      idx[b] = kb;
      idx[c] = kc;
      visit(line++, idx);
    }
}

FokkerPlanckOperator::FokkerPlanckOperator(const Grid& grid, const Coefficients& coef,
                                           Scheme scheme, kernels::Limiter limiter,
                                           CrossMode cross)
    : grid_(grid),
      coef_(coef),
      scheme_(scheme),
      limiter_(limiter),
      cross_mode_(cross),
      cross_stencil_(cross == CrossMode::average ? kernels::CrossStencil::average
                                                 : kernels::CrossStencil::monotone),
      cross_present_(!coef.diagonal_diffusion() && grid.dim() > 1),
      limited_(scheme == Scheme::sghr || scheme == Scheme::muscl ||
               (cross_present_ && cross == CrossMode::limited)),
      limit_cross_(cross_present_ && cross == CrossMode::limited),
      fast_sghr_(scheme == Scheme::sghr && !cross_present_ && limiter == kernels::Limiter::vanleer),
      gibbs_faces_(coef.has_potential() && !cross_present_) {
  if (grid.stencil_width() < stencil_width(scheme))
    throw Error("internal: grid ghost width too small for scheme " + to_string(scheme));
  if (scheme == Scheme::pflow) {
    // The face velocity uses the normal score only, and log rho is unbounded at a zero wall.
    if (cross_present_)
      throw Error("-fp_scheme pflow needs a diagonal diffusion matrix (no a_ij, i != j)");
    for (int d = 0; d < grid.dim(); ++d)
      if (grid.boundary(d).any(Boundary::absorbing))
        throw Error("-fp_scheme pflow: the probability-flow velocity is unbounded at an absorbing "
                    "wall (rho = 0 there); use reflecting or periodic boundaries");
  }
  if (cross_present_ && !grid.box_stencil())
    throw Error("internal: cross-diffusion needs a box-stencil grid");
  update_coefficients(0.0);
  if (is_linear(scheme_) && !cross_present_ && !coef_.time_dependent()) build_linear_stencil();
}

// Nonlinear operators: the low-order weights and SG upwind weight of every owned face, and every
// owned cell's budget kappa for limited cross-diffusion outflow (see the header): the cross
// weights sum_j |C_j| / (h_a h_j) of its faces. Absorbing wall faces carry no cross flux.
void FokkerPlanckOperator::update_limited_weights() {
  const int dim = grid_.dim();
  kappa_.assign(std::size_t(grid_.owned_cells()), 0.0);
  for (int a = 0; a < dim; ++a) {
    const double h = grid_.h(a);
    const PetscInt nf = grid_.owned(a) + 1;
    auto& W = low_[a];
    W.resize(face_[a].size());
    // Per face: the cross-diffusion budget of both cells, sum_j |C_j| / (h_a h_j).
    std::vector<double> both_kappa(face_[a].size(), 0.0);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3>) {
      for (PetscInt f = 0; f < nf; ++f) {
        const std::size_t k = line * nf + std::size_t(f);
        const FaceCoef& fc = face_[a][k];
        const LinearFlux lf = low_order_flux(scheme_, fc, h);
        W[k] = {lf.alpha, lf.beta, kernels::sg_upwind_weight(fc, h)};
        if (absorbing_face(a, grid_.start(a) + f)) continue;
        if (limit_cross_) {
          int n = 0;
          for (int j : {(a + 1) % 3, (a + 2) % 3}) {
            if (j < dim) both_kappa[k] += std::fabs(cross_[a][k][n]) / (h * grid_.h(j));
            ++n;
          }
        }
      }
    });
    // Each cell gets the budgets of its low face (where it is the high side L, upwind when
    // u < 0) and of its high face (the low side K, upwind when u > 0), line by line.
    const std::ptrdiff_t os = grid_.ostride(a);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      const std::ptrdiff_t o0 = grid_.owned_index(idx[0], idx[1], idx[2]);
      for (PetscInt f = 0; f < nf; ++f) {
        const std::size_t k = line * std::size_t(nf) + std::size_t(f);
        if (f > 0) kappa_[std::size_t(o0 + (f - 1) * os)] += both_kappa[k];
        if (f + 1 < nf) kappa_[std::size_t(o0 + f * os)] += both_kappa[k];
      }
    });
  }
  if (fast_sghr_) build_face_planes();
}

// The fast sghr path's face tables: per axis, alpha/h, beta/h and the signed upwind weight
// (+theta when u >= 0, -theta otherwise; 1/2 at absorbing walls, which makes the correction 0)
// of every owned face, in the owned cells' x-fastest order with one more entry along the axis
// (face (i, j, k) is the low face of cell (i, j, k)), so the kernel reads them with the state.
void FokkerPlanckOperator::build_face_planes() {
  for (int a = 0; a < grid_.dim(); ++a) {
    std::array<PetscInt, 3> n{grid_.owned(0), grid_.owned(1), grid_.owned(2)};
    ++n[a];
    const std::size_t size = std::size_t(n[0]) * std::size_t(n[1]) * std::size_t(n[2]);
    FacePlanes& P = planes_[a];
    P.alpha.assign(size, 0.0);
    P.beta.assign(size, 0.0);
    P.theta.assign(size, 0.5);
    const PetscInt nf = grid_.owned(a) + 1;
    const double inv_h = 1.0 / grid_.h(a);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      std::array<PetscInt, 3> c{idx[0] - grid_.start(0), idx[1] - grid_.start(1),
                                idx[2] - grid_.start(2)};
      for (PetscInt f = 0; f < nf; ++f) {
        c[a] = f;
        const std::size_t q = std::size_t(c[0]) + std::size_t(n[0]) *
                                                     (std::size_t(c[1]) + std::size_t(n[1]) * std::size_t(c[2]));
        const std::size_t k = line * std::size_t(nf) + std::size_t(f);
        const LowWeights& w = low_[a][k];
        P.alpha[q] = w.alpha * inv_h;
        P.beta[q] = w.beta * inv_h;
        if (!absorbing_face(a, grid_.start(a) + f))
          P.theta[q] = face_[a][k].u >= 0 ? w.theta : -w.theta;
      }
    });
  }
}

// The weights (A, B) = (alpha, beta) / h of every owned face, from the same FaceCoef and the
// same flux kernel as the general path. When every line along every axis carries the same face
// coefficients (OU with a diagonal drift matrix, heat), the weights are computed for one line
// per axis only and kept as tables (separable); otherwise for every face (streamed).
void FokkerPlanckOperator::build_linear_stencil() {
  ProfileEvent ev(profiling().linear_setup);
  linear_ = std::make_unique<LinearStencil>(grid_);
  auto weights = [&](int a, const FaceCoef& fc) {
    const double h = grid_.h(a);
    const LinearFlux lf =
        scheme_ == Scheme::sg ? kernels::scharfetter_gummel(fc, h) : kernels::upwind(fc, h);
    return std::pair<double, double>(lf.alpha / h, lf.beta / h);
  };
  bool separable = true;
  for (int a = 0; a < grid_.dim() && separable; ++a) {
    const std::size_t nf = std::size_t(grid_.owned(a) + 1);
    const std::vector<FaceCoef>& F = face_[a];
    for (std::size_t k = nf; k < F.size() && separable; ++k)
      separable = F[k].u == F[k % nf].u && F[k].D == F[k % nf].D;
  }
  for (int a = 0; a < grid_.dim(); ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    if (separable) {
      std::vector<double> A(std::size_t(nf), 0.0), B(std::size_t(nf), 0.0);
      for (PetscInt f = 0; f < nf; ++f)
        std::tie(A[std::size_t(f)], B[std::size_t(f)]) = weights(a, face_[a][std::size_t(f)]);
      linear_->set_axis(a, A, B);
      continue;
    }
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      for (PetscInt f = 0; f < nf; ++f) {
        const auto [A, B] = weights(a, face_[a][line * nf + std::size_t(f)]);
        std::array<PetscInt, 3> c = idx;
        c[a] = grid_.start(a) + f;
        linear_->set_face(a, c, A, B);
      }
    });
  }
  linear_->finalize();
}

void FokkerPlanckOperator::update_coefficients(double t) {
  if (coef_ready_ && (!coef_.time_dependent() || t == coef_time_)) return;
  ProfileEvent ev(profiling().coefficients);
  const int dim = grid_.dim();
  std::string bad;
  auto check_drift = [&](const double* b, int comp, const double* x) {
    if (bad.empty() && !std::isfinite(b[comp]))
      bad = std::string("drift component ") + "xyz"[comp] + " is not finite (" +
            std::to_string(b[comp]) + ") at x = " + point_string(x, dim) + ", t = " +
            std::to_string(t);
  };
  // The last sample that passed the checks: a constant (or piecewise constant) tensor is checked
  // once, not at every face and centre (the PSD test was a third of the sampling time).
  double checked[9];
  bool have_checked = false;
  auto diffusion = [&](const double* x, double* a) {
    coef_.diffusion(x, t, a);
    if (!bad.empty()) return;
    if (have_checked) {
      bool same = true;
      for (int i = 0; i < dim && same; ++i)
        for (int j = 0; j < dim && same; ++j) same = a[3 * i + j] == checked[3 * i + j];
      if (same) return;
    }
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j)
        if (!std::isfinite(a[3 * i + j])) {
          bad = std::string("diffusion a_") + "xyz"[i] + "xyz"[j] + " is not finite (" +
                std::to_string(a[3 * i + j]) + ") at x = " + point_string(x, dim) +
                ", t = " + std::to_string(t);
          return;
        }
    for (int i = 0; i < dim; ++i)
      if (a[4 * i] < 0) {
        bad = std::string("diffusion a_") + "xyz"[i] + "xyz"[i] + " = " +
              std::to_string(a[4 * i]) + " is negative at x = " + point_string(x, dim) +
              ", t = " + std::to_string(t) + " (a = G G^T must be positive semi-definite)";
        return;
      }
    if (!psd(a, dim)) {
      std::ostringstream m;
      m.precision(6);
      m << "diffusion matrix is not positive semi-definite at x = " << point_string(x, dim)
        << ", t = " << t << ": a = [";
      for (int i = 0; i < dim; ++i)
        for (int j = 0; j < dim; ++j) m << a[3 * i + j] << (j + 1 < dim ? " " : i + 1 < dim ? "; " : "]");
      bad = m.str() + " (a = G G^T)";
      return;
    }
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j) checked[3 * i + j] = a[3 * i + j];
    have_checked = true;
  };
  for (int a = 0; a < dim; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    const PetscInt M = grid_.cells(a), nf = grid_.owned(a) + 1;
    const double h = grid_.h(a);
    const bool periodic = grid_.periodic(a);
    const std::size_t nfaces = std::size_t(nf) * grid_.owned(b) * grid_.owned(c);
    auto& F = face_[a];
    F.assign(nfaces, FaceCoef{});
    if (cross_present_) cross_[a].assign(nfaces, {0.0, 0.0});
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      double x[3] = {0, 0, 0}, xk[3], xl[3], bv[3], ak[9], al[9], af[9], ap[9], am[9];
      for (int d = 0; d < dim; ++d) x[d] = grid_.centre(d, idx[d]);
      // a at the last high-side centre: the next face's low-side centre is the same point.
      double prev_xl = std::numeric_limits<double>::quiet_NaN();
      for (PetscInt f = 0; f < nf; ++f) {
        const PetscInt i = grid_.start(a) + f;  // face i: low face of cell i
        const bool wall = !periodic && (i == 0 || i == M);
        if (wall && grid_.bc(a, i == 0 ? 0 : 1) == Boundary::reflecting) continue;  // zero flux
        const bool absorbing = wall && absorbing_face(a, i);
        // Periodic: face M is face 0; sample it identically so both sides agree bit for bit.
        x[a] = (periodic && i == M) ? grid_.face(a, 0) : grid_.face(a, i);
        std::copy(x, x + 3, xk);
        std::copy(x, x + 3, xl);
        xk[a] = grid_.centre(a, periodic ? (i - 1 + M) % M : i - 1);
        xl[a] = grid_.centre(a, periodic ? i % M : i);
        coef_.drift(x, t, bv);
        check_drift(bv, a, x);
        diffusion(x, af);
        // -1/2 d_a a_aa across the face. At an absorbing wall the outside centre may lie where
        // a is undefined: one-sided difference inside.
        double div_a;
        if (absorbing) {
          const double* xin = (i == 0) ? xl : xk;
          diffusion(xin, ak);
          div_a = (i == 0 ? (ak[4 * a] - af[4 * a]) : (af[4 * a] - ak[4 * a])) / (0.5 * h);
        } else {
          if (xk[a] == prev_xl)
            std::copy(al, al + 9, ak);
          else
            diffusion(xk, ak);
          diffusion(xl, al);
          prev_xl = xl[a];
          div_a = (al[4 * a] - ak[4 * a]) / h;
        }
        const std::size_t k = line * nf + f;
        if (cross_present_) {
          // -1/2 d_j a_aj along the face (j transverse), from samples half a cell either side.
          int n = 0;
          for (int j : {b, c}) {
            if (j < dim) {
              double xp[3], xm[3];
              std::copy(x, x + 3, xp);
              std::copy(x, x + 3, xm);
              xp[j] += 0.5 * grid_.h(j);
              xm[j] -= 0.5 * grid_.h(j);
              diffusion(xp, ap);
              diffusion(xm, am);
              div_a += (ap[3 * a + j] - am[3 * a + j]) / grid_.h(j);
              cross_[a][k][n] = 0.5 * af[3 * a + j];
            }
            ++n;
          }
        }
        F[k] = FaceCoef{bv[a] - 0.5 * div_a, 0.5 * af[4 * a]};
        if (gibbs_faces_) {
          // u = b - 1/2 d a = -1/2 a dU: from potential differences, exact for e^{-U}. Taken at
          // the geometric positions x_f -+ h/2 (not the wrapped centres), so a potential that
          // is not periodic (a tilted washboard) is differenced correctly across the wrap.
          double ug[3], lg[3];
          std::copy(x, x + 3, ug);
          std::copy(x, x + 3, lg);
          ug[a] -= 0.5 * h;
          lg[a] += 0.5 * h;
          const double dU = coef_.potential(lg, t) - coef_.potential(ug, t);
          if (!std::isfinite(dU) && bad.empty())
            bad = "potential is not finite near x = " + point_string(x, dim);
          F[k].u = -F[k].D * dU / h;
        }
        if (absorbing) {
          // rho = 0 ON the wall, half a cell from the centre: every scheme's flux with D -> 2D
          // (SG: (2D/h) B(u h/2D), upwind/central: 2D/h) is the half-cell Dirichlet flux
          // against the zero ghost, which keeps the wall second order. The transverse gradient
          // of rho vanishes along the wall, so no cross flux there.
          F[k].D *= 2.0;
          if (cross_present_) cross_[a][k] = {0.0, 0.0};
        }
      }
    });
  }
  throw_if_any(grid_.comm(), bad);
  if (limited_) update_limited_weights();
  rate_cache_ = -1;
  coef_time_ = t;
  coef_ready_ = true;
}

// Fluxes through the nf faces of one line along axis a (face f between cells f-1 and f of the
// line, p pointing at the line's first owned cell in the ghosted array).
template <class Flux>
void FokkerPlanckOperator::face_fluxes(int a, bool with_cross,
                                       const Flux& flux, std::size_t line, const PetscScalar* p,
                                       double* F) const {
  const PetscInt nf = grid_.owned(a) + 1;
  const std::ptrdiff_t ls = grid_.lstride(a);
  const double h = grid_.h(a);
  const FaceCoef* c = face_[a].data() + line * nf;
  for (PetscInt f = 0; f < nf; ++f) F[f] = flux(p + f * ls, ls, c[f], h);
  if (!with_cross) return;
  const auto* C = cross_[a].data() + line * nf;
  int n = 0;
  for (int j : {(a + 1) % 3, (a + 2) % 3}) {
    if (j < grid_.dim()) {
      const std::ptrdiff_t lj = grid_.lstride(j);
      const double hj = grid_.h(j);
      const kernels::TransverseSide side = transverse_side(j, line_coordinate(a, line, j));
      for (PetscInt f = 0; f < nf; ++f) {
        const kernels::CrossWeights w = kernels::cross_weights(cross_stencil_, C[f][n], hj, side);
        const PetscScalar* L = p + f * ls;
        const PetscScalar* K = L - ls;
        F[f] += w.K * K[0] + w.L * L[0] + w.Kp * K[lj] + w.Km * K[-lj] + w.Lp * L[lj] +
                w.Lm * L[-lj];
      }
    }
    ++n;
  }
}

// The cross-diffusion flux (the box stencil of face_fluxes) through face f of a line along a;
// L points at the face's high-side cell in the ghosted array.
double FokkerPlanckOperator::cross_flux(int a, std::size_t line, PetscInt f,
                                        const PetscScalar* L) const {
  const PetscInt nf = grid_.owned(a) + 1;
  const auto& C = cross_[a][line * nf + std::size_t(f)];
  const PetscScalar* K = L - grid_.lstride(a);
  double F = 0;
  int n = 0;
  for (int j : {(a + 1) % 3, (a + 2) % 3}) {
    if (j < grid_.dim() && C[n] != 0.0) {
      const std::ptrdiff_t lj = grid_.lstride(j);
      const kernels::CrossWeights w = kernels::cross_weights(
          cross_stencil_, C[n], grid_.h(j), transverse_side(j, line_coordinate(a, line, j)));
      F += w.K * K[0] + w.L * L[0] + w.Kp * K[lj] + w.Km * K[-lj] + w.Lp * L[lj] +
           w.Lm * L[-lj];
    }
    ++n;
  }
  return F;
}

// The nonlinear operators' face fluxes (see the header), line by line (each face's data is
// contiguous along its line; per-cell sums are accumulated face by face, in the same order on
// any partition):
//  1. every owned face's state-dependent low-order flux (sghr, MUSCL factors; unlimited cross
//     terms) and, with limited cross-diffusion, its cross flux A and, per owned cell, the rate
//     at which the A's would drain it and its low-order inflow;
//  2. (limited cross only) the limiter factor R of every owned cell, exchanged with the
//     neighbours, and F = F_lo + lambda A, lambda = R of the cell A drains.
// The fluxes go into flux_ when `store` (or when needed for step 2), the operator -div F into
// `div` when given; `record` keeps the factors and lambda for the Jacobian.
void FokkerPlanckOperator::limited_fluxes(const PetscScalar* p, bool record, PetscScalar* div,
                                          bool store) {
  const int dim = grid_.dim();
  const std::size_t ncells = std::size_t(grid_.owned_cells());
  if (limit_cross_) {
    drain_.assign(ncells, 0.0);
    inflow_.assign(ncells, 0.0);
    store = true;
  }
  if (div) std::fill(div, div + ncells, 0.0);
  const bool div_now = div && !limit_cross_;
  for (int a = 0; a < dim; ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t ls = grid_.lstride(a), os = grid_.ostride(a);
    const double inv_h = 1.0 / grid_.h(a);
    const std::size_t nfaces = face_[a].size();
    if (store) flux_lo_[a].resize(nfaces), flux_[a].resize(nfaces);
    if (limit_cross_) flux_anti_[a].resize(nfaces);
    if (record) frozen_c_[a].assign(nfaces, 0.0);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      const PetscScalar* q = p + grid_.local_index(idx[0], idx[1], idx[2]);
      const std::ptrdiff_t o0 = grid_.owned_index(idx[0], idx[1], idx[2]);
      const std::size_t k0 = line * std::size_t(nf);
      const LowWeights* W = low_[a].data() + k0;
      const FaceCoef* FC = face_[a].data() + k0;
      for (PetscInt f = 0; f < nf; ++f) {
        const PetscScalar* L = q + f * ls;
        const PetscScalar* K = L - ls;
        const bool open = !absorbing_face(a, grid_.start(a) + f);
        double factor = 0;
        if (open && scheme_ == Scheme::sghr) {
          factor = FC[f].u >= 0 ? kernels::sg_correction(limiter_, W[f].theta, K[-ls], K[0], L[0])
                                : kernels::sg_correction(limiter_, W[f].theta, L[ls], L[0], K[0]);
        } else if (open && scheme_ == Scheme::muscl) {
          factor = FC[f].u > 0 ? kernels::muscl_factor(limiter_, K[-ls], K[0], L[0])
                   : FC[f].u < 0 ? kernels::muscl_factor(limiter_, L[ls], L[0], K[0]) : 0.0;
        }
        if (record) frozen_c_[a][k0 + std::size_t(f)] = factor;
        const LinearFlux w = state_weights(a, k0 + std::size_t(f), factor);
        double lo = w.alpha * K[0] - w.beta * L[0];
        // Unlimited cross-diffusion (-fp_cross monotone/average) is part of the "low-order"
        // flux: it is not limited (and the operator then promises no positivity).
        if (cross_present_ && !limit_cross_) lo += cross_flux(a, line, f, L);
        if (store) flux_lo_[a][k0 + std::size_t(f)] = flux_[a][k0 + std::size_t(f)] = lo;
        if (div_now) {
          if (f > 0) div[o0 + (f - 1) * os] -= lo * inv_h;
          if (f + 1 < nf) div[o0 + f * os] += lo * inv_h;
        }
        if (!limit_cross_) continue;
        const double anti = open ? cross_flux(a, line, f, L) : 0.0;
        flux_anti_[a][k0 + std::size_t(f)] = anti;
        // Per unit volume: A > 0 drains K (the low side), A < 0 drains L.
        const double rate = anti * inv_h;
        if (f > 0) {  // K is owned
          const std::ptrdiff_t oK = o0 + (f - 1) * os;
          if (rate > 0) drain_[oK] += rate;
          inflow_[oK] += w.beta * std::max(L[0], 0.0) * inv_h;
        }
        if (f + 1 < nf) {  // L is owned
          const std::ptrdiff_t oL = o0 + f * os;
          if (rate < 0) drain_[oL] -= rate;
          inflow_[oL] += w.alpha * std::max(K[0], 0.0) * inv_h;
        }
      }
    });
  }
  if (!limit_cross_) return;
  if (!limit_) {
    FP_CHECK(DMCreateGlobalVector(grid_.dm(), limit_.out()));
    FP_CHECK(DMCreateLocalVector(grid_.dm(), limit_local_.out()));
  }
  {
    VecArray R(limit_);
    std::size_t o = 0;
    grid_.for_each_owned([&](std::array<PetscInt, 3> P) {
      const double budget =
          kappa_[o] * std::max(p[grid_.local_index(P[0], P[1], P[2])], 0.0) + inflow_[o];
      R[std::ptrdiff_t(o)] = drain_[o] > budget ? budget / drain_[o] : 1.0;
      ++o;
    });
  }
  FP_CHECK(DMGlobalToLocalBegin(grid_.dm(), limit_, INSERT_VALUES, limit_local_));
  FP_CHECK(DMGlobalToLocalEnd(grid_.dm(), limit_, INSERT_VALUES, limit_local_));
  VecArrayRead Rl(limit_local_);
  for (int a = 0; a < dim; ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t ls = grid_.lstride(a), os = grid_.ostride(a);
    const double inv_h = 1.0 / grid_.h(a);
    if (record) frozen_alpha_[a].assign(face_[a].size(), 1.0);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      const PetscScalar* r = Rl.data() + grid_.local_index(idx[0], idx[1], idx[2]);
      const std::ptrdiff_t o0 = grid_.owned_index(idx[0], idx[1], idx[2]);
      const std::size_t k0 = line * std::size_t(nf);
      const double* LO = flux_lo_[a].data() + k0;
      const double* AN = flux_anti_[a].data() + k0;
      double* F = flux_[a].data() + k0;
      for (PetscInt f = 0; f < nf; ++f) {
        const double A = AN[f];
        const double lambda = A > 0 ? r[(f - 1) * ls] : A < 0 ? r[f * ls] : 1.0;
        F[f] = LO[f] + lambda * A;
        if (record) frozen_alpha_[a][k0 + std::size_t(f)] = lambda;
        if (div) {
          if (f > 0) div[o0 + (f - 1) * os] -= F[f] * inv_h;
          if (f + 1 < nf) div[o0 + f * os] += F[f] * inv_h;
        }
      }
    });
  }
}

namespace {

// One face of the fast sghr path (van Leer): the flux divided by h. K, L: the face's cells; Km,
// Lp: their outer neighbours along the axis; a, b: alpha/h, beta/h; ts: the signed upwind weight.
// The same numbers as kernels::sg_correction with the van Leer slope dm dp/(dm + dp) written out,
// in selects rather than branches so that a row of faces vectorises.
inline double sghr_face(double Km, double K, double L, double Lp, double a, double b, double ts) {
  // (every select by value, no short circuit, no std::min/clamp references: if-convertible)
  const bool fwd = ts >= 0.0;
  const double theta = fwd ? ts : -ts;
  const double up = fwd ? K : L, down = fwd ? L : K, upup = fwd ? Km : Lp;
  const double dm = up - upup, dp = down - up;
  const double w = 2.0 * theta - 1.0;
  const double rho_face = theta * up + (1.0 - theta) * down;
  const bool slope = (dm * dp > 0.0) & (rho_face > 0.0) & (w > 0.0);
  const double den = slope ? (dm + dp) * rho_face : 1.0;
  const double w2 = 2.0 * w;
  const double cap = w2 < 1.0 ? w2 : 1.0;
  const double q = w * dm * dp / den;
  const double qc = q < -cap ? -cap : (q > cap ? cap : q);
  const double c = slope ? qc : 0.0;
  return (1.0 + c) * (a * K - b * L);
}

}  // namespace

// out = L rho for sghr with the van Leer limiter and no cross terms: the same fluxes as
// limited_fluxes (tests/test_trust.cpp compares them), swept plane by plane so that every face
// row, its weights and the cells it updates are contiguous in memory.
void FokkerPlanckOperator::apply_sghr_fast(const PetscScalar* p, PetscScalar* out) {
  const PetscInt nx = grid_.owned(0), ny = grid_.owned(1), nz = grid_.owned(2);
  const std::ptrdiff_t ly = grid_.lstride(1), lz = grid_.lstride(2);
  std::vector<double>& F = row_buffer_;
  F.resize(std::size_t(nx) + 1);
  // x faces: row by row, into out (assignment).
  {
    const FacePlanes& P = planes_[0];
    for (PetscInt k = 0; k < nz; ++k)
      for (PetscInt j = 0; j < ny; ++j) {
        const PetscScalar* r = p + grid_.local_index(grid_.start(0), grid_.start(1) + j,
                                                     grid_.start(2) + k);
        const std::size_t q0 = std::size_t(nx + 1) * (std::size_t(j) + std::size_t(ny) * std::size_t(k));
        const double *A = P.alpha.data() + q0, *B = P.beta.data() + q0, *T = P.theta.data() + q0;
        for (PetscInt f = 0; f <= nx; ++f)
          F[std::size_t(f)] = sghr_face(r[f - 2], r[f - 1], r[f], r[f + 1], A[f], B[f], T[f]);
        PetscScalar* o = out + grid_.owned_index(grid_.start(0), grid_.start(1) + j, grid_.start(2) + k);
        for (PetscInt i = 0; i < nx; ++i) o[i] = F[std::size_t(i)] - F[std::size_t(i) + 1];
      }
  }
  // y and z faces: plane by plane along the axis; a face row updates the row below (K) and the
  // row above (L), both contiguous.
  for (int a = 1; a < grid_.dim(); ++a) {
    const FacePlanes& P = planes_[a];
    const std::ptrdiff_t la = a == 1 ? ly : lz;
    const PetscInt na = grid_.owned(a), nb = a == 1 ? nz : ny;  // nb: the other transverse axis
    for (PetscInt t = 0; t < nb; ++t)
      for (PetscInt f = 0; f <= na; ++f) {
        const PetscInt j = a == 1 ? f : t, k = a == 1 ? t : f;
        const std::size_t q0 = a == 1 ? std::size_t(nx) * (std::size_t(f) + std::size_t(ny + 1) * std::size_t(t))
                                      : std::size_t(nx) * (std::size_t(t) + std::size_t(ny) * std::size_t(f));
        const double *A = P.alpha.data() + q0, *B = P.beta.data() + q0, *T = P.theta.data() + q0;
        const PetscScalar* L = p + grid_.local_index(grid_.start(0), grid_.start(1) + j,
                                                     grid_.start(2) + k);
        const PetscScalar* K = L - la;
        for (PetscInt i = 0; i < nx; ++i)
          F[std::size_t(i)] = sghr_face(K[i - la], K[i], L[i], L[i + la], A[i], B[i], T[i]);
        if (f > 0) {  // the row of K cells is owned: it loses F
          PetscScalar* o = out + grid_.owned_index(grid_.start(0), grid_.start(1) + (a == 1 ? f - 1 : t),
                                                   grid_.start(2) + (a == 1 ? t : f - 1));
          for (PetscInt i = 0; i < nx; ++i) o[i] -= F[std::size_t(i)];
        }
        if (f < na) {  // the row of L cells gains it
          PetscScalar* o = out + grid_.owned_index(grid_.start(0), grid_.start(1) + j, grid_.start(2) + k);
          for (PetscInt i = 0; i < nx; ++i) o[i] += F[std::size_t(i)];
        }
      }
  }
}

void FokkerPlanckOperator::apply_limited(const PetscScalar* p, PetscScalar* out) {
  if (fast_sghr_ && use_fast_) return apply_sghr_fast(p, out);
  limited_fluxes(p, false, out, false);
}

// Largest outflow rate of the state-dependent low-order weights at their largest factor (sghr:
// 1 + min(1, 4 theta - 2); MUSCL: 2 on the drift part) plus the cross-diffusion budget, over
// this rank's cells (the same line-by-line accumulation as the fluxes).
double FokkerPlanckOperator::limited_rate_local() const {
  std::vector<double> d(kappa_);
  for (int a = 0; a < grid_.dim(); ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t os = grid_.ostride(a);
    const double inv_h = 1.0 / grid_.h(a);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      const std::ptrdiff_t o0 = grid_.owned_index(idx[0], idx[1], idx[2]);
      const std::size_t k0 = line * std::size_t(nf);
      for (PetscInt f = 0; f < nf; ++f) {
        const double top = scheme_ == Scheme::sghr
                               ? kernels::sg_correction_cap(low_[a][k0 + std::size_t(f)].theta)
                               : 1.0;
        const LinearFlux w = state_weights(a, k0 + std::size_t(f), top);
        if (f > 0) d[std::size_t(o0 + (f - 1) * os)] += w.alpha * inv_h;  // out of K
        if (f + 1 < nf) d[std::size_t(o0 + f * os)] += w.beta * inv_h;    // out of L
      }
    });
  }
  return d.empty() ? 0.0 : *std::max_element(d.begin(), d.end());
}

void FokkerPlanckOperator::apply_local(double t, Vec rho_local, Vec out, Part part) {
  update_coefficients(t);
  ProfileEvent ev(profiling().apply);
  VecArrayRead in(rho_local);
  VecArray o(out);
  if (linear_ && part == Part::full) return linear_->apply(in.data(), o.data());
  if (limited_ && part != Part::diffusion) {
    apply_limited(in.data(), o.data());
    if (part == Part::full) return;
    // The explicit half of an IMEX split: the limited operator minus the (linear) diffusion.
    std::vector<double> diffusion(std::size_t(grid_.owned_cells()));
    apply_unlimited(in.data(), diffusion.data(), Part::diffusion);
    for (std::size_t c = 0; c < diffusion.size(); ++c) o[std::ptrdiff_t(c)] -= diffusion[c];
    return;
  }
  apply_unlimited(in.data(), o.data(), part);
}

// out = -div F_part for the schemes' own (unlimited) fluxes, one line of faces at a time.
void FokkerPlanckOperator::apply_unlimited(const PetscScalar* in, PetscScalar* out, Part part) {
  const bool with_cross = cross_present_ && part != Part::explicit_part;
  std::fill(out, out + grid_.owned_cells(), 0.0);
  std::vector<double> F;
  with_flux(scheme_, limiter_, part, [&](auto flux) {
    for (int a = 0; a < grid_.dim(); ++a) {
      const PetscInt nf = grid_.owned(a) + 1;
      const std::ptrdiff_t os = grid_.ostride(a);
      const double inv_h = 1.0 / grid_.h(a);
      F.resize(nf);
      for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
        const PetscScalar* p = in + grid_.local_index(idx[0], idx[1], idx[2]);
        PetscScalar* out_line = out + grid_.owned_index(idx[0], idx[1], idx[2]);
        face_fluxes(a, with_cross, flux, line, p, F.data());
        for (PetscInt f = 0; f + 1 < nf; ++f) out_line[f * os] += (F[f] - F[f + 1]) * inv_h;
      });
    }
  });
}

void FokkerPlanckOperator::apply(double t, Vec rho, Vec out, Part part) {
  LocalVec loc(grid_.dm());
  grid_.to_local(rho, loc);
  apply_local(t, loc, out, part);
}

kernels::TransverseSide FokkerPlanckOperator::transverse_side(int j, PetscInt i) const {
  const PetscInt M = grid_.cells(j);
  if (grid_.periodic(j)) return kernels::TransverseSide::interior;
  if (M < 2) return kernels::TransverseSide::single_cell;
  if (i == 0) return kernels::TransverseSide::low_wall;
  if (i == M - 1) return kernels::TransverseSide::high_wall;
  return kernels::TransverseSide::interior;
}

// Transverse coordinate j of the owned line `line` along axis a (for_each_line's ordering).
PetscInt FokkerPlanckOperator::line_coordinate(int a, std::size_t line, int j) const {
  const int b = (a + 1) % 3;
  const std::size_t nb = std::size_t(grid_.owned(b));
  return j == b ? grid_.start(b) + PetscInt(line % nb) : grid_.start(j) + PetscInt(line / nb);
}

// A column index outside the grid is a ghost: periodic ghosts stay in ghost coordinates (-1, M:
// the DMDA maps them to the owner, which in parallel need not be a local cell), reflecting
// ghosts are mirror images of interior cells (fill_boundary_ghosts), absorbing ghosts are zero
// (dropped); each by the kind of the side it lies beyond.
bool FokkerPlanckOperator::map_to_cell(std::array<PetscInt, 3>& c) const {
  for (int d = 0; d < grid_.dim(); ++d) {
    const PetscInt M = grid_.cells(d);
    if (c[d] >= 0 && c[d] < M) continue;
    switch (grid_.bc(d, c[d] < 0 ? 0 : 1)) {
      case Boundary::periodic: break;
      case Boundary::reflecting: c[d] = c[d] < 0 ? std::min(-c[d] - 1, M - 1) : std::max<PetscInt>(2 * M - 1 - c[d], 0); break;
      case Boundary::absorbing: return false;
    }
  }
  return true;
}

void FokkerPlanckOperator::row(std::array<PetscInt, 3> P, Part part, RowMode mode,
                               std::vector<Entry>& out) const {
  out.clear();
  auto add = [&](std::array<PetscInt, 3> c, double v) {
    if (v == 0.0 || !map_to_cell(c)) return;
    for (auto& e : out)  // (component compares: std::array == is a memcmp call here)
      if (e.cell[0] == c[0] && e.cell[1] == c[1] && e.cell[2] == c[2]) {
        e.value += v;
        return;
      }
    out.push_back({c, v});
  };
  out.push_back({P, 0.0});
  const bool with_cross = cross_present_ && part != Part::explicit_part && mode != RowMode::rate_drift_only;
  for (int a = 0; a < grid_.dim(); ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    const PetscInt nf = grid_.owned(a) + 1;
    const std::size_t line = std::size_t(P[c] - grid_.start(c)) * grid_.owned(b) +
                             std::size_t(P[b] - grid_.start(b));
    const double inv_h = 1.0 / grid_.h(a), h = grid_.h(a);
    for (int side = 0; side < 2; ++side) {  // 0: low face (P is L), 1: high face (P is K)
      const std::size_t k = line * nf + std::size_t(P[a] - grid_.start(a) + side);
      FaceCoef fc = face_[a][k];
      LinearFlux lf;
      // A limited operator linearised at a state: its limiter factor and sghr correction
      // frozen there (none recorded: no limiting, no correction).
      const bool frozen = limited_ && part == Part::full && mode == RowMode::jacobian;
      const double lambda = frozen && !frozen_alpha_[a].empty() ? frozen_alpha_[a][k] : 1.0;
      if (mode == RowMode::jacobian) {
        lf = linearized(scheme_, part, fc, h);
        // sghr, MUSCL: their state-dependent factor frozen at the recorded state.
        if (frozen && (scheme_ == Scheme::sghr || scheme_ == Scheme::muscl) &&
            !frozen_c_[a].empty())
          lf = state_weights(a, k, frozen_c_[a][k]);
      } else {
        if (mode == RowMode::rate_drift_only) fc.D = 0;
        if (scheme_ == Scheme::muscl || scheme_ == Scheme::pflow || scheme_ == Scheme::sghr)
          fc.u *= 2.0;  // limiter worst case: slopes up to 2x
        lf = low_order_flux(scheme_, fc, h);
      }
      const double cross_factor =
          frozen && cross_mode_ == CrossMode::limited ? lambda : 1.0;
      // Face cells: L = the cell on the high side of the face, K = L - e_a.
      std::array<PetscInt, 3> L = P;
      L[a] += side;
      std::array<PetscInt, 3> K = L;
      K[a] -= 1;
      const double sign = side == 0 ? 1.0 : -1.0;  // d rho_P/dt += sign * F / h
      add(K, sign * lf.alpha * inv_h);
      add(L, -sign * lf.beta * inv_h);
      if (!with_cross) continue;
      int n = 0;
      for (int j : {b, c}) {
        if (j < grid_.dim()) {
          const kernels::CrossWeights w = kernels::cross_weights(
              cross_stencil_, cross_[a][k][n], grid_.h(j), transverse_side(j, P[j]));
          auto shifted = [&](std::array<PetscInt, 3> x, int dj) {
            x[j] += dj;
            return x;
          };
          const double f = sign * cross_factor * inv_h;
          add(K, f * w.K);
          add(L, f * w.L);
          add(shifted(K, 1), f * w.Kp);
          add(shifted(K, -1), f * w.Km);
          add(shifted(L, 1), f * w.Lp);
          add(shifted(L, -1), f * w.Lm);
        }
        ++n;
      }
    }
  }
}

void FokkerPlanckOperator::assemble_jacobian(double t, Mat J, Part part, bool stencil_rows,
                                             Vec state) {
  if (part == Part::explicit_part) throw Error("internal: no Jacobian for the explicit part");
  update_coefficients(t);
  if (limited_ && part == Part::full) {
    if (state) {
      LocalVec loc(grid_.dm());
      grid_.to_local(state, loc);
      VecArrayRead p(loc);
      limited_fluxes(p.data(), true);
    } else {
      for (int a = 0; a < 3; ++a) frozen_alpha_[a].clear(), frozen_c_[a].clear();
    }
  }
  ProfileEvent ev(profiling().jacobian);
  FP_CHECK(MatZeroEntries(J));
  // Global indices straight from the DMDA's ghosted-local-to-global map: what
  // MatSetValuesStencil computes per entry (stencil -> local -> global), done here with one
  // array lookup (the per-entry mapping was a quarter of the assembly time at 2048^2).
  ISLocalToGlobalMapping ltog;
  FP_CHECK(DMGetLocalToGlobalMapping(grid_.dm(), &ltog));
  PetscInt nlocal;
  FP_CHECK(ISLocalToGlobalMappingGetSize(ltog, &nlocal));
  const PetscInt* l2g;
  FP_CHECK(ISLocalToGlobalMappingGetIndices(ltog, &l2g));
  auto global = [&](const std::array<PetscInt, 3>& c) {
    const std::ptrdiff_t l = grid_.local_index(c[0], c[1], c[2]);
    if (l < 0 || l >= nlocal) throw Error("internal: Jacobian entry outside the ghosted grid");
    return l2g[l];
  };
  std::vector<Entry> entries;
  std::vector<PetscInt> cols;
  std::vector<PetscScalar> vals;
  std::string err;
  try {
    if (linear_ && part == Part::full && stencil_rows) {
      // The fixed weights the explicit kernels use: no face-flux evaluation per row (the
      // Scharfetter-Gummel weights' exponentials were a third of the assembly).
      linear_->matrix_rows(l2g, [&](PetscInt r, int n, const PetscInt* c, const double* v) {
        FP_CHECK(MatSetValues(J, 1, &r, n, c, v, ADD_VALUES));
      });
    } else {
      grid_.for_each_owned([&](std::array<PetscInt, 3> P) {
        row(P, part, RowMode::jacobian, entries);
        cols.clear();
        vals.clear();
        for (const auto& e : entries) {
          cols.push_back(global(e.cell));
          vals.push_back(e.value);
        }
        const PetscInt r = global(P);
        FP_CHECK(MatSetValues(J, 1, &r, PetscInt(cols.size()), cols.data(), vals.data(),
                              ADD_VALUES));
      });
    }
  } catch (const std::exception& e) {
    err = e.what();
  }
  FP_CHECK(ISLocalToGlobalMappingRestoreIndices(ltog, &l2g));
  if (!err.empty()) throw Error(err);
  FP_CHECK(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  FP_CHECK(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
}

// Calls visit(a, line, idx, p, F) for every owned line along every axis, with p the line's
// first owned cell in the ghosted array and F its nf face fluxes: the update's own fluxes.
template <class Visit>
void FokkerPlanckOperator::for_each_flux_line(const PetscScalar* in, Visit&& visit) {
  if (limited_) {
    limited_fluxes(in, false);
    for (int a = 0; a < grid_.dim(); ++a) {
      const std::size_t nf = std::size_t(grid_.owned(a) + 1);
      for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
        visit(a, line, idx, in + grid_.local_index(idx[0], idx[1], idx[2]),
              static_cast<const double*>(flux_[a].data() + line * nf));
      });
    }
    return;
  }
  std::vector<double> F;
  with_flux(scheme_, limiter_, Part::full, [&](auto flux) {
    for (int a = 0; a < grid_.dim(); ++a) {
      F.resize(std::size_t(grid_.owned(a) + 1));
      for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
        const PetscScalar* p = in + grid_.local_index(idx[0], idx[1], idx[2]);
        face_fluxes(a, cross_present_, flux, line, p, F.data());
        visit(a, line, idx, p, static_cast<const double*>(F.data()));
      });
    }
  });
}

std::array<double, 6> FokkerPlanckOperator::local_outflow_by_side(double t, Vec rho_local) {
  update_coefficients(t);
  VecArrayRead in(rho_local);
  std::array<double, 6> out{};
  for_each_flux_line(in.data(), [&](int a, std::size_t, std::array<PetscInt, 3>,
                                    const PetscScalar*, const double* F) {
    const PetscInt nf = grid_.owned(a) + 1;
    const double area = grid_.cell_volume() / grid_.h(a);
    if (grid_.start(a) == 0 && absorbing_face(a, 0)) out[2 * a] -= F[0] * area;
    if (grid_.start(a) + grid_.owned(a) == grid_.cells(a) && absorbing_face(a, grid_.cells(a)))
      out[2 * a + 1] += F[nf - 1] * area;
  });
  return out;
}

double FokkerPlanckOperator::local_outflow(double t, Vec rho_local) {
  const std::array<double, 6> r = local_outflow_by_side(t, rho_local);
  double out = 0;
  for (double v : r) out += v;
  return out;
}

double FokkerPlanckOperator::max_rate(double t, bool drift_only) {
  update_coefficients(t);
  ProfileEvent ev(profiling().rate_bound);
  double local = 0;
  if (linear_ && !drift_only) {
    // Fixed linear weights: the stencil has every row's diagonal already (the same alpha, beta;
    // reflecting wall faces carry none, absorbing ones only the outflow the rows count too).
    local = linear_->max_rate_local();
  } else if (limited_ && !drift_only) {
    // The bound depends on the coefficients only: once per coefficient sampling.
    if (rate_time_ != coef_time_ || !(rate_cache_ >= 0)) {
      rate_cache_ = limited_rate_local();
      rate_time_ = coef_time_;
    }
    local = rate_cache_;
  } else {
    std::vector<Entry> entries;
    grid_.for_each_owned([&](std::array<PetscInt, 3> P) {
      row(P, Part::full, drift_only ? RowMode::rate_drift_only : RowMode::rate, entries);
      local = std::max(local, -entries[0].value);
    });
  }
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, grid_.comm());
  return global;
}

Monotonicity FokkerPlanckOperator::monotonicity(double t) {
  // Without cross-diffusion the linear schemes' off-diagonals are the face weights alpha/h and
  // beta/h themselves (Bernoulli-function or upwind weights, >= 0 for D >= 0) or sums of them:
  // the matrix is monotone by construction and the scan over every row can be skipped.
  // A limited operator is positive by construction whatever its matrix looks like.
  if ((is_linear(scheme_) && !cross_present_) || positivity_preserving()) return Monotonicity{};
  update_coefficients(t);
  ProfileEvent ev(profiling().rate_bound);
  double worst = 0;
  std::array<PetscInt, 3> at{0, 0, 0};
  std::vector<Entry> entries;
  grid_.for_each_owned([&](std::array<PetscInt, 3> P) {
    row(P, Part::full, RowMode::jacobian, entries);
    const double diag = std::fabs(entries[0].value);
    for (size_t e = 1; e < entries.size(); ++e) {
      const double r = diag > 0 ? entries[e].value / diag : entries[e].value;
      if (r < worst) worst = r, at = P;
    }
  });
  struct {
    double v;
    int rank;
  } mine{worst, comm_rank(grid_.comm())}, glob;
  MPI_Allreduce(&mine, &glob, 1, MPI_DOUBLE_INT, MPI_MINLOC, grid_.comm());
  Monotonicity m;
  m.worst = glob.v;
  m.monotone = glob.v >= -1e-12;
  double x[3] = {0, 0, 0};
  for (int d = 0; d < grid_.dim(); ++d) x[d] = grid_.centre(d, at[d]);
  char buf[256] = {0};
  if (comm_rank(grid_.comm()) == glob.rank)
    std::snprintf(buf, sizeof(buf), "%s", point_string(x, grid_.dim()).c_str());
  MPI_Bcast(buf, sizeof(buf), MPI_CHAR, glob.rank, grid_.comm());
  m.where = buf;
  return m;
}

void FokkerPlanckOperator::current(double t, Vec rho_local, std::vector<double>& J3) {
  update_coefficients(t);
  VecArrayRead in(rho_local);
  J3.assign(3 * std::size_t(grid_.owned_cells()), 0.0);
  for_each_flux_line(in.data(), [&](int a, std::size_t, std::array<PetscInt, 3> idx,
                                    const PetscScalar*, const double* F) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t os = grid_.ostride(a);
    const std::ptrdiff_t o = grid_.owned_index(idx[0], idx[1], idx[2]);
    for (PetscInt f = 0; f + 1 < nf; ++f) J3[3 * (o + f * os) + a] = 0.5 * (F[f] + F[f + 1]);
  });
}

void FokkerPlanckOperator::flow_fields(double t, Vec rho_local, double floor, FlowFields& out) {
  update_coefficients(t);
  ProfileEvent ev(profiling().flow_fields);
  VecArrayRead in(rho_local);
  const std::size_t n = std::size_t(grid_.owned_cells());
  out.score.assign(3 * n, 0.0);
  out.velocity.assign(3 * n, 0.0);
  out.divergence.assign(n, 0.0);
  out.mask.assign(n, 1.0);
  for (int a = 0; a < grid_.dim(); ++a) out.face_velocity[a].assign(face_[a].size(), 0.0);
  // The update's own fluxes (Part::full): for pflow those are v rho_face already; the velocity
  // below is then the one the scheme transports with, up to the face reconstruction.
  for_each_flux_line(in.data(), [&](int a, std::size_t line, std::array<PetscInt, 3> idx,
                                    const PetscScalar* p, const double* F) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t os = grid_.ostride(a), ls = grid_.lstride(a);
    const double h = grid_.h(a);
    const std::ptrdiff_t o = grid_.owned_index(idx[0], idx[1], idx[2]);
    double* v = out.face_velocity[a].data() + line * nf;
    double s_prev = 0;
    for (PetscInt f = 0; f < nf; ++f) {
      const double K = p[(f - 1) * ls], L = p[f * ls];
      const double lm = kernels::log_mean(K, L);
      v[f] = std::min(K, L) >= floor ? F[f] / lm : F[f] / std::max({K, L, floor});
      const double s = (std::log(std::max(L, floor)) - std::log(std::max(K, floor))) / h;
      if (f > 0) {
        const std::size_t c = std::size_t(o + (f - 1) * os);
        out.score[3 * c + a] = 0.5 * (s_prev + s);
        out.velocity[3 * c + a] = 0.5 * (v[f - 1] + v[f]);
        out.divergence[c] += (v[f] - v[f - 1]) / h;
        if (K < floor) out.mask[c] = 0.0;
      }
      s_prev = s;
    }
  });
}

void FokkerPlanckOperator::drift_at_cells(double t, std::vector<double>& b3) const {
  b3.assign(3 * std::size_t(grid_.owned_cells()), 0.0);
  const int dim = grid_.dim();
  std::size_t n = 0;
  grid_.for_each_owned([&](std::array<PetscInt, 3> P) {
    double x[3] = {0, 0, 0}, b[3] = {0, 0, 0};
    for (int d = 0; d < dim; ++d) x[d] = grid_.centre(d, P[d]);
    coef_.drift(x, t, b);
    for (int d = 0; d < dim; ++d) b3[3 * n + d] = b[d];
    ++n;
  });
}

}  // namespace fpflow
