// solvers/steady_state.cpp — shifted inverse iteration for the stationary Fokker-Planck law.
#include "solvers/steady_state.hpp"

#include "core/options.hpp"
#include "solvers/coarse_levels.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {

using KSPH = Handle<KSP, KSPDestroy>;

int multigrid_levels(const Grid& g) {
  PetscInt procs[3] = {1, 1, 1};
  FP_CHECK(DMDAGetInfo(g.dm(), nullptr, nullptr, nullptr, nullptr, &procs[0], &procs[1],
                       &procs[2], nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  auto halvable = [&](int l) {
    for (int a = 0; a < g.dim(); ++a) {
      const PetscInt coarse = g.cells(a) >> l;
      if (g.cells(a) % (PetscInt(1) << l) != 0 || coarse < 4 ||
          coarse < procs[a] * std::max<PetscInt>(g.stencil_width(), 2))
        return false;
    }
    return true;
  };
  int levels = 1;
  while (levels < 10 && halvable(levels)) ++levels;
  return levels;
}

nlohmann::json SteadyResult::to_json() const {
  return {{"converged", converged}, {"iterations", iterations},
          {"krylov_iterations", krylov_iterations}, {"residual", residual}, {"mass", mass}};
}

SteadyOptions read_steady_options(MPI_Comm comm) {
  SteadyOptions o;
  OptionsBlock opt(comm, "steady_", "fpflow steady state (-steady: shifted inverse iteration)");
  o.tol = opt.real("-tol", "Stop when ||L rho||_1 <= tol * max_rate * ||rho||_1", o.tol);
  o.max_it = opt.integer("-max_it", "Maximum inverse-iteration steps", o.max_it);
  o.shift = opt.real("-shift", "Shift sigma relative to the largest diagonal of L", o.shift);
  if (!(o.tol > 0) || !(o.shift > 0) || o.max_it < 1)
    throw Error("-steady_tol, -steady_shift and -steady_max_it must be positive");
  return o;
}

SteadyState::SteadyState(FokkerPlanckOperator& op, const SteadyOptions& opt)
    : op_(op), tol_(opt.tol), shift_rel_(opt.shift), max_it_(opt.max_it) {
  if (!is_linear(op.scheme()))
    throw Error("-steady needs a linear flux scheme (-fp_scheme sg or upwind), not " + to_string(op.scheme()));
}

SteadyResult SteadyState::solve(Vec rho) {
  const Grid& g = op_.grid();
  const MPI_Comm comm = g.comm();
  const double rate = op_.max_rate(0.0);
  if (!(rate > 0)) throw Error("-steady: the operator is zero (no drift, no diffusion)");
  const double sigma = shift_rel_ * rate;

  // The matrix sigma I - L, assembled by KSP through the DM: on the fine grid, and on every
  // coarse DMDA when multigrid rediscretises (-steady_pc_mg_galerkin none,
  // solvers/coarse_levels.hpp).
  CoarseLevels levels(op_);
  struct Ctx {
    CoarseLevels* levels;
    double sigma;
    MPI_Comm comm;
  } ctx{&levels, sigma, comm};
  auto compute = [](KSP, Mat A, Mat P, void* c) -> PetscErrorCode {
    auto* x = static_cast<Ctx*>(c);
    return guarded(x->comm, [&] {
      x->levels->assemble(0.0, x->sigma, Part::full, P);
      if (A != P) {
        FP_CHECK(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
        FP_CHECK(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
      }
    });
  };

  KSPH ksp;
  FP_CHECK(KSPCreate(comm, ksp.out()));
  FP_CHECK(KSPSetOptionsPrefix(ksp, "steady_"));
  FP_CHECK(KSPSetDM(ksp, g.dm()));
  FP_CHECK(KSPSetComputeOperators(ksp, compute, &ctx));
  FP_CHECK(KSPSetType(ksp, KSPGMRES));
  FP_CHECK(KSPSetTolerances(ksp, 1e-12, 1e-50, PETSC_DEFAULT, 500));
  PC pc;
  FP_CHECK(KSPGetPC(ksp, &pc));
  if (g.dim() == 1) {
    FP_CHECK(PCSetType(pc, PCLU));
  } else {
    FP_CHECK(PCSetType(pc, PCMG));
    FP_CHECK(PCMGSetLevels(pc, multigrid_levels(g), nullptr));
    // Galerkin coarse operators by default, unlike the time stepper: sigma is tiny (1e-8 of the
    // largest rate), so the system is nearly singular and a coarse operator must share the fine
    // one's near-null vector. Rediscretised ones do not exactly (an O(H^2) different stationary
    // law): measured, 87 Krylov iterations for langevin-gmm 2-D against 36-52 with Galerkin,
    // and GMRES breakdowns for the matrix-OU (Lyapunov) cases; only for OU are they better
    // (22 flat against 20 -> 77 from 128^2 to 1024^2).
    FP_CHECK(PCMGSetGalerkin(pc, PC_MG_GALERKIN_PMAT));
    FP_CHECK(PCMGSetType(pc, PC_MG_FULL));
  }
  FP_CHECK(KSPSetFromOptions(ksp));

  const double mass0 = [&] {
    PetscReal s;
    FP_CHECK(VecSum(rho, &s));
    return s * g.cell_volume();
  }();
  VecH rhs, Lr;
  FP_CHECK(VecDuplicate(rho, rhs.out()));
  FP_CHECK(VecDuplicate(rho, Lr.out()));
  SteadyResult r;
  r.mass = mass0;
  for (r.iterations = 1; r.iterations <= max_it_; ++r.iterations) {
    FP_CHECK(VecCopy(rho, rhs));
    FP_CHECK(VecScale(rhs, sigma));
    FP_CHECK(KSPSolve(ksp, rhs, rho));
    KSPConvergedReason reason;
    FP_CHECK(KSPGetConvergedReason(ksp, &reason));
    PetscInt its;
    FP_CHECK(KSPGetIterationNumber(ksp, &its));
    r.krylov_iterations += int(its);
    if (reason < 0)
      throw Error(std::string("-steady: linear solve failed: ") + KSPConvergedReasons[reason] +
                  " (try -steady_pc_type lu on small grids, or a larger -steady_shift)");
    PetscReal s, n1, res;
    FP_CHECK(VecSum(rho, &s));
    if (!(s > 0) || !std::isfinite(s)) throw Error("-steady: the iteration lost all mass");
    FP_CHECK(VecScale(rho, mass0 / (s * g.cell_volume())));
    op_.apply(0.0, rho, Lr, Part::full);
    FP_CHECK(VecNorm(Lr, NORM_1, &res));
    FP_CHECK(VecNorm(rho, NORM_1, &n1));
    r.residual = res / (rate * n1);
    if (r.residual <= tol_) {
      r.converged = true;
      break;
    }
  }
  r.iterations = std::min<int>(r.iterations, int(max_it_));
  PetscReal s;
  FP_CHECK(VecSum(rho, &s));
  r.mass = s * g.cell_volume();
  if (!r.converged)
    throw Error("-steady did not converge in " + std::to_string(max_it_) +
                " iterations (residual " + std::to_string(r.residual) +
                "); raise -steady_max_it or check that a stationary law exists (absorbing "
                "walls have none)");
  return r;
}

}  // namespace fpflow
