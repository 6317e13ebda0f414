// apps/run_config.cpp — reading, checking and recording a run's options (run_config.hpp).
#include "apps/run_config.hpp"

#include "core/input_checks.hpp"
#include "core/options.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace fpflow {

namespace {

// An option's text as given (PETSc's database), or `def`; used before the option's own block
// reads it strictly, so a malformed value is reported there.
std::string given_text(const char* name, const std::string& def) {
  const char* value = nullptr;
  PetscBool found = PETSC_FALSE;
  FP_CHECK(PetscOptionsFindPair(nullptr, nullptr, name, &value, &found));
  return found ? (value ? value : "") : def;
}

// -steady may be given as a bare flag or with a value (-steady false).
bool steady_requested() {
  if (!option_given("-steady")) return false;
  std::string v = given_text("-steady", "");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v.empty() || v == "1" || v == "true" || v == "yes" || v == "on";
}

RunMode predicted_mode(const std::string& ts_type) {
  if (steady_requested()) return RunMode::steady;
  if (is_explicit_ts_type(ts_type)) return RunMode::explicit_steps;
  const std::string fully = given_text("-ts_arkimex_fully_implicit", "false");
  const bool fully_implicit = fully.empty() || fully == "1" || fully == "true" || fully == "yes";
  return ts_type == "arkimex" && !fully_implicit ? RunMode::imex_steps : RunMode::implicit_steps;
}

std::array<PetscInt, 3> default_cells(int dim) {
  return dim == 1 ? std::array<PetscInt, 3>{256, 1, 1}
         : dim == 2 ? std::array<PetscInt, 3>{128, 128, 1}
                    : std::array<PetscInt, 3>{48, 48, 48};
}

void read_box(OptionsBlock& opt, const Problem& problem, int dim, Box& box) {
  const Box def = problem.default_box();
  auto lo = per_axis(opt.reals("-box_lo", "Box lower corner (one value or one per axis)",
                               {def.lo.begin(), def.lo.begin() + dim}, 3), dim, "-box_lo");
  auto hi = per_axis(opt.reals("-box_hi", "Box upper corner (one value or one per axis)",
                               {def.hi.begin(), def.hi.begin() + dim}, 3), dim, "-box_hi");
  for (int d = 0; d < 3; ++d) box.lo[d] = lo[d], box.hi[d] = hi[d];
}

void read_walls(OptionsBlock& opt, const Problem& problem, int dim, Boundaries& walls) {
  std::vector<std::string> def;
  for (int d = 0; d < dim; ++d) def.push_back(to_string(problem.default_bc()[d]));
  auto bc = opt.strings("-bc", "Walls per axis, one value for every axis or one per axis: KIND "
                        "(both sides) or LO:HI, KIND = reflecting, absorbing, periodic "
                        "(periodic joins both sides)", def, 3);
  if (bc.size() != 1 && int(bc.size()) != dim)
    throw Error("-bc takes one value for every axis or one per axis (" + std::to_string(dim) +
                " in " + std::to_string(dim) + "-D), got " + std::to_string(bc.size()));
  for (int d = 0; d < dim; ++d) {
    try {
      walls[d] = parse_axis_boundary(bc[std::min<size_t>(d, bc.size() - 1)]);
    } catch (const Error& e) {
      throw Error(std::string("-bc: ") + e.what());
    }
  }
}

// TEMPORARY until the scheme table lands: names and help of -fp_scheme.
std::vector<std::string> scheme_names() { return {"sghr", "sg", "muscl", "upwind", "pflow"}; }
std::string scheme_help() {
  return "Face-flux scheme: sghr = Scharfetter-Gummel with a limited high-resolution correction "
         "(second order at any cell Peclet number, exact Gibbs states; the default for explicit "
         "time stepping), sg = Scharfetter-Gummel (linear; the default for implicit, IMEX and "
         "-steady runs), muscl = limited MUSCL drift + central diffusion, upwind = first order, "
         "pflow = continuity equation with the probability-flow velocity of the density itself";
}

// The default scheme follows the time stepping: explicit steps are cheap and short, so the
// second-order-everywhere sghr costs little; implicit steps with its nonlinear correction take
// 2-3x the Newton iterations for an error dominated by the time step (docs/CONVERGENCE.md), so
// implicit, IMEX and steady runs default to the linear sg.
void read_scheme(OptionsBlock& opt, RunConfig& c) {
  c.scheme = parse_scheme(opt.choice("-fp_scheme", scheme_help().c_str(), scheme_names(),
                                     c.explicit_steps() ? "sghr" : "sg"));
  c.limiter = parse_limiter(opt.choice("-fp_limiter", "MUSCL slope limiter",
                                       {"vanleer", "minmod", "mc"}, "vanleer"));
  c.cross = parse_cross(opt.choice("-fp_cross",
                                   "Cross-diffusion stencil: limited (signed 7/19-point stencil "
                                   "with positivity-limited fluxes: rho >= 0 for any PSD tensor), "
                                   "monotone (the same stencil unlimited: positive only when "
                                   "|a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j)) or average "
                                   "(9/19-point)",
                                   {"limited", "monotone", "average"}, "limited"));
}

void read_stepping(OptionsBlock& opt, RunConfig& c, const Problem& problem) {
  StepperOptions& so = c.stepper;
  so.cfl = opt.real("-fp_cfl", "Default step as a fraction of the positivity bound", 0.9);
  so.fused = opt.flag("-fp_fused", "Run -ts_type euler as fpflow's fused one-pass step when "
                      "the scheme is linear and the coefficients do not depend on t", true);
  if (!(so.cfl > 0)) throw Error("-fp_cfl must be positive");
  opt.flag("-steady", "Compute the stationary law directly (no time stepping)", false);
  so.until_stationary = opt.real("-until_stationary",
                                 "Time mode: stop once ||L rho||_1 <= TOL max_rate ||rho||_1", 0);
  if (so.until_stationary < 0) throw Error("-until_stationary must be >= 0 (0: off)");
  so.progress_seconds = opt.real("-progress_seconds",
                                 "Seconds between progress lines (0: every step, <0: none)", 2.0);
  so.t_final = problem.default_t_final();
}

void read_output(OptionsBlock& opt, OutputConfig& o) {
  o.dir = opt.string("-output", "Output directory (summary.json, options.txt, VTK series)", o.dir);
  o.vtk = opt.flag("-vtk", "Write the VTK time series (fpflow.pvd)", true);
  o.compressor = opt.choice("-vtk_compressor", "Compression of the VTK frames: lz4 (fast), "
                            "zlib (smaller, slower) or none", {"lz4", "zlib", "none"}, "lz4");
  o.flow_fields = opt.flag("-vtk_flow", "Write the probability-flow fields (score, velocity, "
                           "divergence, mask) in every VTK frame", true);
  o.pf_floor = opt.real("-pf_floor", "Density floor for log rho in the flow fields, relative to "
                        "max rho (cells below it get mask 0)", 1e-12);
  if (!(o.pf_floor > 0)) throw Error("-pf_floor must be positive");
  o.every = opt.integer("-output_every",
                        "Write a VTK frame every N steps (0: about 10 frames per run)", 0, 0,
                        PETSC_MAX_INT);
}

bool any_wall(const RunConfig& c, Boundary kind) {
  for (int d = 0; d < c.problem.dim; ++d)
    if (c.grid.bc[d].any(kind)) return true;
  return false;
}

std::string join(const double* v, int n) {
  std::ostringstream s;
  s.precision(17);
  for (int i = 0; i < n; ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

}  // namespace

std::string to_string(RunMode m) {
  switch (m) {
    case RunMode::explicit_steps: return "explicit";
    case RunMode::implicit_steps: return "implicit";
    case RunMode::imex_steps: return "imex";
    case RunMode::steady: return "steady";
  }
  return "?";
}

ProblemChoice read_problem_choice(MPI_Comm comm) {
  register_builtin_problems();
  ProblemChoice c;
  OptionsBlock opt(comm, nullptr, "fpflow: Fokker-Planck problem and grid");
  c.name = opt.choice("-problem", "Problem to solve", problem_names(), c.name);
  c.dim = int(opt.integer("-dim", "Space dimension (1, 2 or 3)", c.dim));
  if (c.dim < 1 || c.dim > 3) throw Error("-dim must be 1, 2 or 3, got " + std::to_string(c.dim));
  return c;
}

RunConfig read_run_config(MPI_Comm comm, const ProblemChoice& choice, const Problem& problem) {
  RunConfig c;
  c.problem = choice;
  c.help_only = option_given("-help");
  c.ts_type = given_text("-ts_type", "rk");
  c.pc_type = given_text("-pc_type", "");
  c.dt_given = option_given("-ts_dt");
  c.max_steps_given = option_given("-ts_max_steps");
  c.mode = predicted_mode(c.ts_type);
  c.diagonal_diffusion = problem.diagonal_diffusion();
  c.grid.dim = choice.dim;
  c.grid.cells = default_cells(choice.dim);
  {
    OptionsBlock opt(comm, nullptr, "fpflow: domain, discretization and output");
    read_box(opt, problem, choice.dim, c.grid.box);
    read_walls(opt, problem, choice.dim, c.grid.bc);
    read_scheme(opt, c);
    read_stepping(opt, c, problem);
    c.steady_options = read_steady_options(comm);
    read_output(opt, c.output);
  }
  check_compatibility(c);
  return c;
}

const std::vector<CompatibilityRule>& compatibility_rules() {
  static const std::vector<CompatibilityRule> rules = {
      {"steady-absorbing",
       [](const RunConfig& c) { return c.steady() && any_wall(c, Boundary::absorbing); },
       [](const RunConfig&) {
         return std::string("-steady: with absorbing walls all mass leaves; there is no "
                            "stationary law");
       }},
      {"steady-scheme",
       [](const RunConfig& c) {
         return c.steady() && (c.scheme == Scheme::muscl || c.scheme == Scheme::pflow);
       },
       [](const RunConfig& c) {
         return "-steady needs a linear flux scheme or sghr (-fp_scheme sg, upwind or sghr), "
                "not " + to_string(c.scheme);
       }},
      {"pflow-explicit",
       [](const RunConfig& c) {
         return c.scheme == Scheme::pflow && !c.steady() && !c.explicit_steps();
       },
       [](const RunConfig& c) {
         return "-fp_scheme pflow needs an explicit -ts_type (rk, ssp, euler); got " + c.ts_type +
                " (" + to_string(c.mode) + ")";
       }},
      {"pflow-diagonal",
       [](const RunConfig& c) { return c.scheme == Scheme::pflow && !c.diagonal_diffusion; },
       [](const RunConfig&) {
         return std::string("-fp_scheme pflow needs a diagonal diffusion matrix (no a_ij, i != j)");
       }},
      {"pflow-absorbing",
       [](const RunConfig& c) {
         return c.scheme == Scheme::pflow && any_wall(c, Boundary::absorbing);
       },
       [](const RunConfig&) {
         return std::string("-fp_scheme pflow: the probability-flow velocity is unbounded at an "
                            "absorbing wall (rho = 0 there); use reflecting or periodic boundaries");
       }},
      {"mg-1d",
       [](const RunConfig& c) { return c.problem.dim == 1 && c.pc_type == "mg"; },
       [](const RunConfig&) {
         return std::string("-pc_type mg is not available in 1-D (PETSc 3.18 has no cell-centred "
                            "1-D interpolation); 1-D systems are tridiagonal: use -pc_type lu");
       }},
  };
  return rules;
}

void check_compatibility(const RunConfig& config) {
  if (config.help_only) return;
  for (const auto& rule : compatibility_rules())
    if (rule.broken(config)) throw Error(rule.message(config));
}

std::string options_text(const RunConfig& c, const Grid& grid, const ResolvedSteps* steps) {
  std::vector<std::pair<std::string, std::string>> resolved;
  const int dim = grid.dim();
  const char* ax = "xyz";
  resolved.push_back({"-problem", c.problem.name});
  resolved.push_back({"-dim", std::to_string(dim)});
  for (int d = 0; d < dim; ++d)
    resolved.push_back({std::string("-da_grid_") + ax[d], std::to_string(grid.cells(d))});
  resolved.push_back({"-box_lo", join(grid.box().lo.data(), dim)});
  resolved.push_back({"-box_hi", join(grid.box().hi.data(), dim)});
  std::string bc;
  for (int d = 0; d < dim; ++d) bc += (d ? "," : "") + to_string(grid.boundary(d));
  resolved.push_back({"-bc", bc});
  resolved.push_back({"-fp_scheme", to_string(c.scheme)});
  resolved.push_back({"-fp_limiter", to_string(c.limiter)});
  resolved.push_back({"-fp_cross", to_string(c.cross)});
  std::ostringstream s;
  s.precision(17);
  s << "# fpflow resolved options: rerun with  fpflow -options_file options.txt\n";
  for (const auto& [name, value] : resolved) s << name << " " << value << "\n";
  // Options folded into the resolved ones (or meaningless in a file) are not copied.
  std::vector<std::string> skip = {"-help", "-options_file", "-da_refine", "-da_refine_x",
                                   "-da_refine_y", "-da_refine_z", "-ts_type", "-ts_dt",
                                   "-ts_max_time", "-da_grid_x", "-da_grid_y", "-da_grid_z"};
  for (const auto& r : resolved) skip.push_back(r.first);
  if (steps) {
    s << "-ts_type " << steps->ts_type << "\n";
    // A step fpflow chose itself is not pinned: a rerun chooses it again the same way (pinning
    // the first step of a run whose bound moves with t would change every later step).
    if (c.dt_given)
      s << "-ts_dt " << steps->dt_initial << "\n";
    else
      s << "# -ts_dt chosen by fpflow (positivity bound x -fp_cfl): first step "
        << steps->dt_initial << "\n";
    s << "-ts_max_time " << steps->t_final << "\n";
  } else {
    s << "-steady\n";
  }
  s << "# given\n";
  s << given_options_except(skip);
  return s.str();
}

}  // namespace fpflow
