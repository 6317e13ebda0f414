// operators/fp_operator.cpp — face-coefficient sampling, flux loops and Jacobian assembly for
// FokkerPlanckOperator. The scheme is resolved once per call (with_flux) into a functor that the
// loops are instantiated with: no branching on the scheme inside a loop.
#include "operators/fp_operator.hpp"

#include <cmath>
#include <sstream>

namespace fpflow {

using kernels::FaceCoef;
using kernels::LinearFlux;

Scheme parse_scheme(const std::string& name) {
  if (name == "upwind") return Scheme::upwind;
  if (name == "muscl") return Scheme::muscl;
  if (name == "sg") return Scheme::sg;
  throw Error("unknown flux scheme '" + name + "'; valid: sg, muscl, upwind");
}

std::string to_string(Scheme s) {
  switch (s) {
    case Scheme::upwind: return "upwind";
    case Scheme::muscl: return "muscl";
    case Scheme::sg: return "sg";
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

bool is_linear(Scheme s) { return s != Scheme::muscl; }

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
    case Scheme::sg: return expl ? fn(ExplicitPart<SG>{}) : fn(SG{});
    case Scheme::muscl:
      return expl ? fn(ExplicitPart<Muscl>{Muscl{lim}}) : fn(Muscl{lim});
  }
}

// Linear coefficients for the Jacobian (first-order upwind stands in for MUSCL).
LinearFlux linearized(Scheme scheme, Part part, FaceCoef c, double h) {
  if (part == Part::diffusion) return kernels::central_diffusion(c, h);
  return scheme == Scheme::sg ? kernels::scharfetter_gummel(c, h) : kernels::upwind(c, h);
}

// Outgoing-rate coefficients for the positivity time-step bound.
LinearFlux rate_coefficients(Scheme scheme, FaceCoef c, double h) {
  if (scheme == Scheme::muscl) c.u *= 2.0;
  return scheme == Scheme::sg ? kernels::scharfetter_gummel(c, h) : kernels::upwind(c, h);
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

FokkerPlanckOperator::FokkerPlanckOperator(const Grid& grid, const Coefficients& coef,
                                           Scheme scheme, kernels::Limiter limiter)
    : grid_(grid), coef_(coef), scheme_(scheme), limiter_(limiter) {
  if (grid.stencil_width() < stencil_width(scheme))
    throw Error("grid ghost width too small for scheme " + to_string(scheme));
  update_coefficients(0.0);
}

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

void FokkerPlanckOperator::update_coefficients(double t) {
  if (coef_ready_ && (!coef_.time_dependent() || t == coef_time_)) return;
  const int dim = grid_.dim();
  std::string bad;
  auto validate = [&](const double* v, const char* what, int comp, const double* x) {
    if (!bad.empty()) return;
    if (!std::isfinite(v[comp]))
      bad = std::string(what) + " component " + "xyz"[comp] + " is not finite (" +
            std::to_string(v[comp]) + ") at x = " + point_string(x, dim) + ", t = " +
            std::to_string(t);
    else if (std::string(what) == "diffusion" && v[comp] < 0)
      bad = "diffusion a_" + std::string(2, "xyz"[comp]) + " = " + std::to_string(v[comp]) +
            " is negative at x = " + point_string(x, dim) + ", t = " + std::to_string(t) +
            " (a = G G^T must be positive semi-definite)";
  };
  for (int a = 0; a < dim; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    const PetscInt M = grid_.cells(a), nf = grid_.owned(a) + 1;
    const double h = grid_.h(a);
    const Boundary bc = grid_.bc(a);
    auto& F = face_[a];
    F.assign(std::size_t(nf) * grid_.owned(b) * grid_.owned(c), FaceCoef{});
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      double x[3] = {0, 0, 0}, xk[3], xl[3], bv[3], ak[3], al[3], af[3];
      for (int d = 0; d < dim; ++d) x[d] = grid_.centre(d, idx[d]);
      for (PetscInt f = 0; f < nf; ++f) {
        const PetscInt i = grid_.start(a) + f;  // face i: low face of cell i
        const bool boundary = (i == 0 || i == M);
        if (boundary && bc == Boundary::reflecting) continue;  // zero flux
        const bool periodic = bc == Boundary::periodic;
        // Periodic: face M is face 0; sample it identically so both sides agree bit for bit.
        x[a] = (periodic && i == M) ? grid_.face(a, 0) : grid_.face(a, i);
        std::copy(x, x + 3, xk);
        std::copy(x, x + 3, xl);
        xk[a] = grid_.centre(a, periodic ? (i - 1 + M) % M : i - 1);
        xl[a] = grid_.centre(a, periodic ? i % M : i);
        coef_.drift(x, t, bv);
        coef_.diffusion(x, t, af);
        validate(bv, "drift", a, x);
        validate(af, "diffusion", a, x);
        double dadx;
        if (boundary && bc == Boundary::absorbing) {
          // The outside cell centre may lie where a is undefined: one-sided difference inside.
          const double* xin = (i == 0) ? xl : xk;
          coef_.diffusion(xin, t, ak);
          validate(ak, "diffusion", a, xin);
          dadx = (i == 0 ? (ak[a] - af[a]) : (af[a] - ak[a])) / (0.5 * h);
        } else {
          coef_.diffusion(xk, t, ak);
          coef_.diffusion(xl, t, al);
          validate(ak, "diffusion", a, xk);
          validate(al, "diffusion", a, xl);
          dadx = (al[a] - ak[a]) / h;
        }
        F[line * nf + f] = FaceCoef{bv[a] - 0.5 * dadx, 0.5 * af[a]};
      }
    });
  }
  throw_if_any(grid_.comm(), bad);
  coef_time_ = t;
  coef_ready_ = true;
}

template <class Flux>
void FokkerPlanckOperator::divergence(const PetscScalar* loc, PetscScalar* out,
                                      const Flux& flux) const {
  std::fill(out, out + grid_.owned_cells(), 0.0);
  std::vector<double> F;
  for (int a = 0; a < grid_.dim(); ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t ls = grid_.lstride(a), os = grid_.ostride(a);
    const double inv_h = 1.0 / grid_.h(a), h = grid_.h(a);
    F.resize(nf);
    const FaceCoef* coef = face_[a].data();
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      const PetscScalar* p = loc + grid_.local_index(idx[0], idx[1], idx[2]);
      PetscScalar* o = out + grid_.owned_index(idx[0], idx[1], idx[2]);
      const FaceCoef* c = coef + line * nf;
      for (PetscInt f = 0; f < nf; ++f) F[f] = flux(p + f * ls, ls, c[f], h);
      for (PetscInt f = 0; f + 1 < nf; ++f) o[f * os] += (F[f] - F[f + 1]) * inv_h;
    });
  }
}

void FokkerPlanckOperator::apply_local(double t, Vec rho_local, Vec out, Part part) {
  update_coefficients(t);
  VecArrayRead in(rho_local);
  VecArray o(out);
  with_flux(scheme_, limiter_, part, [&](auto flux) { divergence(in.data(), o.data(), flux); });
}

void FokkerPlanckOperator::apply(double t, Vec rho, Vec out, Part part) {
  LocalVec loc(grid_.dm());
  grid_.to_local(rho, loc);
  apply_local(t, loc, out, part);
}

void FokkerPlanckOperator::assemble_jacobian(double t, Mat J, Part part) {
  if (part == Part::explicit_part) throw Error("internal: no Jacobian for the explicit part");
  update_coefficients(t);
  FP_CHECK(MatZeroEntries(J));
  const int dim = grid_.dim();
  for (PetscInt k = grid_.start(2); k < grid_.start(2) + grid_.owned(2); ++k)
    for (PetscInt j = grid_.start(1); j < grid_.start(1) + grid_.owned(1); ++j)
      for (PetscInt i = grid_.start(0); i < grid_.start(0) + grid_.owned(0); ++i) {
        const std::array<PetscInt, 3> idx{i, j, k};
        MatStencil row{k, j, i, 0}, cols[7];
        PetscScalar vals[7];
        int n = 1;
        cols[0] = row;
        vals[0] = 0;
        for (int a = 0; a < dim; ++a) {
          const int b = (a + 1) % 3, c = (a + 2) % 3;
          const PetscInt nf = grid_.owned(a) + 1;
          const std::size_t line = std::size_t(idx[c] - grid_.start(c)) * grid_.owned(b) +
                                   std::size_t(idx[b] - grid_.start(b));
          const PetscInt f = idx[a] - grid_.start(a);
          const double inv_h = 1.0 / grid_.h(a);
          const LinearFlux lo = linearized(scheme_, part, face_[a][line * nf + f], grid_.h(a));
          const LinearFlux hi =
              linearized(scheme_, part, face_[a][line * nf + f + 1], grid_.h(a));
          // d rho/dt += (F_low - F_high)/h, F_low = lo.alpha rho_{-} - lo.beta rho,
          // F_high = hi.alpha rho - hi.beta rho_{+}.
          vals[0] -= (lo.beta + hi.alpha) * inv_h;
          MatStencil m = row, p = row;
          PetscInt* mi = a == 0 ? &m.i : a == 1 ? &m.j : &m.k;
          PetscInt* pi = a == 0 ? &p.i : a == 1 ? &p.j : &p.k;
          *mi -= 1;
          *pi += 1;
          cols[n] = m;
          vals[n++] = lo.alpha * inv_h;
          cols[n] = p;
          vals[n++] = hi.beta * inv_h;
        }
        // Neighbours outside a non-periodic boundary are ghost points that the DMDA maps to
        // negative indices; MatSetValuesStencil drops them (their density is 0 or mirrored
        // with zero flux, so they carry no coefficient).
        FP_CHECK(MatSetValuesStencil(J, 1, &row, n, cols, vals, ADD_VALUES));
      }
  FP_CHECK(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  FP_CHECK(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
}

double FokkerPlanckOperator::local_outflow(double t, Vec rho_local) {
  update_coefficients(t);
  VecArrayRead in(rho_local);
  double out = 0;
  with_flux(scheme_, limiter_, Part::full, [&](auto flux) {
    for (int a = 0; a < grid_.dim(); ++a) {
      if (grid_.bc(a) != Boundary::absorbing) continue;
      const bool low = grid_.start(a) == 0;
      const bool high = grid_.start(a) + grid_.owned(a) == grid_.cells(a);
      if (!low && !high) continue;
      const PetscInt nf = grid_.owned(a) + 1;
      const std::ptrdiff_t ls = grid_.lstride(a);
      const double h = grid_.h(a), area = grid_.cell_volume() / h;
      for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
        const PetscScalar* p = in.data() + grid_.local_index(idx[0], idx[1], idx[2]);
        const FaceCoef* c = face_[a].data() + line * nf;
        if (low) out -= flux(p, ls, c[0], h) * area;
        if (high) out += flux(p + (nf - 1) * ls, ls, c[nf - 1], h) * area;
      });
    }
  });
  return out;
}

double FokkerPlanckOperator::max_rate(double t, bool drift_only) {
  update_coefficients(t);
  double local = 0;
  std::vector<double> rate(grid_.owned_cells());
  for (int a = 0; a < grid_.dim(); ++a) {
    const PetscInt nf = grid_.owned(a) + 1;
    const std::ptrdiff_t os = grid_.ostride(a);
    const double h = grid_.h(a);
    for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
      double* r = rate.data() + grid_.owned_index(idx[0], idx[1], idx[2]);
      const FaceCoef* c = face_[a].data() + line * nf;
      for (PetscInt f = 0; f + 1 < nf; ++f) {
        FaceCoef lo = c[f], hi = c[f + 1];
        if (drift_only) lo.D = hi.D = 0;
        r[f * os] += (rate_coefficients(scheme_, lo, h).beta +
                      rate_coefficients(scheme_, hi, h).alpha) / h;
      }
    });
  }
  for (double r : rate) local = std::max(local, r);
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, grid_.comm());
  return global;
}

void FokkerPlanckOperator::current(double t, Vec rho_local, std::vector<double>& J3) {
  update_coefficients(t);
  VecArrayRead in(rho_local);
  J3.assign(3 * std::size_t(grid_.owned_cells()), 0.0);
  std::vector<double> F;
  with_flux(scheme_, limiter_, Part::full, [&](auto flux) {
    for (int a = 0; a < grid_.dim(); ++a) {
      const PetscInt nf = grid_.owned(a) + 1;
      const std::ptrdiff_t ls = grid_.lstride(a), os = grid_.ostride(a);
      const double h = grid_.h(a);
      F.resize(nf);
      for_each_line(a, [&](std::size_t line, std::array<PetscInt, 3> idx) {
        const PetscScalar* p = in.data() + grid_.local_index(idx[0], idx[1], idx[2]);
        const std::ptrdiff_t o = grid_.owned_index(idx[0], idx[1], idx[2]);
        const FaceCoef* c = face_[a].data() + line * nf;
        for (PetscInt f = 0; f < nf; ++f) F[f] = flux(p + f * ls, ls, c[f], h);
        for (PetscInt f = 0; f + 1 < nf; ++f) J3[3 * (o + f * os) + a] = 0.5 * (F[f] + F[f + 1]);
      });
    }
  });
}

void FokkerPlanckOperator::drift_at_cells(double t, std::vector<double>& b3) const {
  b3.assign(3 * std::size_t(grid_.owned_cells()), 0.0);
  const int dim = grid_.dim();
  std::size_t n = 0;
  for (PetscInt k = grid_.start(2); k < grid_.start(2) + grid_.owned(2); ++k)
    for (PetscInt j = grid_.start(1); j < grid_.start(1) + grid_.owned(1); ++j)
      for (PetscInt i = grid_.start(0); i < grid_.start(0) + grid_.owned(0); ++i, ++n) {
        const PetscInt idx[3] = {i, j, k};
        double x[3] = {0, 0, 0}, b[3] = {0, 0, 0};
        for (int d = 0; d < dim; ++d) x[d] = grid_.centre(d, idx[d]);
        coef_.drift(x, t, b);
        for (int d = 0; d < dim; ++d) b3[3 * n + d] = b[d];
      }
}

}  // namespace fpflow
