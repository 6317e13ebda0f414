// apps/bench.cpp — `fpflow bench`: measured performance of fpflow on this machine, at the rank
// count it is launched with (tools/bench.py runs it at 1 and 2 ranks and merges the tables).
//
// In one run: the STREAM-triad bandwidth; explicit Fokker-Planck throughput for OU (cheap,
// separable weights) and Gaussian-mixture Langevin (expensive, streamed weights) in 2-D and
// 3-D, with the bytes per cell update the fused kernel must move, the fraction of the
// bandwidth roofline reached and the speed-up over the PETSc-user baseline
// (apps/bench_baseline.hpp), whose final state is compared with fpflow's; implicit backward
// Euler + SG + geometric multigrid at four sizes (Krylov iterations, time per unknown); memory
// per cell (heap in use during the run); the cost of one VTK frame. Prints tables, writes bench.json.
#include "apps/bench.hpp"

#include "apps/bench_baseline.hpp"
#include "apps/driver.hpp"
#include "core/options.hpp"
#include "core/signals.hpp"
#include "io/output.hpp"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace fpflow {

namespace {

// Heap bytes in use by this process (glibc: arena + mmapped blocks): what a run allocates,
// whatever the allocator recycles from earlier runs.
double heap_bytes() {
  const struct mallinfo2 m = mallinfo2();
  return double(m.uordblks) + double(m.hblkhd);
}

double sum_over(MPI_Comm comm, double v) {
  double r = 0;
  MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, comm);
  return r;
}

// Bytes per second, from the best and from the median of the timed passes.
struct Bandwidth {
  double best = 0, median = 0;
};

// Runs pass(r) for r = 0..reps-1 on every rank at once; each pass's time is the slowest rank's.
// Bandwidth = bytes (all ranks) / time, for the best and the median pass.
template <class Pass>
Bandwidth timed_passes(MPI_Comm comm, int reps, double bytes, Pass&& pass) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    pass(r);
    double dt = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm);
    times.push_back(slowest);
  }
  std::sort(times.begin(), times.end());
  return {bytes / times.front(), bytes / times[times.size() / 2]};
}

// STREAM triad a = b + s c on every rank at once; bandwidth counts 24 bytes per element (the
// STREAM convention: no write-allocate traffic); the best and the median of `reps`.
Bandwidth stream_triad(MPI_Comm comm, std::size_t n, int reps) {
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  const double bytes = double(comm_size(comm)) * 24.0 * double(n);
  const Bandwidth bw = timed_passes(comm, reps, bytes, [&](int r) {
    double* __restrict__ pa = a.data();
    const double* __restrict__ pb = b.data();
    const double* __restrict__ pc = c.data();
    const double s = 3.0 + r;
    for (std::size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
  });
  if (a[n / 2] != 1.0 + (2 + reps) * 2.0) throw Error("stream triad: wrong result");
  return bw;
}

// The kernel's own traffic pattern as a stream: out[i] = s (in_1[i] + ... + in_K[i]) over
// arrays of the case's size per rank, bandwidth counted as 8 (K + 1) bytes per element like the
// case's bytes per update (K = 1 for the separable cases, 1 + 2 dim for the streamed ones). The
// triad's 2 reads and 1 write understate what a read-dominated kernel can get; this is the
// bandwidth of exactly the mix the kernel moves, without its stencil. Best and median of `reps`.
template <int K>
Bandwidth matched_stream_k(MPI_Comm comm, std::size_t n, int reps) {
  std::vector<std::vector<double>> in(K, std::vector<double>(n, 1.0));
  std::vector<double> out(n, 0.0);
  const double* p[K];
  for (int q = 0; q < K; ++q) p[q] = in[q].data();
  const double bytes = double(comm_size(comm)) * 8.0 * (K + 1) * double(n);
  const Bandwidth bw = timed_passes(comm, reps, bytes, [&](int r) {
    double* __restrict__ o = out.data();
    const double s = 1.0 + r;
    for (std::size_t i = 0; i < n; ++i) {
      double acc = 0;
      for (int q = 0; q < K; ++q) acc += p[q][i];
      o[i] = s * acc;
    }
  });
  if (out[n / 2] != double(reps) * K) throw Error("matched stream: wrong result");
  return bw;
}

Bandwidth matched_stream(MPI_Comm comm, std::size_t n, int read_streams, int reps) {
  switch (read_streams) {
    case 1: return matched_stream_k<1>(comm, n, reps);
    case 3: return matched_stream_k<3>(comm, n, reps);
    case 5: return matched_stream_k<5>(comm, n, reps);
    case 7: return matched_stream_k<7>(comm, n, reps);
    default: throw Error("bench: no matched stream for " + std::to_string(read_streams) + " reads");
  }
}

std::string grid_args(int dim, PetscInt n) {
  std::string s = " -dim " + std::to_string(dim);
  const char* ax[3] = {"x", "y", "z"};
  for (int a = 0; a < dim; ++a) s += std::string(" -da_grid_") + ax[a] + " " + std::to_string(n);
  return s;
}

// A Simulation run with step timestamps: t[s] = wall time when step s was accepted.
struct TimedRun {
  nlohmann::json summary;
  std::vector<double> t;
  double setup_seconds = 0, memory_bytes = 0;
  StepTimes per_step(std::size_t first) const { return step_times(t, first); }
};

}  // namespace

int run_bench(MPI_Comm comm) {
  const bool root = comm_rank(comm) == 0;
  const int ranks = comm_size(comm);
  std::string out;
  bool quick = false, do_baseline = true, do_implicit = true, do_frame = true;
  PetscInt steps = 100, isteps = 4;
  std::vector<PetscInt> sizes2, isizes;
  PetscInt size3 = 160;
  {
    OptionsBlock opt(comm, nullptr, "fpflow bench: performance measurement");
    out = opt.string("-output", "Directory for bench.json (and scratch runs)", "bench-out");
    quick = opt.flag("-quick", "Small sizes (a smoke run for CI; the numbers mean little)", false);
    steps = opt.integer("-steps", "Explicit steps timed per case", quick ? 20 : 100, 3, PETSC_MAX_INT);
    isteps = opt.integer("-implicit_steps", "Backward-Euler steps per implicit size", 4, 1,
                         PETSC_MAX_INT);
    do_baseline = opt.flag("-baseline", "Run the PETSc-user baseline", true);
    do_implicit = opt.flag("-implicit", "Run the implicit multigrid sizes", true);
    do_frame = opt.flag("-frame", "Time one VTK frame", true);
    sizes2 = {opt.integer("-explicit_size", "2-D explicit size (cells per axis)", quick ? 256 : 2048,
                          8, PETSC_MAX_INT)};
    size3 = opt.integer("-explicit_size_3d", "3-D explicit size (cells per axis)", quick ? 32 : 160,
                        8, PETSC_MAX_INT);
    const std::vector<double> is = opt.reals(
        "-implicit_sizes", "Implicit 2-D sizes (cells per axis)",
        quick ? std::vector<double>{32, 64, 128, 256} : std::vector<double>{256, 512, 1024, 2048}, 8);
    for (double v : is) {
      if (!(v >= 8) || v != std::floor(v))
        throw Error("-implicit_sizes takes whole cell counts >= 8 per axis, got " + std::to_string(v));
      isizes.push_back(PetscInt(v));
    }
  }
  if (option_given("-help")) return 0;
  // Every option has been read: a misspelt one fails before any measurement.
  check_unused_options(comm, false);
  // The lock, and an earlier run's bench.json gone (io/output.hpp).
  const OutputLock lock = prepare_output_dir(comm, out, OutputKind::bench);
  const std::string scratch = out + "/runs";
  const std::string quiet = " -vtk 0 -progress_seconds -1 -output " + scratch;
  nlohmann::json j;
  j["ranks"] = ranks;
  j["quick"] = quick;

  // 1. Bandwidth: arrays far beyond the last-level cache (3 x 128 MiB per rank). A VM's
  // bandwidth drifts with its neighbours' load over minutes, so each explicit case measures it
  // again just before it runs and compares like with like (medians of both).
  const std::size_t stream_n = quick ? (std::size_t(1) << 22) : (std::size_t(1) << 24);
  const int stream_reps = quick ? 3 : 10;
  const Bandwidth bw = stream_triad(comm, stream_n, stream_reps);
  j["stream_triad_bytes_per_second"] = bw.best;
  j["stream_triad_median_bytes_per_second"] = bw.median;
  if (root)
    std::printf("STREAM triad (%d rank%s): best %.2f GB/s, median %.2f GB/s\n\n", ranks,
                ranks > 1 ? "s" : "", bw.best / 1e9, bw.median / 1e9);

  auto timed = [&](const std::string& args, auto&& after_run) {
    TimedRun r;
    ScopedOptions opts(args + quiet);
    const double rss0 = heap_bytes(), w0 = MPI_Wtime();
    Simulation sim(comm);
    r.setup_seconds = MPI_Wtime() - w0;
    sim.on_step([&](PetscInt step, double, Vec) {
      if (std::size_t(step) == r.t.size()) r.t.push_back(MPI_Wtime());
    });
    r.summary = sim.run().to_json();
    r.memory_bytes = sum_over(comm, heap_bytes() - rss0);
    after_run(sim);
    return r;
  };

  // 2. Explicit throughput, fused fpflow against the baseline.
  struct Case {
    std::string problem;
    int dim;
    PetscInt n;
  };
  const std::vector<Case> cases = {{"ou", 2, sizes2[0]}, {"langevin-gmm", 2, sizes2[0]},
                                   {"ou", 3, size3}, {"langevin-gmm", 3, size3}};
  if (root)
    std::printf("%-14s %3s %11s %12s %9s %9s %8s %12s %8s %10s %9s\n", "explicit", "dim", "cells",
                "updates/s", "B/update", "roofline", "matched", "baseline/s", "speedup",
                "agreement", "B/cell");
  for (const Case& c : cases) {
    if (stop_requested(comm)) throw Interrupted("bench stopped before the " + c.problem + " " + std::to_string(c.dim) + "-D case");
    const std::string args = "-problem " + c.problem + grid_args(c.dim, c.n) +
                             " -ts_type euler -fp_scheme sg -ts_max_steps " + std::to_string(steps);
    const Bandwidth here = stream_triad(comm, stream_n, stream_reps);
    double bytes = 0, dt = 0;
    std::string weights;
    std::vector<double> fp_final;
    std::unique_ptr<Problem> problem;
    Box box;
    TimedRun r = timed(args, [&](Simulation& sim) {
      const LinearStencil* st = sim.op().linear_stencil();
      if (!st) throw Error("bench: no fused path for " + c.problem);
      // Separable only if every rank is (a streamed rank moves more bytes per update).
      const double mine = st->bytes_per_cell_update();
      MPI_Allreduce(&mine, &bytes, 1, MPI_DOUBLE, MPI_MAX, comm);
      weights = bytes == 16.0 ? "separable (cached)" : "streamed";
      box = sim.grid().box();
      // fpflow's final state in natural order on rank 0, to check the baseline against.
      if (do_baseline) fp_final = gather_natural(sim.grid().dm(), sim.solution());
    });
    dt = r.summary["dt_initial"].get<double>();
    if (!r.summary.value("fused_euler", false)) throw Error("bench: fpflow did not use fpeuler");
    const double cells = std::pow(double(c.n), c.dim);
    // The same traffic as a plain stream, right after the case (its arrays are freed by now).
    const Bandwidth matched = matched_stream(
        comm, std::size_t(cells / comm_size(comm)), int(std::lround(bytes / 8)) - 1, stream_reps);
    // Rates from the median step; the roofline against the median bandwidth measured just
    // before the case. The mean step against the run's best STREAM (the stricter reading, and
    // the one a quiet machine gives too) is kept as roofline_fraction_best_stream.
    const StepTimes sec = r.per_step(1);
    const double rate = cells / sec.median;
    nlohmann::json e = {{"problem", c.problem}, {"dim", c.dim}, {"cells", cells},
                        {"steps_timed", steps - 1}, {"seconds_per_step", sec.median},
                        {"seconds_per_step_mean", sec.mean},
                        {"cell_updates_per_second", rate}, {"bytes_per_cell_update", bytes},
                        {"weights", weights},
                        {"stream_triad_bytes_per_second", here.median},
                        {"roofline_fraction", rate * bytes / here.median},
                        {"roofline_fraction_best_stream", cells / sec.mean * bytes / bw.best},
                        {"matched_stream_bytes_per_second", matched.median},
                        {"roofline_fraction_matched_stream", rate * bytes / matched.median},
                        {"setup_seconds", r.setup_seconds},
                        {"memory_bytes_per_cell", r.memory_bytes / cells}};
    if (do_baseline) {
      problem = make_problem(c.problem);
      {
        ScopedOptions none("");
        problem->configure(comm, c.dim);
      }
      std::vector<PetscInt> cells_v(c.dim, c.n);
      const BaselineResult b = run_baseline(comm, *problem, c.dim, box, cells_v, steps, dt, true);
      const double brate = cells / b.step.median;
      // Same data, same SG weights except where fpflow's gradient-form faces (potential
      // differences, langevin-gmm) differ from the drift at the face: O(h^2) apart there.
      double diff = 0, top = 0;
      if (root)
        for (std::size_t i = 0; i < fp_final.size(); ++i) {
          diff = std::max(diff, std::fabs(fp_final[i] - b.rho[i]));
          top = std::max(top, std::fabs(fp_final[i]));
        }
      double agree = top > 0 ? diff / top : 0;
      MPI_Bcast(&agree, 1, MPI_DOUBLE, 0, comm);
      e["baseline"] = {{"cell_updates_per_second", brate},
                       {"seconds_per_step", b.step.median},
                       {"seconds_per_step_mean", b.step.mean},
                       {"max_relative_difference", agree}};
      e["speedup_vs_baseline"] = rate / brate;
    }
    if (root)
      std::printf("%-14s %3d %11.0f %12.3e %9.0f %8.0f%% %7.0f%% %12.3e %7.2fx %10.1e %9.0f\n",
                  c.problem.c_str(), c.dim, cells, rate, bytes, 100 * rate * bytes / here.median,
                  100 * rate * bytes / matched.median,
                  e.contains("baseline") ? e["baseline"]["cell_updates_per_second"].get<double>() : 0.0,
                  e.value("speedup_vs_baseline", 0.0),
                  e.contains("baseline") ? e["baseline"]["max_relative_difference"].get<double>() : 0.0,
                  r.memory_bytes / cells);
    j["explicit"].push_back(e);
  }

  // 3. Implicit backward Euler + SG + geometric multigrid (fpflow's -pc_type mg defaults).
  if (do_implicit) {
    if (root)
      std::printf("\n%-10s %12s %14s %14s %12s %12s %9s\n", "implicit", "unknowns", "KSP it/step",
                  "s/unknown", "step s", "1st step s", "B/cell");
    for (PetscInt n : isizes) {
      if (stop_requested(comm)) throw Interrupted("bench stopped before the implicit sizes");
      const std::string args = "-problem ou" + grid_args(2, n) +
                               " -ts_type beuler -pc_type mg -ts_dt 0.01 -ts_max_steps " +
                               std::to_string(isteps);
      TimedRun r = timed(args, [](Simulation&) {});
      const double unknowns = double(n) * double(n);
      const double sec = r.per_step(1).mean;  // only a few steps: the mean
      nlohmann::json e = {{"cells_per_axis", n}, {"unknowns", unknowns},
                          {"mg_iterations", r.summary["linear_iterations_per_step"]},
                          {"seconds_per_step", sec}, {"seconds_per_unknown", sec / unknowns},
                          {"first_step_seconds", r.t.size() > 1 ? r.t[1] - r.t[0] : 0.0},
                          {"setup_seconds", r.setup_seconds},
                          {"memory_bytes_per_cell", r.memory_bytes / unknowns}};
      if (root)
        std::printf("%-10s %12.0f %14.2f %14.3e %12.3e %12.3e %9.0f\n",
                    (std::to_string(n) + "^2").c_str(), unknowns,
                    e["mg_iterations"].get<double>(), sec / unknowns, sec,
                    e["first_step_seconds"].get<double>(), r.memory_bytes / unknowns);
      j["implicit"].push_back(e);
    }
  }

  // 4. One VTK frame of a 2-D OU state (density, drift, current and the flow fields).
  if (do_frame) {
    if (stop_requested(comm)) throw Interrupted("bench stopped before the VTK frame");
    const PetscInt n = sizes2[0];
    const std::string dir = out + "/frame";
    ScopedOptions opts("-problem ou" + grid_args(2, n) +
                       " -ts_type euler -fp_scheme sg -progress_seconds -1 -output " + dir);
    Simulation sim(comm);
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    sim.write_frame(0.0, sim.solution());
    MPI_Barrier(comm);
    const double sec = MPI_Wtime() - t0;
    double bytes = 0;
    if (root)
      for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
        if (f.is_regular_file() && f.path().extension() != ".json" && f.path().extension() != ".txt")
          bytes += double(f.file_size());
    MPI_Bcast(&bytes, 1, MPI_DOUBLE, 0, comm);
    j["output_frame"] = {{"cells", double(n) * n}, {"seconds", sec}, {"bytes", bytes},
                         {"bytes_per_second", bytes / sec}};
    if (root)
      std::printf("\nVTK frame %lldx%lld: %.3f s, %.1f MB (%.0f MB/s)\n", (long long)n,
                  (long long)n, sec, bytes / 1e6, bytes / sec / 1e6);
  }

  std::string err;
  if (root) {
    try {
      write_file_atomic(out + "/bench.json", j.dump(2) + "\n");
      std::printf("\nfpflow bench: %s/bench.json\n", out.c_str());
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm, err);
  return 0;
}

}  // namespace fpflow
