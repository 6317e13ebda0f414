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

}  // namespace

BaselineResult run_baseline(MPI_Comm comm, const Problem& problem, int dim, const Box& box,
                            const std::vector<PetscInt>& cells, int steps, double dt,
                            bool gather_final) {
  Ctx ctx;
  for (int a = 0; a < dim; ++a) ctx.M[a] = cells[a];
  DMH da, cdm;
  if (dim == 2)
    FP_CHECK(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, ctx.M[0],
                          ctx.M[1], PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, da.out()));
  else if (dim == 3)
    FP_CHECK(DMDACreate3d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                          DMDA_STENCIL_STAR, ctx.M[0], ctx.M[1], ctx.M[2], PETSC_DECIDE,
                          PETSC_DECIDE, PETSC_DECIDE, 1, 1, nullptr, nullptr, nullptr, da.out()));
  else
    throw Error("the baseline is 2-D or 3-D");
  FP_CHECK(DMSetUp(da));
  FP_CHECK(DMDACreateCompatibleDMDA(da, 2 * dim, cdm.out()));
  ctx.cdm = cdm;

  double h[3] = {1, 1, 1};
  for (int a = 0; a < dim; ++a) h[a] = (box.hi[a] - box.lo[a]) / double(ctx.M[a]);
  DMDALocalInfo info;
  FP_CHECK(DMDAGetLocalInfo(da, &info));
  auto centre = [&](int a, PetscInt i) { return box.lo[a] + (double(i) + 0.5) * h[a]; };

  // Set-up, once: SG weights of each cell's low faces from b and a at the face (the Ito term
  // -1/2 d_a a_aa by a central difference of the centres either side), and the initial data.
  VecH cglob, rho;
  FP_CHECK(DMCreateGlobalVector(cdm, cglob.out()));
  FP_CHECK(DMCreateLocalVector(cdm, &ctx.cloc));
  VecH cloc_owner(ctx.cloc);
  FP_CHECK(DMCreateGlobalVector(da, rho.out()));
  {
    VecArray w(cglob), r(rho);
    std::size_t n = 0;
    for (PetscInt k = info.zs; k < info.zs + info.zm; ++k)
      for (PetscInt j = info.ys; j < info.ys + info.ym; ++j)
        for (PetscInt i = info.xs; i < info.xs + info.xm; ++i, ++n) {
          const PetscInt idx[3] = {i, j, k};
          double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
          for (int a = 0; a < dim; ++a) lo[a] = centre(a, idx[a]) - 0.5 * h[a], hi[a] = lo[a] + h[a];
          r[std::ptrdiff_t(n)] = problem.initial_cell_average(lo, hi);
          for (int a = 0; a < dim; ++a) {
            double xf[3] = {0, 0, 0}, b[3], af[9], ak[9], al[9];
            for (int d = 0; d < dim; ++d) xf[d] = centre(d, idx[d]);
            xf[a] = box.lo[a] + double(idx[a]) * h[a];
            double xk[3] = {xf[0], xf[1], xf[2]}, xl[3] = {xf[0], xf[1], xf[2]};
            xk[a] -= 0.5 * h[a];
            xl[a] += 0.5 * h[a];
            problem.drift(xf, 0.0, b);
            problem.diffusion(xf, 0.0, af);
            problem.diffusion(xk, 0.0, ak);
            problem.diffusion(xl, 0.0, al);
            const kernels::FaceCoef fc{b[a] - 0.5 * (al[4 * a] - ak[4 * a]) / h[a], 0.5 * af[4 * a]};
            const kernels::LinearFlux lf = kernels::scharfetter_gummel(fc, h[a]);
            w[std::ptrdiff_t(2 * dim * n + 2 * a)] = lf.alpha / h[a];
            w[std::ptrdiff_t(2 * dim * n + 2 * a + 1)] = lf.beta / h[a];
          }
        }
  }
  FP_CHECK(DMGlobalToLocalBegin(cdm, cglob, INSERT_VALUES, ctx.cloc));
  FP_CHECK(DMGlobalToLocalEnd(cdm, cglob, INSERT_VALUES, ctx.cloc));

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

  BaselineResult res;
  const auto& st = ctx.step_times;  // st[s] = end of step s (st[0]: before the first step)
  res.step = step_times(st, 1);
  PetscReal sum;
  FP_CHECK(VecSum(rho, &sum));
  res.mass_final = sum * h[0] * h[1] * h[2];
  if (gather_final) res.rho = gather_natural(da, rho);
  return res;
}

}  // namespace fpflow
