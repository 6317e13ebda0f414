// apps/driver.cpp — Simulation: option resolution, initial data, run loop and summary.
#include "apps/driver.hpp"

#include "core/input_checks.hpp"
#include "core/options.hpp"
#include "core/profiling.hpp"
#include "core/signals.hpp"
#include "io/output.hpp"
#include "solvers/steady_state.hpp"
#include "verification/norms.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

namespace fpflow {

namespace {
// -ts_type as given (rk, fpflow's default, when not), before TS reads it.
std::string ts_type_option() {
  char buf[256] = {0};
  PetscBool set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-ts_type", buf, sizeof(buf), &set));
  return set ? buf : "rk";
}

// -steady may be given as a bare flag or with a value (-steady false). Read leniently here: a
// malformed value is reported by the strict read of the option block that follows.
bool steady_flag_value() {
  char buf[64] = {0};
  PetscBool set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-steady", buf, sizeof(buf), &set));
  if (!set) return false;
  std::string v = buf;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v.empty() || v == "1" || v == "true" || v == "yes" || v == "on";
}

// The per-cell footprint the grid is checked against before allocation (core/resources.hpp):
// implicit when -steady or a -ts_type outside the explicit family is asked for.
RunFootprint footprint(int dim, bool steady, bool box_stencil, bool frames, bool flow) {
  RunFootprint f;
  f.dim = dim;
  f.box_stencil = box_stencil;
  f.frames = frames;
  f.flow_fields = flow;
  f.implicit = steady;
  if (!steady) {
    char type[64] = {0};
    PetscBool set = PETSC_FALSE;
    FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-ts_type", type, sizeof(type), &set));
    f.implicit = set && !is_explicit_ts_type(type);
  }
  return f;
}

std::string join(const std::vector<double>& v, int n) {
  std::ostringstream s;
  s.precision(17);
  for (int i = 0; i < n; ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

// Norms against a closed-form law are an "error" only when that law is the solution on the run's
// box and walls (problems/reference.hpp); otherwise they go under "reference_error", labelled,
// with one warning line, so a truncated free-space law is never presented as the error.
void report_error(MPI_Comm comm, nlohmann::json& j, const ErrorNorms& e, const Reference& ref,
                  const char* against) {
  nlohmann::json r = {{"L1", e.L1}, {"L2", e.L2}, {"Linf", e.Linf}, {"reference", ref.name}};
  if (against) r["against"] = against;
  if (ref.tail_mass >= 0) r["tail_mass"] = ref.tail_mass;
  if (ref.valid) {
    j["error"] = r;
    return;
  }
  r["valid"] = false;
  r["why"] = ref.why;
  j["reference_error"] = r;
  if (comm_rank(comm) == 0)
    std::fprintf(stderr, "fpflow: warning: the %s is not the solution on this box: %s; its "
                 "distance to the grid is reported as reference_error, not error\n",
                 ref.name.c_str(), ref.why.c_str());
}
}  // namespace

Simulation::Simulation(MPI_Comm comm) : comm_(comm) {
  ProfileStage stage(Stage::setup);
  register_builtin_problems();
  int dim = 2;
  {
    std::vector<std::string> names = problem_names();
    OptionsBlock opt(comm, nullptr, "fpflow: Fokker-Planck problem and grid");
    problem_name_ = opt.choice("-problem", "Problem to solve", names, "ou");
    dim = int(opt.integer("-dim", "Space dimension (1, 2 or 3)", 2));
    if (dim < 1 || dim > 3) throw Error("-dim must be 1, 2 or 3, got " + std::to_string(dim));
  }
  problem_ = make_problem(problem_name_);
  problem_->configure(comm, dim);

  GridSpec spec;
  spec.dim = dim;
  spec.cells = dim == 1 ? std::array<PetscInt, 3>{256, 1, 1}
               : dim == 2 ? std::array<PetscInt, 3>{128, 128, 1}
                          : std::array<PetscInt, 3>{48, 48, 48};
  {
    OptionsBlock opt(comm, nullptr, "fpflow: domain, discretization and output");
    const Box def = problem_->default_box();
    auto lo = per_axis(opt.reals("-box_lo", "Box lower corner (one value or one per axis)",
                                 {def.lo.begin(), def.lo.begin() + dim}, 3), dim, "-box_lo");
    auto hi = per_axis(opt.reals("-box_hi", "Box upper corner (one value or one per axis)",
                                 {def.hi.begin(), def.hi.begin() + dim}, 3), dim, "-box_hi");
    for (int d = 0; d < 3; ++d) spec.box.lo[d] = lo[d], spec.box.hi[d] = hi[d];
    const auto def_bc = problem_->default_bc();
    std::vector<std::string> def_names;
    for (int d = 0; d < dim; ++d) def_names.push_back(to_string(def_bc[d]));
    auto bc = opt.strings("-bc", "Walls per axis, one value for every axis or one per axis: KIND "
                          "(both sides) or LO:HI, KIND = reflecting, absorbing, periodic "
                          "(periodic joins both sides)", def_names, 3);
    if (bc.size() != 1 && int(bc.size()) != dim)
      throw Error("-bc takes one value for every axis or one per axis (" + std::to_string(dim) +
                  " in " + std::to_string(dim) + "-D), got " + std::to_string(bc.size()));
    for (int d = 0; d < dim; ++d) {
      try {
        spec.bc[d] = parse_axis_boundary(bc[std::min<size_t>(d, bc.size() - 1)]);
      } catch (const Error& e) {
        throw Error(std::string("-bc: ") + e.what());
      }
    }
    // The default scheme follows the time stepping: explicit steps are cheap and short, so the
    // second-order-everywhere sghr costs little; implicit steps with its nonlinear correction
    // take 2-3x the Newton iterations for an error dominated by the time step (measured in
    // docs/CONVERGENCE.md), so implicit, IMEX and steady runs default to the linear sg.
    const bool steady = option_given("-steady") && steady_flag_value();
    const bool explicit_run = !steady && is_explicit_ts_type(ts_type_option());
    scheme_ = parse_scheme(opt.choice("-fp_scheme", "Face-flux scheme: sghr = Scharfetter-Gummel "
                                      "with a limited high-resolution correction (second order at "
                                      "any cell Peclet number, exact Gibbs states; the default for "
                                      "explicit time stepping), sg = Scharfetter-Gummel (linear; "
                                      "the default for implicit, IMEX and -steady runs), muscl = "
                                      "limited MUSCL drift + central diffusion, upwind = first "
                                      "order, pflow = continuity equation with the probability-flow "
                                      "velocity of the density itself",
                                      {"sghr", "sg", "muscl", "upwind", "pflow"},
                                      explicit_run ? "sghr" : "sg"));
    limiter_ = parse_limiter(opt.choice("-fp_limiter", "MUSCL slope limiter",
                                        {"vanleer", "minmod", "mc"}, "vanleer"));
    cross_ = parse_cross(opt.choice("-fp_cross",
                                    "Cross-diffusion stencil: limited (signed 7/19-point stencil "
                                    "with positivity-limited fluxes: rho >= 0 for any PSD tensor), "
                                    "monotone (the same stencil unlimited: positive only when "
                                    "|a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j)) or average "
                                    "(9/19-point)",
                                    {"limited", "monotone", "average"}, "limited"));
    StepperOptions so;
    so.cfl = opt.real("-fp_cfl", "Default step as a fraction of the positivity bound", 0.9);
    so.fused = opt.flag("-fp_fused", "Run -ts_type euler as fpflow's fused one-pass step when "
                        "the scheme is linear and the coefficients do not depend on t", true);
    if (!(so.cfl > 0)) throw Error("-fp_cfl must be positive");
    steady_ = opt.flag("-steady", "Compute the stationary law directly (no time stepping)", false);
    steady_options_ = read_steady_options(comm);
    so.until_stationary = opt.real("-until_stationary",
                                   "Time mode: stop once ||L rho||_1 <= TOL max_rate ||rho||_1", 0);
    if (so.until_stationary < 0) throw Error("-until_stationary must be >= 0 (0: off)");
    so.progress_seconds = opt.real("-progress_seconds",
                                   "Seconds between progress lines (0: every step, <0: none)", 2.0);
    output_ = opt.string("-output", "Output directory (summary.json, options.txt, VTK series)",
                         "fpflow-out");
    const bool vtk = opt.flag("-vtk", "Write the VTK time series (fpflow.pvd)", true);
    vtk_compressor_ = opt.choice("-vtk_compressor", "Compression of the VTK frames: lz4 (fast), "
                                 "zlib (smaller, slower) or none", {"lz4", "zlib", "none"}, "lz4");
    flow_fields_ = opt.flag("-vtk_flow", "Write the probability-flow fields (score, velocity, "
                            "divergence, mask) in every VTK frame", true);
    pf_floor_ = opt.real("-pf_floor", "Density floor for log rho in the flow fields, relative to "
                         "max rho (cells below it get mask 0)", 1e-12);
    if (!(pf_floor_ > 0)) throw Error("-pf_floor must be positive");
    output_every_ = opt.integer("-output_every",
                                "Write a VTK frame every N steps (0: about 10 frames per run)", 0,
                                0, PETSC_MAX_INT);
    t_final_ = problem_->default_t_final();
    spec.stencil_width = FokkerPlanckOperator::stencil_width(scheme_);
    spec.box_stencil = !problem_->diagonal_diffusion() && dim > 1;

    const bool help_only = option_given("-help");
    if (!help_only) output_lock_ = prepare_output_dir(comm, output_);
    spec.footprint = footprint(dim, steady_, spec.box_stencil, vtk && !help_only, flow_fields_);
    grid_ = std::make_unique<Grid>(comm, spec);
    problem_->set_domain(grid_->box(),
                         {grid_->boundary(0), grid_->boundary(1), grid_->boundary(2)});
    op_ = std::make_unique<FokkerPlanckOperator>(*grid_, *problem_, scheme_, limiter_, cross_);
    monotone_ = op_->monotonicity(0.0);
    if (!monotone_.monotone && comm_rank(comm) == 0 && !help_only)
      std::fprintf(stderr,
                   "fpflow: warning: the operator matrix is not monotone (off-diagonal %.3g x "
                   "diagonal at x = %s): positivity is not guaranteed. Cross-diffusion needs "
                   "|a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j), tighter under strong drift%s\n",
                   monotone_.worst, monotone_.where.c_str(),
                   cross_ == CrossMode::limited ? ""
                   : "; -fp_cross limited (the default) guarantees rho >= 0");

    FP_CHECK(DMCreateGlobalVector(grid_->dm(), rho_.out()));
    FP_CHECK(PetscObjectSetName((PetscObject)rho_.get(), "density"));
    ProfileEvent initial_ev(profiling().initial_data);
    fill_cell_averages(*grid_, rho_,
                       ExactAverages{[this](const double* lo, const double* hi) {
                                       return problem_->initial_cell_average(lo, hi);
                                     },
                                     problem_->separable_average(Problem::Law::initial, 0.0)});
    {
      std::string bad;
      VecArrayRead a(rho_);
      for (PetscInt c = 0; c < grid_->owned_cells() && bad.empty(); ++c)
        if (!std::isfinite(a[c]) || a[c] < 0)
          bad = "initial density is " + std::to_string(a[c]) +
                " in a cell; it must be finite and non-negative";
      throw_if_any(comm, bad);
    }
    mass0_ = mass(*grid_, rho_);
    if (!(mass0_ > 0)) throw Error("initial density has zero mass on the grid (check the box)");
    if (problem_->normalize_initial()) {
      FP_CHECK(VecScale(rho_, 1.0 / mass0_));
      mass0_ = mass(*grid_, rho_);
    }
    initial_ev.end();

    if (steady_) {
      for (int d = 0; d < dim; ++d)
        if (grid_->boundary(d).any(Boundary::absorbing))
          throw Error("-steady: with absorbing walls all mass leaves; there is no stationary law");
      steady_solver_ = std::make_unique<SteadyState>(*op_, steady_options_);
      if (vtk && !help_only) writer_ = std::make_unique<VtkSeriesWriter>(*grid_, output_, vtk_compressor_);
      return;
    }
    so.t_final = t_final_;
    so.enforce_positivity = op_->positivity_preserving() || monotone_.monotone;
    // TS reads -ts_max_time itself; take its value back so everything agrees on t_final.
    stepper_ = std::make_unique<TimeStepper>(*op_, so);
    // pflow's flux is nonlinear in log rho; Newton on the SG Jacobian does not converge for it.
    if (scheme_ == Scheme::pflow && stepper_->mode() != "explicit")
      throw Error("-fp_scheme pflow needs an explicit -ts_type (rk, ssp, euler); got " +
                  stepper_->type() + " (" + stepper_->mode() + ")");
    PetscReal tmax;
    FP_CHECK(TSGetMaxTime(stepper_->ts(), &tmax));
    t_final_ = tmax;
    check_time_span(stepper_->ts());
    if (vtk && !help_only) {
      writer_ = std::make_unique<VtkSeriesWriter>(*grid_, output_, vtk_compressor_);
      if (output_every_ <= 0)
        output_every_ = std::max<PetscInt>(1, PetscInt(std::ceil(t_final_ / stepper_->dt_initial() / 10)));
    }
  }
  stepper_->set_observer([this](PetscInt step, double t, Vec rho) {
    if (step_hook_) step_hook_(step, t, rho);
    // A rolled-back step is reported again with an earlier step number: frames only move forward.
    if (writer_ && step % output_every_ == 0 && step > last_frame_step_) {
      write_frame(t, rho);
      last_frame_step_ = step;
    }
  });
}

void Simulation::write_frame(double t, Vec rho) {
  ProfileStage stage(Stage::output);
  LocalVec loc(grid_->dm());
  grid_->to_local(rho, loc);
  std::vector<double> drift, current;
  op_->current(t, loc, current);
  op_->drift_at_cells(t, drift);
  Frame frame;
  FokkerPlanckOperator::FlowFields flow;
  if (flow_fields_) {
    // The floor is relative to the largest density (a documented, scale-free choice).
    PetscReal top = 0;
    FP_CHECK(VecMax(rho, nullptr, &top));
    op_->flow_fields(t, loc, std::max(pf_floor_ * top, kDensityFloor), flow);
  }
  VecArrayRead d(rho);
  frame.density = d.data();
  frame.arrays = {{"drift", 3, &drift}, {"current", 3, &current}};
  if (flow_fields_)
    frame.arrays.insert(frame.arrays.end(), {{"score", 3, &flow.score},
                                             {"velocity", 3, &flow.velocity},
                                             {"divergence", 1, &flow.divergence},
                                             {"mask", 1, &flow.mask}});
  ProfileEvent ev(profiling().vtk_write);
  writer_->write(t, frame);
}

std::string Simulation::resolved_options() const {
  std::ostringstream s;
  s.precision(17);
  const int dim = grid_->dim();
  std::vector<double> lo(grid_->box().lo.begin(), grid_->box().lo.end());
  std::vector<double> hi(grid_->box().hi.begin(), grid_->box().hi.end());
  s << "# fpflow resolved options: rerun with  fpflow -options_file options.txt\n";
  s << "-problem " << problem_name_ << "\n-dim " << dim << "\n";
  const char* ax = "xyz";
  for (int d = 0; d < dim; ++d) s << "-da_grid_" << ax[d] << " " << grid_->cells(d) << "\n";
  s << "-box_lo " << join(lo, dim) << "\n-box_hi " << join(hi, dim) << "\n-bc ";
  for (int d = 0; d < dim; ++d) s << (d ? "," : "") << to_string(grid_->boundary(d));
  s << "\n-fp_scheme " << to_string(scheme_) << "\n-fp_limiter " << to_string(limiter_) << "\n";
  s << "-fp_cross " << to_string(cross_) << "\n";
  if (stepper_) {
    s << "-ts_type " << stepper_->type() << "\n";
    // A step fpflow chose itself is not pinned: a rerun chooses it again the same way (pinning
    // the first step of a run whose bound moves with t would change every later step).
    if (option_given("-ts_dt"))
      s << "-ts_dt " << stepper_->dt_initial() << "\n";
    else
      s << "# -ts_dt chosen by fpflow (positivity bound x -fp_cfl): first step "
        << stepper_->dt_initial() << "\n";
    s << "-ts_max_time " << t_final_ << "\n";
  } else {
    s << "-steady\n";
  }
  // Everything else the user gave (problem parameters, solver options), verbatim.
  char* all = nullptr;
  FP_CHECK(PetscOptionsGetAll(nullptr, &all));
  std::istringstream given(all ? all : "");
  PetscFree(all);
  std::string tok, line;
  const std::vector<std::string> resolved = {"-problem", "-dim", "-da_grid_x", "-da_grid_y",
      "-da_grid_z", "-box_lo", "-box_hi", "-bc", "-fp_scheme", "-fp_limiter", "-fp_cross", "-ts_type",
      "-ts_dt", "-ts_max_time", "-help", "-options_file", "-da_refine", "-da_refine_x",
      "-da_refine_y", "-da_refine_z"};
  bool skip = false;
  s << "# given\n";
  auto flush = [&] {
    if (!line.empty() && !skip) s << line << "\n";
    line.clear();
  };
  while (given >> tok) {
    if (tok.size() > 1 && tok[0] == '-' && !std::isdigit(static_cast<unsigned char>(tok[1])) &&
        tok[1] != '.') {
      flush();
      skip = std::find(resolved.begin(), resolved.end(), tok) != resolved.end();
      line = tok;
    } else {
      line += " " + tok;
    }
  }
  flush();
  return s.str();
}

nlohmann::json Simulation::run() {
  const double wall0 = MPI_Wtime();
  SteadyResult steady;
  if (steady_) {
    {
      ProfileStage stage(Stage::steady);
      steady = steady_solver_->solve(rho_);
      // The stationary law of a positivity-preserving operator is positive (Perron-Frobenius);
      // the computed one only to the solver tolerance.
      if (op_->positivity_preserving()) steady.projected = project_positive(rho_, comm_);
    }
    if (writer_) write_frame(0.0, rho_);
  } else {
    stepper_->solve(rho_);
  }
  // A stop request ends the time loop at a step boundary (-steady: after the solve).
  const bool interrupted = steady_ ? stop_requested(comm_) : stepper_->interrupted();
  const double wall = MPI_Wtime() - wall0;
  const double t = steady_ ? 0.0 : stepper_->time();
  if (!steady_ && writer_ && last_frame_step_ != stepper_->steps()) write_frame(t, rho_);
  ProfileStage stage(Stage::diagnostics);

  const double m1 = mass(*grid_, rho_);
  const double absorbed = steady_ ? 0.0 : stepper_->absorbed_mass(mass0_, m1);
  nlohmann::json j;
  const int dim = grid_->dim();
  j["status"] = interrupted ? "interrupted" : "ok";
  if (interrupted) {
    j["signal"] = stop_signal_name();
    if (!steady_) j["t_requested"] = t_final_;
  }
  j["problem"] = problem_name_;
  j["description"] = problem_->description();
  j["parameters"] = problem_->parameters();
  j["dim"] = dim;
  std::vector<PetscInt> cells;
  std::vector<std::string> bcs;
  for (int d = 0; d < dim; ++d) cells.push_back(grid_->cells(d)), bcs.push_back(to_string(grid_->boundary(d)));
  j["cells"] = cells;
  j["box"] = {{"lo", std::vector<double>(grid_->box().lo.begin(), grid_->box().lo.begin() + dim)},
              {"hi", std::vector<double>(grid_->box().hi.begin(), grid_->box().hi.begin() + dim)}};
  j["boundaries"] = bcs;
  j["ranks"] = comm_size(comm_);
  j["scheme"] = to_string(scheme_);
  if (scheme_ == Scheme::muscl || scheme_ == Scheme::pflow) j["limiter"] = to_string(limiter_);
  if (op_->has_cross()) j["cross_stencil"] = to_string(cross_);
  j["monotone"] = monotone_.monotone;
  // What this run promises about rho >= 0: explicit runs of a positivity-preserving operator
  // check every state; backward Euler with one is positive for any step (its solver-tolerance
  // negatives projected away); other implicit methods (above first order: Bolley-Crouzeix) and
  // IMEX promise nothing, and -steady holds it to the solver tolerance.
  if (steady_)
    j["positivity"] = op_->positivity_preserving() ? "guaranteed" : "not guaranteed";
  else if (stepper_->promises_positivity())
    j["positivity"] = "guaranteed";
  else
    j["positivity"] = "not guaranteed";
  if (!monotone_.monotone) j["monotonicity_violation"] = {{"ratio", monotone_.worst}, {"at", monotone_.where}};
  if (steady_) {
    j["time_stepping"] = "steady";
    j["steady"] = steady.to_json();
    j["t_final"] = nullptr;
    j["steps"] = 0;
  } else {
    j["ts_type"] = stepper_->type();
    if (stepper_->mode() == "explicit") j["fused_euler"] = stepper_->fused();
    j["time_stepping"] = stepper_->mode();
    j["dt_initial"] = stepper_->dt_initial();
    j["t_final"] = t;
    j["t_requested"] = stepper_->t_requested();
    j["stop_reason"] = stepper_->stop_reason();
    j["steps"] = stepper_->steps();
    j["rejected_steps"] = stepper_->rejected_steps();
    if (stepper_->positivity_projections() > 0)
      j["positivity_projections"] = stepper_->positivity_projections();
    if (stepper_->steps() > 0) j["dt_range"] = {stepper_->dt_min(), stepper_->dt_max()};
    if (stepper_->mode() != "explicit") {
      PetscInt lin = 0, nonlin = 0;
      FP_CHECK(TSGetKSPIterations(stepper_->ts(), &lin));
      FP_CHECK(TSGetSNESIterations(stepper_->ts(), &nonlin));
      j["linear_iterations"] = lin;
      j["nonlinear_iterations"] = nonlin;
      j["linear_iterations_per_step"] =
          stepper_->steps() > 0 ? double(lin) / double(stepper_->steps()) : 0.0;
    }
    if (stepper_->stationary_residual() >= 0)
      j["stationary"] = {{"reached", stepper_->stationary_reached()},
                         {"residual", stepper_->stationary_residual()}};
  }
  j["mass_initial"] = mass0_;
  j["mass_final"] = m1;
  j["min_density"] = min_value(rho_);
  j["absorbed_mass"] = absorbed;
  j["absorbed_mass_method"] = steady_ ? "none" : stepper_->absorbed_method();
  // Per absorbing side ("x_lo", ...), summing to absorbed_mass (time_stepper.hpp).
  j["absorbed_by_side"] = nlohmann::json::object();
  if (!steady_) {
    const std::vector<double> by_side = stepper_->absorbed_by_side(mass0_, m1);
    for (std::size_t i = 0; i < by_side.size(); ++i) {
      const int s = stepper_->absorbing_sides()[i];
      j["absorbed_by_side"][side_name(s / 2, s % 2)] = by_side[i];
    }
  }
  // (mass_final + absorbed - mass_initial) / mass_initial: round-off when mass is accounted.
  j["mass_balance_error"] = (m1 + absorbed - mass0_) / mass0_;
  j["wall_seconds"] = wall;
  j["cell_updates_per_second"] =
      wall > 0 && !steady_ ? grid_->global_cells() * double(stepper_->steps()) / wall : 0.0;
  // Steady runs (and time runs that reached stationarity) are measured against the stationary
  // law; time runs otherwise against the transient exact solution.
  const bool vs_stationary = steady_ || (!steady_ && stepper_->stationary_reached());
  ProfileEvent norms_ev(profiling().error_norms);
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
    report_error(comm_, j, e, problem_->stationary_reference(), "stationary law");
  } else if (!steady_ && problem_->has_exact()) {
    const ErrorNorms e = error_norms(
        *grid_, rho_,
        ExactAverages{[&](const double* lo, const double* hi) {
                        return problem_->exact_cell_average(lo, hi, t);
                      },
                      problem_->separable_average(Problem::Law::exact, t)});
    report_error(comm_, j, e, problem_->exact_reference(t), nullptr);
  }
  norms_ev.end();
  if (writer_) j["vtk"] = {{"pvd", output_ + "/fpflow.pvd"}, {"frames", writer_->frames()}};
  // (An interrupted run says so; it did not promise to reach the end.)
  const std::string broken = interrupted ? std::string() : broken_promise(j);
  if (!broken.empty()) {
    j["status"] = "failed";
    j["error"] = broken;
  }
  ProfileEvent summary_ev(profiling().summary_write);
  const std::string opts = resolved_options();
  std::string err;
  if (comm_rank(comm_) == 0) {
    try {
      write_file_atomic(output_ + "/options.txt", opts);
      write_file_atomic(output_ + "/summary.json", j.dump(2) + "\n");
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm_, err);
  if (interrupted) {
    std::ostringstream where;
    where << "stopped at t = " << t;
    if (!steady_) where << " of " << t_final_ << " after " << stepper_->steps() << " steps";
    throw Interrupted(where.str() + "; last state and summary.json in " + output_);
  }
  if (j["status"] == "failed") throw RunFailed(j["error"].get<std::string>());
  return j;
}

// The promises a finished run must have kept before it may say "ok": the requested end, a
// finite state, mass conserved (or accounted through absorbing walls) to what the integrator
// guarantees, and rho >= 0 where the run promised it. Returns the first broken one, or "".
std::string Simulation::broken_promise(const nlohmann::json& j) const {
  char buf[512];
  if (!steady_) {
    const std::string why = stepper_->stop_reason();
    const bool user_limit = why == "max_steps" && option_given("-ts_max_steps");
    if (why != "final_time" && why != "stationary" && !user_limit) {
      std::snprintf(buf, sizeof buf, "the run stopped at t = %.9g before the requested final time "
                    "%.9g (%s)", stepper_->time(), stepper_->t_requested(), why.c_str());
      return buf;
    }
  }
  const double m0 = j["mass_initial"].get<double>(), m1 = j["mass_final"].get<double>();
  if (!std::isfinite(m1)) return "the final density is not finite";
  // Explicit steps conserve mass to round-off (~1e-16 per step); implicit ones to the linear
  // solver's relative tolerance per step.
  const double steps = steady_ ? 1.0 : double(std::max<PetscInt>(stepper_->steps(), 1));
  double per_step = 100 * std::numeric_limits<double>::epsilon();
  if (steady_ || stepper_->mode() != "explicit") per_step = std::max(per_step, 10 * linear_rtol());
  const double mass_tol = 1e-13 + steps * per_step;
  const double balance = j["mass_balance_error"].get<double>();
  if (!(std::fabs(balance) <= mass_tol)) {
    std::snprintf(buf, sizeof buf, "mass is not conserved: (final + absorbed - initial) / initial "
                  "= %.3g (initial %.17g, final %.17g), above the %.1g this run guarantees",
                  balance, m0, m1, mass_tol);
    return buf;
  }
  if ((!steady_ && stepper_->promises_positivity()) || (steady_ && op_->positivity_preserving())) {
    PetscReal mx = 0;
    FP_CHECK(VecMax(rho_, nullptr, &mx));
    const double mn = j["min_density"].get<double>();
    if (mn < -kNegativeTolerance * std::fabs(mx)) {
      std::snprintf(buf, sizeof buf, "the density became negative (min %.3g, max %.3g) although "
                    "this scheme and step promise rho >= 0", mn, mx);
      return buf;
    }
  }
  return "";
}

// The relative tolerance of the implicit linear solves (the TS's KSP, or -steady's).
double Simulation::linear_rtol() const {
  PetscReal rtol = 1e-12;
  if (stepper_) {
    SNES snes;
    KSP ksp;
    FP_CHECK(TSGetSNES(stepper_->ts(), &snes));
    FP_CHECK(SNESGetKSP(snes, &ksp));
    FP_CHECK(KSPGetTolerances(ksp, &rtol, nullptr, nullptr, nullptr));
  }
  return rtol;
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
