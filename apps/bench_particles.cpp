// apps/bench_particles.cpp — particle-engine throughput: particle steps per second per core.
//
// For each benchmark case, N particles (split over the ranks) take S steps of a built-in problem
// and the stepping loop alone is timed (barrier before and after; sampling excluded). Prints one
// table row per case: problem, dimension, stepper, N, S, seconds, particle steps/s in total and
// per rank. tools/bench_particles.sh runs it at 1 and 2 ranks; docs/BENCHMARKS.md records the
// measured numbers.
//   mpiexec -n 2 fpflow-bench-particles -n 1000000 -steps 20
#include "core/options.hpp"
#include "problems/problem.hpp"
#include "verification/particles.hpp"

#include <cstdio>
#include <string>

using namespace fpflow;

namespace {

struct Bench {
  const char* problem;
  int dim;
  const char* stepper;  // "em" or "exact"
  const char* args;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    Session session(&argc, &argv, "fpflow-bench-particles: particle steps per second per core\n");
    const MPI_Comm comm = PETSC_COMM_WORLD;
    double n = 1e6;
    PetscInt steps = 20;
    {
      OptionsBlock opt(comm, nullptr, "particle benchmark");
      n = double(opt.integer("-n", "Particles (total over the ranks)", 1000000));
      steps = opt.integer("-steps", "Steps per case", 20);
    }
    register_builtin_problems();
    const Bench benches[] = {
        {"ou", 1, "em", ""},
        {"ou", 1, "exact", ""},
        {"ou", 2, "em", "-ou_B 1,0.5,-0.5,1 -ou_G 1,0,0.5,0.8"},
        {"ou", 2, "exact", "-ou_B 1,0.5,-0.5,1 -ou_G 1,0,0.5,0.8"},
        {"langevin-gmm", 2, "em", ""},
        {"langevin-gmm", 1, "em", ""},
    };
    const int ranks = comm_size(comm);
    if (comm_rank(comm) == 0)
      std::printf("%-14s %3s %-6s %10s %6s %9s %14s %16s\n", "problem", "dim", "step", "N", "steps",
                  "seconds", "steps/s total", "steps/s per core");
    for (const auto& b : benches) {
      ScopedOptions opts(b.args);
      auto pb = make_problem(b.problem);
      pb->configure(comm, b.dim);
      Ensemble e(comm, b.dim, std::uint64_t(n), 7);
      e.sample_mixture(pb->initial_mixture());
      LinearSDE sde;
      const bool exact = std::string(b.stepper) == "exact" && pb->linear_sde(&sde);
      const double dt = 1e-3;
      MPI_Barrier(comm);
      const double t0 = MPI_Wtime();
      for (PetscInt k = 0; k < steps; ++k) {
        if (exact) e.step_linear_exact(sde, k * dt, dt, std::uint32_t(k));
        else e.step_euler_maruyama(*pb, k * dt, dt, std::uint32_t(k));
      }
      MPI_Barrier(comm);
      const double t = MPI_Wtime() - t0, rate = n * double(steps) / t;
      if (comm_rank(comm) == 0)
        std::printf("%-14s %3d %-6s %10.0f %6d %9.3f %14.3e %16.3e\n", b.problem, b.dim, b.stepper,
                    n, int(steps), t, rate, rate / ranks);
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "fpflow-bench-particles: error: %s\n", ex.what());
    return 1;
  }
  return 0;
}
