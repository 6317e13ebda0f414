// apps/run_config.hpp — everything a run takes from the options database, read and validated in
// one place.
//
// A run's options are read in two steps because a problem's defaults (box, walls, final time)
// shape the rest: read_problem_choice() reads -problem and -dim; the problem then reads its own
// options (-<name>_*); read_run_config() reads the grid, scheme, time-stepping and output options
// against the problem's defaults and checks every compatibility rule (compatibility_rules(), one
// entry per rule, each with the message a user sees). The same RunConfig, resolved against the
// grid and the stepper, is what options.txt records (options_text), so a rerun from options.txt
// reads back the run it describes.
#pragma once

#include "mesh/grid.hpp"
#include "operators/fp_operator.hpp"
#include "problems/problem.hpp"
#include "solvers/steady_state.hpp"
#include "solvers/time_stepper.hpp"

#include <functional>
#include <string>
#include <vector>

namespace fpflow {

struct ProblemChoice {
  std::string name = "ou";
  int dim = 2;
};
// Reads -problem and -dim (registers the built-in problems first).
ProblemChoice read_problem_choice(MPI_Comm comm);

struct OutputConfig {
  std::string dir = "fpflow-out";
  bool vtk = true;
  std::string compressor = "lz4";
  bool flow_fields = true;   // score, velocity, divergence and mask in every frame
  double pf_floor = 1e-12;   // density floor of the flow fields, relative to max rho
  PetscInt every = 0;        // a frame every N steps (0: about 10 frames per run)
};

// How the run integrates in time, predicted from -ts_type before TS exists (the stepper decides
// the same way: solvers/time_stepper.hpp).
enum class RunMode { explicit_steps, implicit_steps, imex_steps, steady };
std::string to_string(RunMode m);

struct RunConfig {
  ProblemChoice problem;
  GridSpec grid;  // cells, box and walls (footprint and stencil filled by the builder)
  Scheme scheme = Scheme::sg;
  kernels::Limiter limiter = kernels::Limiter::vanleer;
  CrossMode cross = CrossMode::limited;
  StepperOptions stepper;  // t_final: the problem's default until TS has read -ts_max_time
  SteadyOptions steady_options;
  OutputConfig output;
  RunMode mode = RunMode::explicit_steps;
  std::string ts_type = "rk";   // as given (rk when not)
  std::string pc_type;          // as given ("" when not)
  bool dt_given = false;        // -ts_dt pinned by the user
  bool max_steps_given = false; // a user's -ts_max_steps may end a run early
  bool diagonal_diffusion = true;
  bool help_only = false;       // -help: list options, run nothing

  bool steady() const { return mode == RunMode::steady; }
  bool explicit_steps() const { return mode == RunMode::explicit_steps; }
};

// Reads every run option against `problem`'s defaults and checks the compatibility rules.
RunConfig read_run_config(MPI_Comm comm, const ProblemChoice& choice, const Problem& problem);

// A compatibility rule between choices (scheme x mode x walls x problem): `broken` says whether a
// configuration breaks it, `message` what the user is told (one line).
struct CompatibilityRule {
  const char* name;
  std::function<bool(const RunConfig&)> broken;
  std::function<std::string(const RunConfig&)> message;
};
const std::vector<CompatibilityRule>& compatibility_rules();
// Throws Error with the message of the first rule `config` breaks.
void check_compatibility(const RunConfig& config);

// What options.txt records: the run as resolved (grid cells, box, walls, scheme, time span) and
// every other option given, verbatim. `steps` describes the stepper, null for -steady.
struct ResolvedSteps {
  std::string ts_type;
  double dt_initial = 0, t_final = 0;
};
std::string options_text(const RunConfig& config, const Grid& grid, const ResolvedSteps* steps);

}  // namespace fpflow
