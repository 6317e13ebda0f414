// apps/bench_baseline.hpp — the explicit Fokker-Planck step written the way a PETSc user would:
// the baseline `fpflow bench` measures fpflow's fused explicit path against.
//
// A DMDA, a local RHS function (DMDATSSetRHSFunctionLocal) that loops over the owned cells and
// evaluates the Scharfetter-Gummel flux through each of the cell's faces, TS forward Euler
// (TSEULER), nothing assembled. To be fair to it, the expensive part is done once, as a careful
// user would: the SG weights of every face (two exponentials each) are computed at set-up from
// the problem's drift and diffusion and kept in a ghosted DMDA vector with 2 dim components per
// cell; the RHS reads them, it does not re-evaluate b, a or exponentials per step.
#pragma once

#include "problems/problem.hpp"

#include <vector>

namespace fpflow {

// Per-step wall times from end-of-step stamps (t[s] = end of step s, t[0] = before step 1),
// over steps first+1 .. last: the mean, and the median, which a shared machine's bursts of
// other tenants' traffic do not move.
struct StepTimes {
  double mean = 0, median = 0;
};
StepTimes step_times(const std::vector<double>& t, std::size_t first);

struct BaselineResult {
  StepTimes step;  // steps 2..n (the first includes PETSc's lazy set-up)
  double mass_final = 0;
  std::vector<double> rho;  // the final state, natural order, on rank 0 only (if asked)
};

// Reflecting walls, `cells` per axis (dim entries), `steps` forward Euler steps of size dt from
// the problem's initial cell averages (the same data fpflow starts from).
BaselineResult run_baseline(MPI_Comm comm, const Problem& problem, int dim, const Box& box,
                            const std::vector<PetscInt>& cells, int steps, double dt,
                            bool gather_final);

}  // namespace fpflow
