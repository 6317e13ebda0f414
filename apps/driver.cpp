// apps/driver.cpp — Simulation: a run composed of config, builder, one solve, observers and
// summary (driver.hpp).
#include "apps/driver.hpp"

#include "apps/promises.hpp"
#include "apps/run_builder.hpp"
#include "core/options.hpp"
#include "core/profiling.hpp"
#include "core/signals.hpp"
#include "verification/norms.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fpflow {

namespace {

// Norms of the grid against a closed-form law (an "error" only when the law is the solution on
// the run's box and walls, problems/reference.hpp).
NormReport norm_report(const ErrorNorms& e, const Reference& ref, const char* against) {
  NormReport r;
  r.L1 = e.L1, r.L2 = e.L2, r.Linf = e.Linf;
  r.reference = ref.name;
  r.against = against ? against : "";
  r.tail_mass = ref.tail_mass;
  r.valid = ref.valid;
  r.why = ref.why;
  return r;
}

// A truncated free-space law is never presented as the error: one warning line says why.
void warn_reference(MPI_Comm comm, const NormReport& r) {
  if (!r.valid && comm_rank(comm) == 0)
    std::fprintf(stderr, "fpflow: warning: the %s is not the solution on this box: %s; its "
                 "distance to the grid is reported as reference_error, not error\n",
                 r.reference.c_str(), r.why.c_str());
}

StepsReport steps_report(TimeStepper& st) {
  StepsReport r;
  r.ts_type = st.type();
  r.mode = st.mode() == "explicit" ? RunMode::explicit_steps
           : st.mode() == "imex"   ? RunMode::imex_steps
                                   : RunMode::implicit_steps;
  r.fused = st.fused();
  r.dt_initial = st.dt_initial();
  r.t_final = st.time();
  r.t_requested = st.t_requested();
  r.stop_reason = st.stop_reason();
  r.steps = st.steps();
  r.rejected = st.rejected_steps();
  r.projections = st.positivity_projections();
  r.dt_min = st.dt_min();
  r.dt_max = st.dt_max();
  if (r.mode != RunMode::explicit_steps) {
    FP_CHECK(TSGetKSPIterations(st.ts(), &r.linear_iterations));
    FP_CHECK(TSGetSNESIterations(st.ts(), &r.nonlinear_iterations));
  }
  r.stationary_reached = st.stationary_reached();
  r.stationary_residual = st.stationary_residual();
  return r;
}

// The relative tolerance of the implicit linear solves (the TS's KSP; -steady's is 1e-12).
double linear_rtol(TimeStepper* st) {
  PetscReal rtol = 1e-12;
  if (!st) return rtol;
  SNES snes;
  KSP ksp;
  FP_CHECK(TSGetSNES(st->ts(), &snes));
  FP_CHECK(SNESGetKSP(snes, &ksp));
  FP_CHECK(KSPGetTolerances(ksp, &rtol, nullptr, nullptr, nullptr));
  return rtol;
}

}  // namespace

Simulation::Simulation(MPI_Comm comm) : comm_(comm) {
  ProfileStage stage(Stage::setup);
  const ProblemChoice choice = read_problem_choice(comm);
  problem_ = build_problem(comm, choice);
  config_ = read_run_config(comm, choice, *problem_);
  if (!config_.help_only) output_lock_ = prepare_output_dir(comm, config_.output.dir);
  grid_ = build_grid(comm, config_, *problem_);
  op_ = build_operator(*grid_, *problem_, config_, monotone_);
  mass0_ = initial_density(*grid_, *problem_, rho_);
  if (!config_.steady())
    stepper_ = build_stepper(*op_, config_, op_->positivity_preserving() || monotone_.monotone);
  build_output();
}

void Simulation::build_output() {
  if (!config_.output.vtk || config_.help_only) return;
  writer_ = std::make_unique<VtkSeriesWriter>(*grid_, config_.output.dir, config_.output.compressor);
  PetscInt& every = config_.output.every;
  if (stepper_ && every <= 0)
    every = std::max<PetscInt>(
        1, PetscInt(std::ceil(config_.stepper.t_final / stepper_->dt_initial() / 10)));
  const FrameContent content{config_.output.flow_fields, config_.output.pf_floor};
  frames_ = std::make_unique<FrameObserver>(*op_, *writer_, content, std::max<PetscInt>(every, 1));
}

void Simulation::on_step(std::function<void(PetscInt, double, Vec)> hook) {
  hook_ = std::make_unique<CallbackObserver>(std::move(hook));
}

void Simulation::write_frame(double t, Vec rho) {
  if (!writer_) throw Error("internal: write_frame needs -vtk");
  write_density_frame(*op_, *writer_, {config_.output.flow_fields, config_.output.pf_floor}, t,
                      rho);
}

// The run's one solve, its observers told of every accepted state and of the last.
SteadyResult Simulation::solve() {
  ObserverList all;
  if (hook_) all.attach(*hook_);
  for (SolveObserver* o : {frames_.get()})
    if (o) all.attach(*o);
  SteadyResult steady;
  if (config_.steady()) {
    ProfileStage stage(Stage::steady);
    SteadyState solver(*op_, config_.steady_options);
    steady = solver.solve(rho_);
    // The stationary law of a positivity-preserving operator is positive (Perron-Frobenius);
    // the computed one only to the solver tolerance.
    if (op_->positivity_preserving()) steady.projected = project_positive(rho_, comm_);
    all.finish(0, 0.0, rho_);
    observers_.finish(0, 0.0, rho_);
    return steady;
  }
  stepper_->set_observer([&](PetscInt step, double t, Vec rho) {
    all.observe(step, t, rho);
    observers_.observe(step, t, rho);
  });
  stepper_->solve(rho_);
  stepper_->set_observer(nullptr);
  all.finish(stepper_->steps(), stepper_->time(), rho_);
  observers_.finish(stepper_->steps(), stepper_->time(), rho_);
  return steady;
}

RunSummary Simulation::run() {
  const double wall0 = MPI_Wtime();
  const SteadyResult steady = solve();
  const double wall = MPI_Wtime() - wall0;
  ProfileStage stage(Stage::diagnostics);
  RunSummary s = summarise(config_.steady() ? &steady : nullptr, wall);
  PetscReal top = 0;
  FP_CHECK(VecMax(rho_, nullptr, &top));
  const std::string broken =
      s.status == "interrupted"
          ? std::string()
          : broken_promise(s, {config_.max_steps_given, linear_rtol(stepper_.get()), top});
  if (!broken.empty()) {
    s.status = "failed";
    s.failure = broken;
  }
  write_records(s);
  if (s.status == "interrupted") {
    std::ostringstream where;
    where << "stopped at t = " << s.t_final();
    if (stepper_)
      where << " of " << config_.stepper.t_final << " after " << stepper_->steps() << " steps";
    throw Interrupted(where.str() + "; last state and summary.json in " + output_dir());
  }
  if (!s.ok()) throw RunFailed(s.failure);
  return s;
}

RunSummary Simulation::summarise(const SteadyResult* steady, double wall) const {
  RunSummary s;
  // A stop request ends the time loop at a step boundary (-steady: after the solve).
  const bool interrupted = stepper_ ? stepper_->interrupted() : stop_requested(comm_);
  if (interrupted) {
    s.status = "interrupted";
    s.signal = stop_signal_name();
    s.t_interrupted_target = config_.stepper.t_final;
  }
  describe(s);
  if (steady) s.steady = *steady;
  if (stepper_) s.steps = steps_report(*stepper_);
  account_mass(s);
  s.wall_seconds = wall;
  s.cell_updates_per_second =
      wall > 0 && stepper_ ? grid_->global_cells() * double(stepper_->steps()) / wall : 0.0;
  measure_error(s);
  if (writer_) s.vtk = {{output_dir() + "/fpflow.pvd", writer_->frames()}};
  return s;
}

void Simulation::describe(RunSummary& s) const {
  const int dim = grid_->dim();
  s.problem = config_.problem.name;
  s.description = problem_->description();
  s.parameters = problem_->parameters();
  s.dim = dim;
  for (int d = 0; d < dim; ++d) {
    s.cells.push_back(grid_->cells(d));
    s.boundaries.push_back(to_string(grid_->boundary(d)));
    s.box_lo.push_back(grid_->box().lo[d]);
    s.box_hi.push_back(grid_->box().hi[d]);
  }
  s.ranks = comm_size(comm_);
  s.scheme = to_string(config_.scheme);
  if (config_.scheme == Scheme::muscl || config_.scheme == Scheme::pflow)
    s.limiter = to_string(config_.limiter);
  if (op_->has_cross()) s.cross_stencil = to_string(config_.cross);
  s.monotonicity = monotone_;
  // What this run promises about rho >= 0: explicit runs of a positivity-preserving operator
  // check every state; backward Euler with one is positive for any step (its solver-tolerance
  // negatives projected away); other implicit methods (above first order: Bolley-Crouzeix) and
  // IMEX promise nothing, and -steady holds it to the solver tolerance.
  s.positivity_guaranteed =
      stepper_ ? stepper_->promises_positivity() : op_->positivity_preserving();
}

void Simulation::account_mass(RunSummary& s) const {
  s.mass_initial = mass0_;
  s.mass_final = mass(*grid_, rho_);
  s.min_density = min_value(rho_);
  if (stepper_) {
    s.absorbed_mass = stepper_->absorbed_mass(mass0_, s.mass_final);
    s.absorbed_method = stepper_->absorbed_method();
    // Per absorbing side ("x_lo", ...), summing to absorbed_mass (time_stepper.hpp).
    const std::vector<double> by_side = stepper_->absorbed_by_side(mass0_, s.mass_final);
    for (std::size_t i = 0; i < by_side.size(); ++i) {
      const int side = stepper_->absorbing_sides()[i];
      s.absorbed_by_side.push_back({side_name(side / 2, side % 2), by_side[i]});
    }
  }
  // (mass_final + absorbed - mass_initial) / mass_initial: round-off when mass is accounted.
  s.mass_balance_error = (s.mass_final + s.absorbed_mass - mass0_) / mass0_;
}

// Steady runs (and time runs that reached stationarity) are measured against the stationary
// law; time runs otherwise against the transient exact solution.
void Simulation::measure_error(RunSummary& s) const {
  ProfileEvent ev(profiling().error_norms);
  const bool vs_stationary = !stepper_ || stepper_->stationary_reached();
  if (vs_stationary && problem_->has_stationary()) {
    // The stationary law on the box: the closed form restricted to the box and renormalised on
    // the grid (differs from the free-space law only when walls truncate its mass).
    const ExactAverages stat{[&](const double* lo, const double* hi) {
                               return problem_->stationary_cell_average(lo, hi);
                             },
                             problem_->separable_average(Problem::Law::stationary, 0.0)};
    VecH ref;
    FP_CHECK(VecDuplicate(rho_, ref.out()));
    fill_cell_averages(*grid_, ref, stat);
    const ErrorNorms e = error_norms(*grid_, rho_, stat, mass0_ / mass(*grid_, ref));
    s.norms = norm_report(e, problem_->stationary_reference(), "stationary law");
  } else if (stepper_ && problem_->has_exact()) {
    const double t = stepper_->time();
    const ErrorNorms e = error_norms(
        *grid_, rho_,
        ExactAverages{[&](const double* lo, const double* hi) {
                        return problem_->exact_cell_average(lo, hi, t);
                      },
                      problem_->separable_average(Problem::Law::exact, t)});
    s.norms = norm_report(e, problem_->exact_reference(t), nullptr);
  }
  if (s.norms) warn_reference(comm_, *s.norms);
}

void Simulation::write_records(const RunSummary& s) const {
  ProfileEvent ev(profiling().summary_write);
  ResolvedSteps steps;
  if (stepper_) steps = {stepper_->type(), stepper_->dt_initial(), config_.stepper.t_final};
  const std::string opts = options_text(config_, *grid_, stepper_ ? &steps : nullptr);
  std::string err;
  if (comm_rank(comm_) == 0) {
    try {
      write_file_atomic(output_dir() + "/options.txt", opts);
      write_file_atomic(output_dir() + "/summary.json", s.to_json().dump(2) + "\n");
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm_, err);
}

void print_all_problem_help(MPI_Comm comm, int dim) {
  register_builtin_problems();
  for (const auto& name : problem_names()) {
    try {
      make_problem(name)->configure(comm, dim);
    } catch (const Error&) {
      // -help lists options; a value the user set for another problem is not an error here.
    }
  }
}

void write_failure_summary(MPI_Comm comm, const std::string& dir, const std::string& message) {
  write_status_record(comm, dir, "summary.json", "failed", {{"error", message}});
}

}  // namespace fpflow
