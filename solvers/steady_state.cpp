// solvers/steady_state.cpp — Newton-Krylov for the stationary Fokker-Planck law (see the header).
#include "solvers/steady_state.hpp"

#include "core/options.hpp"
#include "solvers/coarse_levels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fpflow {

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
          {"krylov_iterations", krylov_iterations}, {"residual", residual}, {"mass", mass},
          {"shift", shift}, {"positivity_projected", projected}};
}

SteadyOptions read_steady_options(MPI_Comm comm) {
  SteadyOptions o;
  OptionsBlock opt(comm, "steady_", "fpflow steady state (-steady: Newton-Krylov on L rho = 0)");
  o.tol = opt.real("-tol", "Stop when ||L rho||_1 <= tol * max_rate * ||rho||_1", o.tol);
  o.max_it = opt.integer("-max_it", "Maximum outer (Newton) steps (default 30; 200 for a nonlinear "
                         "operator: sghr, limited cross fluxes)", o.max_it, &o.max_it_given);
  o.shift = opt.real("-shift",
                     "The preconditioner solves sigma I - L, sigma = shift x the largest rate of "
                     "L on the coarsest multigrid grid (default 0.03; 1e-6 with a direct solve)",
                     o.shift, &o.shift_given);
  if (!(o.tol > 0) || !(o.shift > 0) || o.max_it < 1)
    throw Error("-steady_tol, -steady_shift and -steady_max_it must be positive");
  return o;
}

SteadyState::SteadyState(FokkerPlanckOperator& op, const SteadyOptions& opt)
    : op_(op), opt_(opt) {
  // A Picard iteration converges linearly where limiting is active (32^2 correlated OU: 31
  // steps, 12^3: 58), a Newton step for a linear operator in one.
  if (!op.linear() && !opt.max_it_given) opt_.max_it = 200;
  // Newton on a Picard matrix needs one that is an M-matrix at every state: sg, upwind and
  // sghr (with limited or unlimited cross terms). MUSCL's slope factor can stall it, and pflow is
  // a different (nonlinear in log rho) equation.
  if (op.scheme() == Scheme::muscl || op.scheme() == Scheme::pflow)
    throw Error("-steady needs a linear flux scheme or sghr (-fp_scheme sg, upwind or sghr), not " +
                to_string(op.scheme()));
}

namespace {

using KSPH = Handle<KSP, KSPDestroy>;

// The largest rate of L rediscretised on the coarsest grid of the default multigrid hierarchy
// (the fine DMDA coarsened as PCMG does; also in 1-D, where the solve uses LU): the rate of the
// slowest modes that grid still resolves, set by the problem and not by the fine grid.
double coarsest_rate(FokkerPlanckOperator& op) {
  const Grid& g = op.grid();
  std::vector<DMH> chain;
  DM dm = g.dm();
  for (int l = 1; l < multigrid_levels(g); ++l) {
    DMH c;
    FP_CHECK(DMCoarsen(dm, g.comm(), c.out()));
    dm = c;
    chain.push_back(std::move(c));
  }
  if (chain.empty()) return op.max_rate(0.0);
  Grid coarse(dm, g);
  return op.on_grid(coarse)->max_rate(0.0);
}

// The operator GMRES sees: x -> J Pi x, Pi x = x - (sum x / sum rho) rho, with J = sigma I - P
// from the preconditioning matrix P = sigma I - J (one assembled matrix serves both). On the
// zero-mass vectors, where the Krylov space lives, it is non-singular.
struct ProjectedJacobian {
  Mat P = nullptr;
  double sigma = 0;
  Vec rho = nullptr, work = nullptr;
  double rho_sum = 1;  // sum(rho), fixed during a linear solve
  static PetscErrorCode mult(Mat A, Vec x, Vec y) {
    ProjectedJacobian* s = nullptr;
    PetscScalar sx = 0;
    PetscErrorCode ierr = MatShellGetContext(A, &s);
    if (!ierr) ierr = VecSum(x, &sx);
    if (!ierr) ierr = VecWAXPY(s->work, -sx / s->rho_sum, s->rho, x);
    if (!ierr) ierr = MatMult(s->P, s->work, y);
    if (!ierr) ierr = VecAXPBY(y, s->sigma, -1.0, s->work);
    return ierr;
  }
};

// A stationary law is unique only if mass can move between every pair of cells. The common way
// to lose that is an axis with neither drift nor diffusion across any of its faces (e.g. a zero
// diffusion coefficient where nothing drifts): each line along the other axes then keeps its
// own mass. With f = (i_a / M_a)^2, a function of the index along axis a only,
// J (f 1) - f J 1 = f (P 1) - P f vanishes (to round-off) exactly when no entry of J couples
// two cells along a. Other reducible operators are not detected.
void require_coupled_axes(const Grid& g, Mat P, double rate) {
  VecH f, ones, Pf, P1;
  FP_CHECK(DMCreateGlobalVector(g.dm(), f.out()));
  FP_CHECK(VecDuplicate(f, ones.out()));
  FP_CHECK(VecDuplicate(f, Pf.out()));
  FP_CHECK(VecDuplicate(f, P1.out()));
  FP_CHECK(VecSet(ones, 1.0));
  FP_CHECK(MatMult(P, ones, P1));
  static const char* names[] = {"x", "y", "z"};
  for (int a = 0; a < g.dim(); ++a) {
    if (g.cells(a) < 2) continue;
    {
      VecArray v(f);
      std::ptrdiff_t n = 0;
      g.for_each_owned([&](std::array<PetscInt, 3> idx) {
        const double u = double(idx[a]) / double(g.cells(a));
        v[n++] = u * u;
      });
    }
    FP_CHECK(MatMult(P, f, Pf));
    FP_CHECK(VecPointwiseMult(f, f, P1));
    FP_CHECK(VecAXPY(f, -1.0, Pf));
    PetscReal coupling;
    FP_CHECK(VecNorm(f, NORM_INFINITY, &coupling));
    if (!(coupling > 1e-12 * rate))
      throw Error(std::string("-steady: nothing moves mass along ") + names[a] +
                  " (no drift and no diffusion across its faces), so every line keeps its own "
                  "mass and the stationary law is not unique");
  }
}

// Geometric multigrid for sigma I - J, as the time stepper's backward-Euler default
// (TimeStepper::default_multigrid_options): rediscretised coarse levels, full cycles,
// Richardson + SOR. Explicit -steady_pc_mg_* / -steady_mg_levels_* options take precedence
// (KSPSetFromOptions runs after this).
void configure_multigrid(PC pc, const Grid& g) {
  FP_CHECK(PCSetType(pc, PCMG));
  // PCMG smooths the finest level with the outer operator unless told otherwise; that is
  // J Pi here, singular on the mass direction, not the sigma I - J the hierarchy approximates
  // (measured on rotating OU at 64^2, 128^2, 512^2: 35, 37, 14 Krylov iterations, not 11, 11, 10).
  FP_CHECK(PCSetUseAmat(pc, PETSC_FALSE));
  // Set the level count now (a later change by -steady_pc_mg_levels would recreate the level
  // solvers with PETSc's Chebyshev default, which diverges on these non-symmetric levels).
  PetscInt levels = multigrid_levels(g);
  FP_CHECK(PetscOptionsGetInt(nullptr, "steady_", "-pc_mg_levels", &levels, nullptr));
  FP_CHECK(PCMGSetLevels(pc, levels, nullptr));
  FP_CHECK(PCMGSetGalerkin(pc, PC_MG_GALERKIN_NONE));
  FP_CHECK(PCMGSetType(pc, PC_MG_FULL));
  for (PetscInt l = 1; l < levels; ++l) {
    KSP smoother;
    PC spc;
    FP_CHECK(PCMGGetSmoother(pc, l, &smoother));
    FP_CHECK(KSPSetType(smoother, KSPRICHARDSON));
    FP_CHECK(KSPGetPC(smoother, &spc));
    FP_CHECK(PCSetType(spc, PCSOR));
  }
}

// What to try when the solve fails. A non-monotone operator (cross-diffusion beyond the
// monotonicity condition) may have a stationary vector that is not a density at all, and its
// matrices defeat SOR smoothing: that is the grid's fault, not the solver's.
std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

std::string failure_hint(FokkerPlanckOperator& op) {
  const Monotonicity m = op.monotonicity(0.0);
  if (!m.monotone)
    return "; the operator matrix is not monotone (off-diagonal " + sci(m.worst) +
           " x diagonal at x = " + m.where +
           "), so its stationary vector need not be a density: refine or reshape the grid";
  return " (try -steady_pc_type lu on small grids, or another -steady_shift)";
}

// The linear solve of one Newton step: GMRES on x -> J Pi x, right-preconditioned by a solver
// for sigma I - J (multigrid, or LU where there is no hierarchy). Holds the KSP, the fine
// matrix P = sigma I - J, the shell operator and the coarse levels; not movable (PETSc keeps
// pointers to its members).
class StepSolver {
 public:
  StepSolver(FokkerPlanckOperator& op, const SteadyOptions& opt, Vec rho)
      : op_(op), levels_(op), comm_(op.grid().comm()) {
    const Grid& g = op.grid();
    FP_CHECK(KSPCreate(comm_, ksp_.out()));
    FP_CHECK(KSPSetOptionsPrefix(ksp_, "steady_"));
    FP_CHECK(KSPSetDM(ksp_, g.dm()));
    FP_CHECK(KSPSetDMActive(ksp_, PETSC_FALSE));  // the fine operators are A_ and P_
    FP_CHECK(KSPSetType(ksp_, KSPGMRES));
    FP_CHECK(KSPSetPCSide(ksp_, PC_RIGHT));  // GMRES's residual is the true F + J delta
    // Densities spanning 30 orders of magnitude and a non-normal operator: classical
    // Gram-Schmidt loses orthogonality (langevin-gmm -gmm_sigma 0.3 at 64^2: 42 iterations,
    // 112 with restart 100; 16-19 with refinement when needed, as with modified Gram-Schmidt).
    FP_CHECK(KSPGMRESSetCGSRefinementType(ksp_, KSP_GMRES_CGS_REFINE_IFNEEDED));
    PC pc;
    FP_CHECK(KSPGetPC(ksp_, &pc));
    if (g.dim() == 1 || multigrid_levels(g) == 1)
      FP_CHECK(PCSetType(pc, PCLU));  // 1-D: tridiagonal; no coarser grid: no hierarchy
    else
      configure_multigrid(pc, g);
    FP_CHECK(KSPSetFromOptions(ksp_));
    PCType type;
    FP_CHECK(PCGetType(pc, &type));
    const bool direct = std::string(type) == PCLU || std::string(type) == PCCHOLESKY;
    sigma_ = (opt.shift_given || !direct ? opt.shift : 1e-6) * coarsest_rate(op);

    // Each coarse multigrid level asks this callback for sigma I - L rediscretised on its grid
    // (solvers/coarse_levels.hpp).
    FP_CHECK(KSPSetComputeOperators(ksp_, compute, this));
    FP_CHECK(DMCreateMatrix(g.dm(), P_.out()));
    FP_CHECK(VecDuplicate(rho, work_.out()));
    pj_.P = P_;
    pj_.sigma = sigma_;
    pj_.rho = rho;
    pj_.work = work_;
    PetscInt n, N;
    FP_CHECK(VecGetLocalSize(rho, &n));
    FP_CHECK(VecGetSize(rho, &N));
    FP_CHECK(MatCreateShell(comm_, n, n, N, N, &pj_, A_.out()));
    FP_CHECK(MatShellSetOperation(A_, MATOP_MULT, (void (*)(void))ProjectedJacobian::mult));
  }
  StepSolver(const StepSolver&) = delete;
  StepSolver& operator=(const StepSolver&) = delete;

  double sigma() const { return sigma_; }
  Mat P() const { return P_; }

  // The one place the linearisation is formed: P = sigma I - J(state) on the fine grid (the
  // coarse levels follow when KSP sets the preconditioner up again). Linear schemes: once.
  // For a nonlinear flux, pass the state to the Jacobian assembly here and to the coarse
  // levels' callback (restricted), and bypass CoarseLevels' cache of unchanged matrices.
  void linearise(Vec state) {
    if (linearised_ && op_.linear()) return;
    // A nonlinear operator (sghr, limited cross fluxes) is linearised at the current state with
    // its factors frozen (the Picard matrix, exact at that state); its coarse levels stay the
    // unlimited, uncorrected operator (CoarseLevels).
    levels_.assemble(0.0, sigma_, Part::full, P_, op_.linear() ? nullptr : state);
    FP_CHECK(KSPSetOperators(ksp_, A_, P_));
    linearised_ = true;
  }

  // x = the zero-mass solution of J x = b (b has zero mass) at relative 2-norm tolerance rtol
  // (ignored where the user set -steady_ksp_rtol). Returns the Krylov iterations; running out
  // of them is not an error (GMRES never raises its residual; the next Newton step continues).
  int solve(Vec b, Vec x, double rtol) {
    PetscReal rt, atol, dtol;
    PetscInt max_it;
    FP_CHECK(KSPGetTolerances(ksp_, &rt, &atol, &dtol, &max_it));
    if (!user_rtol_) rt = rtol, atol = 0;
    if (!user_max_it_) max_it = 500;
    FP_CHECK(KSPSetTolerances(ksp_, rt, atol, dtol, max_it));
    PetscScalar sr, sx;
    FP_CHECK(VecSum(pj_.rho, &sr));
    pj_.rho_sum = sr;
    FP_CHECK(KSPSolve(ksp_, b, x));
    KSPConvergedReason reason;
    PetscInt its;
    FP_CHECK(KSPGetConvergedReason(ksp_, &reason));
    FP_CHECK(KSPGetIterationNumber(ksp_, &its));
    if (reason < 0 && reason != KSP_DIVERGED_ITS)
      throw Error(std::string("-steady: linear solve failed: ") + KSPConvergedReasons[reason] +
                  failure_hint(op_));
    FP_CHECK(VecSum(x, &sx));
    FP_CHECK(VecAXPY(x, -sx / sr, pj_.rho));  // x <- Pi x
    return int(its);
  }

 private:
  static PetscErrorCode compute(KSP, Mat A, Mat P, void* c) {
    auto* self = static_cast<StepSolver*>(c);
    return guarded(self->comm_, [&] {
      self->levels_.assemble(0.0, self->sigma_, Part::full, P);
      if (A != P) {
        FP_CHECK(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
        FP_CHECK(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
      }
    });
  }

  FokkerPlanckOperator& op_;
  CoarseLevels levels_;
  MPI_Comm comm_;
  KSPH ksp_;
  MatH P_, A_;
  VecH work_;
  ProjectedJacobian pj_;
  double sigma_ = 0;
  bool linearised_ = false;
  const bool user_rtol_ = option_given("-steady_ksp_rtol");
  const bool user_max_it_ = option_given("-steady_ksp_max_it");
};

}  // namespace

SteadyResult SteadyState::solve(Vec rho) {
  const Grid& g = op_.grid();
  const double rate = op_.max_rate(0.0);
  if (!(rate > 0)) throw Error("-steady: the operator is zero (no drift, no diffusion)");
  StepSolver step(op_, opt_, rho);
  SteadyResult res;
  res.shift = step.sigma();
  step.linearise(rho);
  require_coupled_axes(g, step.P(), rate);

  // Newton steps on F(rho) = L rho with zero-mass corrections (Picard steps for a nonlinear L).
  VecH r, x, trial;
  FP_CHECK(VecDuplicate(rho, r.out()));
  FP_CHECK(VecDuplicate(rho, x.out()));
  auto mass = [&](Vec v) {
    PetscScalar s;
    FP_CHECK(VecSum(v, &s));
    return double(s) * g.cell_volume();
  };
  const double mass0 = mass(rho);
  double previous = std::numeric_limits<double>::infinity();
  for (;;) {
    op_.apply(0.0, rho, r, Part::full);
    PetscReal r1, n1;
    FP_CHECK(VecNorm(r, NORM_1, &r1));
    FP_CHECK(VecNorm(rho, NORM_1, &n1));
    res.residual = r1 / (rate * n1);
    if (!std::isfinite(res.residual)) throw Error("-steady: the iterate is not finite");
    if (res.residual <= opt_.tol) {
      res.converged = true;
      break;
    }
    if (res.iterations == opt_.max_it) break;
    // (A Picard iteration need not decrease the residual at every step: only linear operators
    // are declared stalled; nonlinear ones run to -steady_max_it.)
    if (op_.linear() && !(res.residual < previous))
      throw Error("-steady stalled at residual " + sci(res.residual) + " after " +
                  std::to_string(res.iterations) + " steps" + failure_hint(op_));
    previous = res.residual;
    ++res.iterations;
    step.linearise(rho);
    FP_CHECK(VecScale(r, -1.0));
    // The KSP test is on the 2-norm of the same residual: ask for a tenth of what the outer
    // test needs, so that one step suffices for a linear F.
    const double rtol = std::clamp(0.1 * opt_.tol * rate * n1 / r1, 1e-14, 0.1);
    res.krylov_iterations += step.solve(r, x, rtol);
    if (op_.linear()) {
      FP_CHECK(VecAXPY(rho, 1.0, x));
      FP_CHECK(VecScale(rho, mass0 / mass(rho)));  // round-off only: x has zero mass
      continue;
    }
    // A nonlinear operator's full Picard step can overshoot where its limiter switches (the
    // iteration then cycles): backtrack on the residual, rho + w x for w = 1, 1/2, ..., 1/16.
    if (!trial) FP_CHECK(VecDuplicate(rho, trial.out()));
    double w = 1;
    for (int k = 0; k < 5; ++k, w *= 0.5) {
      FP_CHECK(VecWAXPY(trial, w, x, rho));
      FP_CHECK(VecScale(trial, mass0 / mass(trial)));
      op_.apply(0.0, trial, r, Part::full);
      PetscReal t1, tn;
      FP_CHECK(VecNorm(r, NORM_1, &t1));
      FP_CHECK(VecNorm(trial, NORM_1, &tn));
      if (t1 / (rate * tn) < res.residual) break;
    }
    FP_CHECK(VecCopy(trial, rho));
  }
  res.mass = mass(rho);
  if (!res.converged)
    throw Error("-steady did not converge in " + std::to_string(opt_.max_it) +
                " steps (residual " + sci(res.residual) +
                "); raise -steady_max_it or check that a unique stationary law exists");
  return res;
}

}  // namespace fpflow
