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
#include <functional>
#include <memory>
#include <optional>

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

// What `fpflow bench` was asked to measure: every option, read once (read_settings).
struct BenchSettings {
  std::string out;  // bench.json, and the scratch runs under out/runs
  bool quick = false, baseline = true, implicit = true, frame = true;
  PetscInt steps = 100, implicit_steps = 4;  // explicit steps per case, BE steps per size
  PetscInt size2 = 2048, size3 = 160;        // explicit cells per axis, 2-D and 3-D
  std::vector<PetscInt> implicit_sizes;      // 2-D cells per axis
  // STREAM arrays far beyond the last-level cache (3 x 128 MiB per rank; 3 x 32 MiB when quick).
  std::size_t stream_n() const { return std::size_t(1) << (quick ? 22 : 24); }
  int stream_reps() const { return quick ? 3 : 10; }
  // Scratch runs write no frames and print no progress.
  std::string quiet_args() const {
    return " -vtk 0 -progress_seconds -1 -output " + out + "/runs";
  }
};

// The -implicit_sizes entries as cell counts: whole numbers >= 8.
std::vector<PetscInt> cell_counts(const std::vector<double>& sizes) {
  std::vector<PetscInt> r;
  for (double v : sizes) {
    if (!(v >= 8) || v != std::floor(v))
      throw Error("-implicit_sizes takes whole cell counts >= 8 per axis, got " +
                  std::to_string(v));
    r.push_back(PetscInt(v));
  }
  return r;
}

// In this order for -help; -quick only changes the defaults of the others.
BenchSettings read_settings(MPI_Comm comm) {
  BenchSettings s;
  OptionsBlock opt(comm, nullptr, "fpflow bench: performance measurement");
  s.out = opt.string("-output", "Directory for bench.json (and scratch runs)", "bench-out");
  s.quick = opt.flag("-quick", "Small sizes (a smoke run for CI; the numbers mean little)", false);
  s.steps =
      opt.integer("-steps", "Explicit steps timed per case", s.quick ? 20 : 100, 3, PETSC_MAX_INT);
  s.implicit_steps = opt.integer("-implicit_steps", "Backward-Euler steps per implicit size", 4, 1,
                                 PETSC_MAX_INT);
  s.baseline = opt.flag("-baseline", "Run the PETSc-user baseline", true);
  s.implicit = opt.flag("-implicit", "Run the implicit multigrid sizes", true);
  s.frame = opt.flag("-frame", "Time one VTK frame", true);
  s.size2 = opt.integer("-explicit_size", "2-D explicit size (cells per axis)",
                        s.quick ? 256 : 2048, 8, PETSC_MAX_INT);
  s.size3 = opt.integer("-explicit_size_3d", "3-D explicit size (cells per axis)",
                        s.quick ? 32 : 160, 8, PETSC_MAX_INT);
  s.implicit_sizes = cell_counts(opt.reals(
      "-implicit_sizes", "Implicit 2-D sizes (cells per axis)",
      s.quick ? std::vector<double>{32, 64, 128, 256} : std::vector<double>{256, 512, 1024, 2048},
      8));
  return s;
}

// What every measurement needs: where it runs, what was asked, the run's first STREAM triad.
struct Bench {
  MPI_Comm comm;
  bool root;
  BenchSettings set;
  Bandwidth triad;
};

// A VM's bandwidth drifts with its neighbours' load over minutes, so each explicit case
// measures it again just before it runs and compares like with like (medians of both); this
// first one goes in bench.json's header.
Bandwidth first_triad(MPI_Comm comm, const BenchSettings& set, nlohmann::json& j) {
  const Bandwidth bw = stream_triad(comm, set.stream_n(), set.stream_reps());
  j["stream_triad_bytes_per_second"] = bw.best;
  j["stream_triad_median_bytes_per_second"] = bw.median;
  const int ranks = comm_size(comm);
  if (comm_rank(comm) == 0)
    std::printf("STREAM triad (%d rank%s): best %.2f GB/s, median %.2f GB/s\n\n", ranks,
                ranks > 1 ? "s" : "", bw.best / 1e9, bw.median / 1e9);
  return bw;
}

// A Simulation run with step timestamps: t[s] = wall time when step s was accepted.
struct TimedRun {
  RunSummary summary;
  std::vector<double> t;
  double setup_seconds = 0, memory_bytes = 0;
  StepTimes per_step(std::size_t first) const { return step_times(t, first); }
  // The stepping report (every bench run is a time run).
  const StepsReport& steps() const {
    if (!summary.steps) throw Error("bench: a timed run reported no steps");
    return *summary.steps;
  }
};

// Runs fpflow with `args` (quietly), timing set-up and every step and counting the heap it
// keeps; after_run (if any) inspects the Simulation before it is destroyed.
TimedRun timed_run(const Bench& b, const std::string& args,
                   const std::function<void(Simulation&)>& after_run) {
  TimedRun r;
  ScopedOptions opts(args + b.set.quiet_args());
  const double rss0 = heap_bytes(), w0 = MPI_Wtime();
  Simulation sim(b.comm);
  r.setup_seconds = MPI_Wtime() - w0;
  sim.on_step([&](PetscInt step, double, Vec) {
    if (std::size_t(step) == r.t.size()) r.t.push_back(MPI_Wtime());
  });
  r.summary = sim.run();
  r.memory_bytes = sum_over(b.comm, heap_bytes() - rss0);
  if (after_run) after_run(sim);
  return r;
}

// One explicit case: a problem at a dimension and size.
struct Case {
  std::string problem;
  int dim = 2;
  PetscInt n = 0;
  double cells() const { return std::pow(double(n), dim); }
};

// fpflow's side of an explicit case: the timed run and what its fused kernel moves.
struct FpflowCase {
  TimedRun run;
  double bytes = 0;  // per cell update, the largest over the ranks
  std::string weights;
  Box box;
  std::vector<double> final_state;  // natural order on rank 0, when the baseline runs
};

FpflowCase fpflow_case(const Bench& b, const Case& c) {
  FpflowCase f;
  const std::string args = "-problem " + c.problem + grid_args(c.dim, c.n) +
                           " -ts_type euler -fp_scheme sg -ts_max_steps " +
                           std::to_string(b.set.steps);
  f.run = timed_run(b, args, [&](Simulation& sim) {
    const LinearStencil* st = sim.op().linear_stencil();
    if (!st) throw Error("bench: no fused path for " + c.problem);
    // Separable only if every rank is (a streamed rank moves more bytes per update).
    const double mine = st->bytes_per_cell_update();
    MPI_Allreduce(&mine, &f.bytes, 1, MPI_DOUBLE, MPI_MAX, b.comm);
    f.weights = f.bytes == 16.0 ? "separable (cached)" : "streamed";
    f.box = sim.grid().box();
    // To check the baseline against.
    if (b.set.baseline) f.final_state = gather_natural(sim.grid().dm(), sim.solution());
  });
  if (!f.run.steps().fused) throw Error("bench: fpflow did not use fpeuler");
  return f;
}

// The baseline's side of an explicit case, and how far its final state is from fpflow's.
struct BaselineCase {
  double rate = 0;  // cell updates per second, from the median step
  StepTimes step;
  double agreement = 0;  // max |fpflow - baseline| / max |fpflow|
};

// Same data and time step as fpflow's run; same SG weights except where fpflow's
// gradient-form faces (potential differences, langevin-gmm) differ from the drift at the face:
// O(h^2) apart there.
BaselineCase baseline_case(const Bench& b, const Case& c, const FpflowCase& f) {
  const std::unique_ptr<Problem> problem = make_problem(c.problem);
  {
    ScopedOptions none("");
    problem->configure(b.comm, c.dim);
  }
  const std::vector<PetscInt> cells(c.dim, c.n);
  const BaselineResult base = run_baseline(b.comm, *problem, c.dim, f.box, cells, b.set.steps,
                                           f.run.steps().dt_initial, true);
  BaselineCase r{c.cells() / base.step.median, base.step, 0};
  double diff = 0, top = 0;
  if (b.root)
    for (std::size_t i = 0; i < f.final_state.size(); ++i) {
      diff = std::max(diff, std::fabs(f.final_state[i] - base.rho[i]));
      top = std::max(top, std::fabs(f.final_state[i]));
    }
  r.agreement = top > 0 ? diff / top : 0;
  MPI_Bcast(&r.agreement, 1, MPI_DOUBLE, 0, b.comm);
  return r;
}

void print_explicit_header() {
  std::printf("%-14s %3s %11s %12s %9s %9s %8s %12s %8s %10s %9s\n", "explicit", "dim", "cells",
              "updates/s", "B/update", "roofline", "matched", "baseline/s", "speedup",
              "agreement", "B/cell");
}

// What one explicit case measured. Rates from the median step; the roofline against the median
// bandwidth measured just before the case. The mean step against the run's best STREAM (the
// stricter reading, and the one a quiet machine gives too) is kept as
// roofline_fraction_best_stream.
struct ExplicitResult {
  Case c;
  FpflowCase f;
  Bandwidth here, matched;  // STREAM triad just before, matched stream just after
  StepTimes sec;
  std::optional<BaselineCase> base;
  double rate() const { return c.cells() / sec.median; }
};

ExplicitResult explicit_case(const Bench& b, const Case& c) {
  if (stop_requested(b.comm))
    throw Interrupted("bench stopped before the " + c.problem + " " + std::to_string(c.dim) +
                      "-D case");
  ExplicitResult r;
  r.c = c;
  r.here = stream_triad(b.comm, b.set.stream_n(), b.set.stream_reps());
  r.f = fpflow_case(b, c);
  // The same traffic as a plain stream, right after the case (its arrays are freed by now).
  r.matched = matched_stream(b.comm, std::size_t(c.cells() / comm_size(b.comm)),
                             int(std::lround(r.f.bytes / 8)) - 1, b.set.stream_reps());
  r.sec = r.f.run.per_step(1);
  if (b.set.baseline) r.base = baseline_case(b, c, r.f);
  return r;
}

nlohmann::json explicit_entry(const Bench& b, const ExplicitResult& r) {
  const double cells = r.c.cells(), rate = r.rate(), bytes = r.f.bytes;
  nlohmann::json e = {{"problem", r.c.problem}, {"dim", r.c.dim}, {"cells", cells},
                      {"steps_timed", b.set.steps - 1}, {"seconds_per_step", r.sec.median},
                      {"seconds_per_step_mean", r.sec.mean},
                      {"cell_updates_per_second", rate}, {"bytes_per_cell_update", bytes},
                      {"weights", r.f.weights},
                      {"stream_triad_bytes_per_second", r.here.median},
                      {"roofline_fraction", rate * bytes / r.here.median},
                      {"roofline_fraction_best_stream", cells / r.sec.mean * bytes / b.triad.best},
                      {"matched_stream_bytes_per_second", r.matched.median},
                      {"roofline_fraction_matched_stream", rate * bytes / r.matched.median},
                      {"setup_seconds", r.f.run.setup_seconds},
                      {"memory_bytes_per_cell", r.f.run.memory_bytes / cells}};
  if (r.base) {
    e["baseline"] = {{"cell_updates_per_second", r.base->rate},
                     {"seconds_per_step", r.base->step.median},
                     {"seconds_per_step_mean", r.base->step.mean},
                     {"max_relative_difference", r.base->agreement}};
    e["speedup_vs_baseline"] = rate / r.base->rate;
  }
  return e;
}

// The baseline's columns are zeros when it did not run.
void print_explicit_row(const ExplicitResult& r) {
  const double cells = r.c.cells(), rate = r.rate(), bytes = r.f.bytes;
  const BaselineCase base = r.base.value_or(BaselineCase{});
  std::printf("%-14s %3d %11.0f %12.3e %9.0f %8.0f%% %7.0f%% %12.3e %7.2fx %10.1e %9.0f\n",
              r.c.problem.c_str(), r.c.dim, cells, rate, bytes, 100 * rate * bytes / r.here.median,
              100 * rate * bytes / r.matched.median, base.rate, r.base ? rate / base.rate : 0.0,
              base.agreement, r.f.run.memory_bytes / cells);
}

// OU (cheap, separable weights) and Gaussian-mixture Langevin (expensive, streamed weights),
// 2-D and 3-D.
nlohmann::json explicit_cases(const Bench& b) {
  const std::vector<Case> cases = {{"ou", 2, b.set.size2}, {"langevin-gmm", 2, b.set.size2},
                                   {"ou", 3, b.set.size3}, {"langevin-gmm", 3, b.set.size3}};
  if (b.root) print_explicit_header();
  nlohmann::json all;
  for (const Case& c : cases) {
    const ExplicitResult r = explicit_case(b, c);
    if (b.root) print_explicit_row(r);
    all.push_back(explicit_entry(b, r));
  }
  return all;
}

// Backward Euler + SG + geometric multigrid (fpflow's -pc_type mg defaults) on 2-D OU, n^2 cells.
nlohmann::json implicit_size(const Bench& b, PetscInt n) {
  if (stop_requested(b.comm)) throw Interrupted("bench stopped before the implicit sizes");
  const std::string args = "-problem ou" + grid_args(2, n) +
                           " -ts_type beuler -pc_type mg -ts_dt 0.01 -ts_max_steps " +
                           std::to_string(b.set.implicit_steps);
  const TimedRun r = timed_run(b, args, nullptr);
  const StepsReport& s = r.steps();
  const double iterations = s.steps > 0 ? double(s.linear_iterations) / double(s.steps) : 0.0;
  const double unknowns = double(n) * double(n);
  const double sec = r.per_step(1).mean;  // only a few steps: the mean
  const double first = r.t.size() > 1 ? r.t[1] - r.t[0] : 0.0;
  if (b.root)
    std::printf("%-10s %12.0f %14.2f %14.3e %12.3e %12.3e %9.0f\n",
                (std::to_string(n) + "^2").c_str(), unknowns, iterations, sec / unknowns, sec,
                first, r.memory_bytes / unknowns);
  return {{"cells_per_axis", n}, {"unknowns", unknowns}, {"mg_iterations", iterations},
          {"seconds_per_step", sec}, {"seconds_per_unknown", sec / unknowns},
          {"first_step_seconds", first}, {"setup_seconds", r.setup_seconds},
          {"memory_bytes_per_cell", r.memory_bytes / unknowns}};
}

// Appends to j["implicit"] (no key without sizes).
void implicit_sizes(const Bench& b, nlohmann::json& j) {
  if (b.root)
    std::printf("\n%-10s %12s %14s %14s %12s %12s %9s\n", "implicit", "unknowns", "KSP it/step",
                "s/unknown", "step s", "1st step s", "B/cell");
  for (PetscInt n : b.set.implicit_sizes) j["implicit"].push_back(implicit_size(b, n));
}

// Bytes of the frame's files under dir (not the run's summary.json or options.txt), on every rank.
double frame_bytes(MPI_Comm comm, const std::string& dir) {
  double bytes = 0;
  if (comm_rank(comm) == 0)
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
      if (f.is_regular_file() && f.path().extension() != ".json" && f.path().extension() != ".txt")
        bytes += double(f.file_size());
  MPI_Bcast(&bytes, 1, MPI_DOUBLE, 0, comm);
  return bytes;
}

// One VTK frame of a 2-D OU state (density, drift, current and the flow fields).
nlohmann::json vtk_frame(const Bench& b) {
  if (stop_requested(b.comm)) throw Interrupted("bench stopped before the VTK frame");
  const PetscInt n = b.set.size2;
  const std::string dir = b.set.out + "/frame";
  ScopedOptions opts("-problem ou" + grid_args(2, n) +
                     " -ts_type euler -fp_scheme sg -progress_seconds -1 -output " + dir);
  Simulation sim(b.comm);
  MPI_Barrier(b.comm);
  const double t0 = MPI_Wtime();
  sim.write_frame(0.0, sim.solution());
  MPI_Barrier(b.comm);
  const double sec = MPI_Wtime() - t0;
  const double bytes = frame_bytes(b.comm, dir);
  if (b.root)
    std::printf("\nVTK frame %lldx%lld: %.3f s, %.1f MB (%.0f MB/s)\n", (long long)n,
                (long long)n, sec, bytes / 1e6, bytes / sec / 1e6);
  return {{"cells", double(n) * n}, {"seconds", sec}, {"bytes", bytes},
          {"bytes_per_second", bytes / sec}};
}

// Rank 0 writes; a failure to write fails every rank.
void write_bench_json(MPI_Comm comm, const std::string& out, const nlohmann::json& j) {
  std::string err;
  if (comm_rank(comm) == 0) {
    try {
      write_file_atomic(out + "/bench.json", j.dump(2) + "\n");
      std::printf("\nfpflow bench: %s/bench.json\n", out.c_str());
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm, err);
}

}  // namespace

int run_bench(MPI_Comm comm) {
  const BenchSettings set = read_settings(comm);
  if (option_given("-help")) return 0;
  // Every option has been read: a misspelt one fails before any measurement.
  check_unused_options(comm, false);
  // The lock, and an earlier run's bench.json gone (io/output.hpp).
  const OutputLock lock = prepare_output_dir(comm, set.out, OutputKind::bench);
  nlohmann::json j = {{"ranks", comm_size(comm)}, {"quick", set.quick}};
  const Bench b{comm, comm_rank(comm) == 0, set, first_triad(comm, set, j)};
  j["explicit"] = explicit_cases(b);
  if (set.implicit) implicit_sizes(b, j);
  if (set.frame) j["output_frame"] = vtk_frame(b);
  write_bench_json(comm, set.out, j);
  return 0;
}

}  // namespace fpflow
