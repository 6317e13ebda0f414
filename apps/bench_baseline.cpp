// apps/bench_baseline.cpp — the PETSc-user baseline for `fpflow bench` (see bench_baseline.hpp).
// Deliberately plain PETSc style: DMDAVecGetArray index arithmetic, a branch per wall face,
// every face flux computed from both of its cells.
#include "apps/bench_baseline.hpp"

#include "operators/flux_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {

namespace {

struct Ctx {
  DM cdm = nullptr;    // 2 dim weights per cell: (A, B) of the low face along x, y, z
  Vec cloc = nullptr;  // ghosted, filled once
  PetscInt M[3] = {1, 1, 1};
  std::vector<double> step_times;
};

// F = A rho_K - B rho_L through the low face of each cell; walls carry no flux.
PetscErrorCode rhs2d(DMDALocalInfo* info, PetscReal, PetscScalar** x, PetscScalar** f, void* p) {
  Ctx* c = static_cast<Ctx*>(p);
  PetscScalar*** w;
  PetscCall(DMDAVecGetArrayDOFRead(c->cdm, c->cloc, &w));
  for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
    for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
      const double fxl = i > 0 ? w[j][i][0] * x[j][i - 1] - w[j][i][1] * x[j][i] : 0.0;
      const double fxh = i < info->mx - 1 ? w[j][i + 1][0] * x[j][i] - w[j][i + 1][1] * x[j][i + 1] : 0.0;
      const double fyl = j > 0 ? w[j][i][2] * x[j - 1][i] - w[j][i][3] * x[j][i] : 0.0;
      const double fyh = j < info->my - 1 ? w[j + 1][i][2] * x[j][i] - w[j + 1][i][3] * x[j + 1][i] : 0.0;
      f[j][i] = (fxl - fxh) + (fyl - fyh);
    }
  PetscCall(DMDAVecRestoreArrayDOFRead(c->cdm, c->cloc, &w));
  return 0;
}

PetscErrorCode rhs3d(DMDALocalInfo* info, PetscReal, PetscScalar*** x, PetscScalar*** f, void* p) {
  Ctx* c = static_cast<Ctx*>(p);
  PetscScalar**** w;
  PetscCall(DMDAVecGetArrayDOFRead(c->cdm, c->cloc, &w));
  for (PetscInt k = info->zs; k < info->zs + info->zm; ++k)
    for (PetscInt j = info->ys; j < info->ys + info->ym; ++j)
      for (PetscInt i = info->xs; i < info->xs + info->xm; ++i) {
        const double fxl = i > 0 ? w[k][j][i][0] * x[k][j][i - 1] - w[k][j][i][1] * x[k][j][i] : 0.0;
        const double fxh = i < info->mx - 1 ? w[k][j][i + 1][0] * x[k][j][i] - w[k][j][i + 1][1] * x[k][j][i + 1] : 0.0;
        const double fyl = j > 0 ? w[k][j][i][2] * x[k][j - 1][i] - w[k][j][i][3] * x[k][j][i] : 0.0;
        const double fyh = j < info->my - 1 ? w[k][j + 1][i][2] * x[k][j][i] - w[k][j + 1][i][3] * x[k][j + 1][i] : 0.0;
        const double fzl = k > 0 ? w[k][j][i][4] * x[k - 1][j][i] - w[k][j][i][5] * x[k][j][i] : 0.0;
        const double fzh = k < info->mz - 1 ? w[k + 1][j][i][4] * x[k][j][i] - w[k + 1][j][i][5] * x[k + 1][j][i] : 0.0;
        f[k][j][i] = (fxl - fxh) + (fyl - fyh) + (fzl - fzh);
      }
  PetscCall(DMDAVecRestoreArrayDOFRead(c->cdm, c->cloc, &w));
  return 0;
}

}  // namespace

StepTimes step_times(const std::vector<double>& t, std::size_t first) {
  StepTimes r;
  if (t.size() < first + 2) return r;
  std::vector<double> d;
  for (std::size_t s = first + 1; s < t.size(); ++s) d.push_back(t[s] - t[s - 1]);
  r.mean = (t.back() - t[first]) / double(d.size());
  std::sort(d.begin(), d.end());
  const std::size_t m = d.size() / 2;
  r.median = d.size() % 2 ? d[m] : 0.5 * (d[m - 1] + d[m]);
  return r;
}

namespace {

PetscErrorCode record_time(TS, PetscInt step, PetscReal, Vec, void* p) {
  static_cast<Ctx*>(p)->step_times.push_back(MPI_Wtime());
  return 0;
}

// Reflecting walls (DM_BOUNDARY_NONE, no flux through them), one unknown per cell.
DMH create_dmda(MPI_Comm comm, int dim, const PetscInt M[3]) {
  DMH da;
  if (dim == 2)
    FP_CHECK(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, M[0], M[1],
                          PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, da.out()));
  else if (dim == 3)
    FP_CHECK(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                          DMDA_STENCIL_STAR, M[0], M[1], M[2], PETSC_DECIDE, PETSC_DECIDE,
                          PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr, da.out()));
  else
    throw Error("the baseline is 2-D or 3-D");
  FP_CHECK(DMSetUp(da));
  return da;
}

// The box cut into M cells per axis.
struct Cells {
  int dim;
  Box box;
  double h[3] = {1, 1, 1};
  double centre(int a, PetscInt i) const { return box.lo[a] + (double(i) + 0.5) * h[a]; }
};

// SG weights (alpha, beta) / h of the low face along a of the cell idx, from b and a at the face
// (the Ito term -1/2 d_a a_aa by a central difference of the centres either side).
kernels::LinearFlux low_face_weights(const Problem& problem, const Cells& g, const PetscInt idx[3],
                                     int a) {
  double xf[3] = {0, 0, 0}, b[3], af[9], ak[9], al[9];
  for (int d = 0; d < g.dim; ++d) xf[d] = g.centre(d, idx[d]);
  xf[a] = g.box.lo[a] + double(idx[a]) * g.h[a];
  double xk[3] = {xf[0], xf[1], xf[2]}, xl[3] = {xf[0], xf[1], xf[2]};
  xk[a] -= 0.5 * g.h[a];
  xl[a] += 0.5 * g.h[a];
  problem.drift(xf, 0.0, b);
  problem.diffusion(xf, 0.0, af);
  problem.diffusion(xk, 0.0, ak);
  problem.diffusion(xl, 0.0, al);
  const kernels::FaceCoef fc{b[a] - 0.5 * (al[4 * a] - ak[4 * a]) / g.h[a], 0.5 * af[4 * a]};
  const kernels::LinearFlux lf = kernels::scharfetter_gummel(fc, g.h[a]);
  return {lf.alpha / g.h[a], lf.beta / g.h[a]};
}

// Set-up, once, as a careful user would: the weights of each owned cell's low faces into w
// (2 dim per cell), the problem's initial cell averages into rho.
void fill_weights_and_data(const Problem& problem, const Cells& g, const DMDALocalInfo& info,
                           Vec w_global, Vec rho) {
  VecArray w(w_global), r(rho);
  const int dim = g.dim;
  std::size_t n = 0;
  for (PetscInt k = info.zs; k < info.zs + info.zm; ++k)
    for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
      for (PetscInt i = info.xs; i < info.xs + info.xm; ++i, ++n) {
        const PetscInt idx[3] = {i, j, k};
        double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
        for (int a = 0; a < dim; ++a)
          lo[a] = g.centre(a, idx[a]) - 0.5 * g.h[a], hi[a] = lo[a] + g.h[a];
        r[std::ptrdiff_t(n)] = problem.initial_cell_average(lo, hi);
        for (int a = 0; a < dim; ++a) {
          const kernels::LinearFlux lf = low_face_weights(problem, g, idx, a);
          w[std::ptrdiff_t(2 * dim * n + 2 * a)] = lf.alpha;
          w[std::ptrdiff_t(2 * dim * n + 2 * a + 1)] = lf.beta;
        }
      }
}

// `steps` TS forward Euler steps of dt from rho, stamping each step's end in ctx.step_times.
void forward_euler(MPI_Comm comm, DM da, int dim, Ctx& ctx, Vec rho, int steps, double dt) {
  TSH ts;
  FP_CHECK(TSCreate(comm, ts.out()));
  FP_CHECK(TSSetDM(ts, da));
  if (dim == 2)
    FP_CHECK(DMDATSSetRHSFunctionLocal(da, INSERT_VALUES, (DMDATSRHSFunctionLocal)rhs2d, &ctx));
  else
    FP_CHECK(DMDATSSetRHSFunctionLocal(da, INSERT_VALUES, (DMDATSRHSFunctionLocal)rhs3d, &ctx));
  FP_CHECK(TSSetType(ts, TSEULER));
  FP_CHECK(TSSetTimeStep(ts, dt));
  FP_CHECK(TSSetMaxSteps(ts, steps));
  FP_CHECK(TSSetMaxTime(ts, 1e300));
  FP_CHECK(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_STEPOVER));
  FP_CHECK(TSMonitorSet(ts, record_time, &ctx, nullptr));
  FP_CHECK(TSSolve(ts, rho));
}

}  // namespace

BaselineResult run_baseline(MPI_Comm comm, const Problem& problem, int dim, const Box& box,
                            const std::vector<PetscInt>& cells, int steps, double dt,
                            bool gather_final) {
  Ctx ctx;
  Cells g{dim, box};
  for (int a = 0; a < dim; ++a) {
    ctx.M[a] = cells[a];
    g.h[a] = (box.hi[a] - box.lo[a]) / double(ctx.M[a]);
  }
  const DMH da = create_dmda(comm, dim, ctx.M);
  DMH cdm;
  FP_CHECK(DMDACreateCompatibleDMDA(da, 2 * dim, cdm.out()));
  ctx.cdm = cdm;
  DMDALocalInfo info;
  FP_CHECK(DMDAGetLocalInfo(da, &info));

  VecH cglob, rho;
  FP_CHECK(DMCreateGlobalVector(cdm, cglob.out()));
  FP_CHECK(DMCreateLocalVector(cdm, &ctx.cloc));
  VecH cloc_owner(ctx.cloc);
  FP_CHECK(DMCreateGlobalVector(da, rho.out()));
  fill_weights_and_data(problem, g, info, cglob, rho);
  FP_CHECK(DMGlobalToLocalBegin(cdm, cglob, INSERT_VALUES, ctx.cloc));
  FP_CHECK(DMGlobalToLocalEnd(cdm, cglob, INSERT_VALUES, ctx.cloc));

  forward_euler(comm, da, dim, ctx, rho, steps, dt);

  BaselineResult res;
  res.step = step_times(ctx.step_times, 1);  // [s] = end of step s ([0]: before the first)
  PetscReal sum;
  FP_CHECK(VecSum(rho, &sum));
  res.mass_final = sum * g.h[0] * g.h[1] * g.h[2];
  if (gather_final) res.rho = gather_natural(da, rho);
  return res;
}

}  // namespace fpflow
