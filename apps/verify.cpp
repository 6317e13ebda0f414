// apps/verify.cpp — the verification cases and the `fpflow verify` subcommand (see verify.hpp).
#include "apps/verify.hpp"

#include "apps/driver.hpp"
#include "core/options.hpp"
#include "core/signals.hpp"
#include "io/output.hpp"
#include "verification/compare.hpp"
#include "verification/flow_particles.hpp"
#include "verification/particles.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#ifndef FPFLOW_SOURCE_DIR
#define FPFLOW_SOURCE_DIR "."
#endif

namespace fpflow {

namespace {

enum class Start { initial, grid_cells, stationary };
enum class Stepper { exact, euler_maruyama, rk4 };

// One verification case. The grid side is an ordinary fpflow run with `args`; the particles
// integrate the same problem object.
struct Case {
  std::string name, what;
  std::string args;          // fpflow options of the grid runs (not the grid size)
  std::array<int, 3> cells;  // coarse grid; the fine grid doubles every axis
  std::array<int, 3> bins;   // comparison bins per axis (blocks of whole cells)
  Start start = Start::initial;
  Stepper stepper = Stepper::exact;
  double t_final = 1;        // of the particles (and of the grid unless it solves -steady)
  int steps = 8;             // particle steps
  bool gaussian = true;      // law Gaussian: W1 gates
  bool fault_sensitive = true;  // must fail under -inject_fault
  double particle_share = 1;    // fraction of -particles this case uses
  // Probability-flow case: also the pflow scheme on the grid, and particles moved by the grid's
  // probability-flow velocity (RK4, carrying log rho) besides the SDE particles.
  bool pf = false;
  int ode_steps = 100;     // probability-flow ODE steps (each spans whole grid steps)
  double ode_share = 0.25;  // PF-ODE particles, as a fraction of the case's particles
};

// A tilted, anisotropic OU with correlated noise (non-symmetric B, full diffusion tensor).
const char* kOU2 = "-problem ou -dim 2 -ou_B 1,0.5,-0.5,1 -ou_G 1,0,0.5,0.8 ";

std::vector<Case> all_cases() {
  std::vector<Case> c;
  c.push_back({"heat-1d", "heat equation from N(0.3, 0.25), exact Gaussian transitions",
               "-problem heat -dim 1 -heat_mean 0.3 -ts_max_time 0.25", {256, 1, 1}, {64, 1, 1},
               Start::initial, Stepper::exact, 0.25, 4});
  c.push_back({"ou-1d", "OU transient from N(1, 0.1), exact transitions",
               "-problem ou -dim 1 -ou_mean0 1 -ou_var0 0.1 -ts_max_time 1", {256, 1, 1},
               {64, 1, 1}, Start::initial, Stepper::exact, 1.0, 8});
  {
    // The piecewise-constant start is not Gaussian, so no W1 gate (its concentration term
    // assumes a Gaussian law).
    Case g{"ou-1d-grid-start", "OU transient, particles drawn from the grid's initial cell masses",
           "-problem ou -dim 1 -ou_mean0 1 -ou_var0 0.1 -ts_max_time 1", {256, 1, 1}, {64, 1, 1},
           Start::grid_cells, Stepper::exact, 1.0, 8};
    g.gaussian = false;
    c.push_back(g);
  }
  c.push_back({"ou-1d-em", "OU transient with Euler-Maruyama particles (bias from dt-doubling)",
               "-problem ou -dim 1 -ou_mean0 1 -ou_var0 0.1 -ts_max_time 1", {256, 1, 1},
               {64, 1, 1}, Start::initial, Stepper::euler_maruyama, 1.0, 200});
  c.push_back({"ou-2d", "2-D OU, non-symmetric B, correlated noise (cross diffusion), transient",
               std::string(kOU2) + "-ou_mean0 1,-0.5 -ou_var0 0.1 -ts_max_time 1", {128, 128, 1},
               {32, 32, 1}, Start::initial, Stepper::exact, 1.0, 8});
  c.push_back({"ou-stationary-2d", "2-D OU stationary law (-steady) against exact stationary samples",
               std::string(kOU2) + "-steady", {128, 128, 1}, {32, 32, 1}, Start::stationary,
               Stepper::exact, 3.0, 12});
  c.push_back({"absorbing-heat-1d", "heat between absorbing walls: absorbed mass vs killed fraction",
               "-problem heat -dim 1 -bc absorbing -box_lo -1 -box_hi 1 -heat_mean 0.2 "
               "-heat_sigma0 0.3 -ts_max_time 0.5",
               {256, 1, 1}, {32, 1, 1}, Start::initial, Stepper::exact, 0.5, 50});
  c.push_back({"first-passage-heat-1d", "heat absorbed at 0 and reflected at 1 (first passage, "
               "walls per side): absorbed mass vs killed fraction",
               "-problem heat -dim 1 -bc absorbing:reflecting -box_lo 0 -box_hi 1 -heat_mean 0.3 "
               "-heat_sigma0 0.15 -ts_max_time 0.4",
               {256, 1, 1}, {32, 1, 1}, Start::initial, Stepper::exact, 0.4, 50});
  {
    Case r{"continuity-rotation-2d", "continuity equation, rigid rotation (a = 0, MUSCL): grid vs RK4 particles",
           "-problem ou -dim 2 -ou_B 0,-1,1,0 -ou_sigma 0 -ou_mean0 1.5,0 -ou_var0 0.1 "
           "-ts_max_time 1.5707963267948966 -fp_scheme muscl",
           {128, 128, 1}, {32, 32, 1}, Start::initial, Stepper::rk4, 1.5707963267948966, 64};
    r.fault_sensitive = false;  // no diffusion to perturb
    c.push_back(r);
    Case k{"continuity-compressible-1d", "continuity equation, v = sin x (compressive): grid vs RK4 "
           "particles drawn from the grid's initial cells",
           "-problem custom -dim 1 -box_lo 0 -box_hi 3.141592653589793 -custom_drift_x sin(x) "
           "-custom_diffusion_x 0 -custom_initial exp(-(x-_pi/2)^2/0.18) -ts_max_time 0.5 "
           "-fp_scheme muscl",
           {256, 1, 1}, {64, 1, 1}, Start::grid_cells, Stepper::rk4, 0.5, 64};
    k.gaussian = false;
    k.fault_sensitive = false;
    c.push_back(k);
    Case p{"pf-ou-1d", "probability flow, OU: FP grid, pflow grid, PF-ODE particles on the grid "
           "velocity (with log rho), SDE particles, exact law",
           "-problem ou -dim 1 -ou_mean0 1 -ou_var0 0.1 -ts_max_time 1", {256, 1, 1}, {64, 1, 1},
           Start::initial, Stepper::exact, 1.0, 8};
    p.pf = true;
    c.push_back(p);
    Case q{"pf-gmm-1d", "probability flow, Langevin on a Gaussian mixture from N(0, 1) (non-Gaussian): "
           "FP grid, pflow grid, PF-ODE particles, EM particles",
           "-problem langevin-gmm -dim 1 -ts_max_time 1", {256, 1, 1}, {64, 1, 1}, Start::initial,
           Stepper::euler_maruyama, 1.0, 200};
    q.pf = true;
    q.gaussian = false;
    q.particle_share = 0.25;
    c.push_back(q);
  }
  {
    Case g{"langevin-gmm-2d", "Langevin on a 5-mode Gaussian mixture: -steady against EM from exact samples",
           "-problem langevin-gmm -dim 2 -steady", {128, 128, 1}, {32, 32, 1}, Start::stationary,
           Stepper::euler_maruyama, 0.5, 100};
    g.gaussian = false;
    // A 5% diffusion error moves each narrow mode by ~2.5% of its width: below what 2.5e5
    // particles resolve, so this case checks agreement only (the OU cases carry the power).
    g.fault_sensitive = false;
    g.particle_share = 0.25;
    c.push_back(g);
  }
  return c;
}

struct Settings {
  std::string output = "verify-out";
  std::vector<std::string> cases;
  double particles = 1e6, delta = 1e-6, fault = 1.05;
  std::uint32_t seed = 1;
  bool inject_fault = false, plot = true, list = false;
  std::string fault_kind = "diffusion";
  std::string plot_script;
};

Settings read_settings(MPI_Comm comm, const std::vector<Case>& cases) {
  Settings s;
  OptionsBlock opt(comm, nullptr, "fpflow verify: grid against particles");
  std::vector<std::string> names;
  for (const auto& c : cases) names.push_back(c.name);
  s.cases = opt.strings("-case", "Cases to run (comma-separated; default all; -list shows them)",
                        names, 64);
  s.list = opt.flag("-list", "List the cases and exit", false);
  s.output = opt.string("-output", "Output directory (verify.json, plots, grid runs)", s.output);
  s.particles = double(opt.integer("-particles", "Particles per case (full-share cases)", 1000000));
  s.seed = std::uint32_t(opt.integer("-seed", "Random seed (Philox key)", 1, 0, PETSC_MAX_INT));
  s.delta = opt.real("-delta", "False-alarm probability of each gate", s.delta);
  s.inject_fault = opt.flag("-inject_fault",
                            "Power check: the particles see the diffusion times -fault_scale", false);
  s.fault = opt.real("-fault_scale", "Factor of -inject_fault", s.fault);
  s.fault_kind = opt.choice("-fault_kind", "What -inject_fault scales in the particles: the "
                            "diffusion a or the drift b", {"diffusion", "drift"}, "diffusion");
  s.plot = opt.flag("-plot", "Draw PNG plots with the plotting script (needs numpy, matplotlib)", true);
  s.plot_script = opt.string("-plot_script", "Plotting script",
                             std::string(FPFLOW_SOURCE_DIR) + "/tools/plot_verify.py");
  for (const auto& n : s.cases)
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      std::string all;
      for (const auto& m : names) all += (all.empty() ? "" : ", ") + m;
      throw Error("unknown verification case '" + n + "'; valid: " + all);
    }
  // The moment gates use a normal approximation (z SE): keep N where it holds.
  if (!(s.particles >= 10000)) throw Error("-particles must be at least 10000");
  if (!(s.delta > 0 && s.delta < 0.5)) throw Error("-delta must be in (0, 0.5)");
  if (!(s.fault > 0)) throw Error("-fault_scale must be positive");
  return s;
}

const char* stepper_name(Stepper s) {
  return s == Stepper::exact ? "exact" : s == Stepper::rk4 ? "rk4 (ODE)" : "euler-maruyama";
}

std::string grid_size_args(const Case& c, int refine) {
  std::ostringstream a;
  const char* ax = "xyz";
  for (int d = 0; d < 3 && c.cells[d] > 1; ++d) a << " -da_grid_" << ax[d] << " " << c.cells[d] * refine;
  return a.str();
}

struct CaseResult {
  std::vector<compare::Gate> gates;
  nlohmann::json info;
};

// DIR/<case>/compare.json for tools/plot_verify.py (rank 0 writes; errors reach every rank).
void write_plot_data(MPI_Comm comm, const std::string& dir, const std::string& name,
                     const std::string& what, const compare::GridSide& grid,
                     const compare::ParticleSide& particles) {
  std::string err;
  if (comm_rank(comm) == 0) {
    nlohmann::json plot = compare::plot_data(grid, particles);
    plot["case"] = name;
    plot["what"] = what;
    try {
      write_file_atomic(dir + "/compare.json", plot.dump() + "\n");
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm, err);
}

// Evolves the particles of `c` with the problem of `sim` (before sim.run(): its vector still
// holds the initial data, which Start::grid_cells samples).
std::unique_ptr<Ensemble> run_particles(MPI_Comm comm, const Case& c, const Settings& s,
                                        Simulation& sim, std::uint32_t block) {
  const Problem& pb = sim.problem();
  const int dim = sim.grid().dim();
  auto e = std::make_unique<Ensemble>(comm, dim, std::uint64_t(s.particles * c.particle_share),
                                      s.seed);
  e->set_walls(sim.grid());
  if (s.inject_fault && s.fault_kind == "diffusion") e->set_diffusion_scale(s.fault);
  if (s.inject_fault && s.fault_kind == "drift") e->set_drift_scale(s.fault);
  switch (c.start) {
    case Start::initial: {
      const auto law = pb.initial_mixture();
      if (law.empty()) e->sample_cells(sim.grid(), sim.solution());
      else e->sample_mixture(law);
      break;
    }
    case Start::grid_cells:
      e->sample_cells(sim.grid(), sim.solution());
      break;
    case Start::stationary: {
      const auto law = pb.stationary_mixture();
      if (law.empty()) throw Error("case " + c.name + ": the problem has no exact stationary law");
      e->sample_mixture(law);
      break;
    }
  }
  LinearSDE sde;
  const bool exact = c.stepper == Stepper::exact && pb.linear_sde(&sde);
  if (c.stepper == Stepper::exact && !exact)
    throw Error("case " + c.name + ": exact transitions need a linear SDE");
  if (c.steps % int(block) != 0)
    throw Error("case " + c.name + ": " + std::to_string(c.steps) + " steps do not split into " +
                "blocks of " + std::to_string(block));
  const int steps = c.steps / int(block);
  const double dt = c.t_final / steps;
  for (int k = 0; k < steps; ++k) {
    if (exact) e->step_linear_exact(sde, k * dt, dt, std::uint32_t(k));
    else if (c.stepper == Stepper::rk4) e->step_rk4(pb, k * dt, dt);
    else e->step_euler_maruyama(pb, k * dt, dt, std::uint32_t(k), block);
  }
  return e;
}

CaseResult run_case(MPI_Comm comm, const Case& c, const Settings& s) {
  const std::string dir = s.output + "/" + c.name;
  const double wall0 = MPI_Wtime();
  compare::GridSide side[2];
  nlohmann::json runs = nlohmann::json::array();
  std::unique_ptr<Ensemble> particles, coarse_dt;
  for (int level = 0; level < 2; ++level) {
    const std::string args = c.args + grid_size_args(c, 1 << level) +
                             " -vtk 0 -progress_seconds -1 -output " + dir + "/grid-" +
                             (level ? "fine" : "coarse");
    ScopedOptions opts(args);
    Simulation sim(comm);
    if (level == 1) {
      // The particles use the fine run's problem (and, for Start::grid_cells, its initial data).
      particles = run_particles(comm, c, s, sim, 1);
      if (c.stepper == Stepper::euler_maruyama) coarse_dt = run_particles(comm, c, s, sim, 2);
    }
    const nlohmann::json summary = sim.run().to_json();
    side[level] = compare::reduce_grid(sim.grid(), sim.solution(), c.bins,
                                       summary["absorbed_mass"].get<double>());
    nlohmann::json r = {{"cells", summary["cells"]}, {"args", args}};
    if (summary.contains("error")) r["error_vs_exact"] = summary["error"];
    runs.push_back(r);
  }
  const compare::ParticleSide p = compare::reduce_particles(*particles, side[1]);
  std::unique_ptr<compare::ParticleSide> pdt;
  if (coarse_dt)
    pdt = std::make_unique<compare::ParticleSide>(compare::reduce_particles(*coarse_dt, side[1]));
  compare::Budget budget;
  budget.delta = s.delta;
  budget.gaussian = c.gaussian && !side[1].absorbing;
  budget.marginals = !side[1].absorbing;
  budget.bias_note = "exact transition" + std::string(side[1].absorbing ? " + Brownian-bridge exits" : "");
  CaseResult res;
  res.gates = compare::gates(comm, side[0], side[1], p, pdt.get(), budget);
  res.info = {{"what", c.what},
              {"grid_runs", runs},
              {"particles", p.n},
              {"particle_steps", c.steps},
              {"particle_stepper", stepper_name(c.stepper)},
              {"t_final", c.t_final},
              {"fault_sensitive", c.fault_sensitive},
              {"wall_seconds", MPI_Wtime() - wall0}};
  write_plot_data(comm, dir, c.name, c.what, side[1], p);
  return res;
}

// L1 distance of two grid densities reduced on the same bins (the coarse grid's cells): a
// Richardson pair compares cell averages on the coarse lattice, where both are second order.
double bin_l1(const compare::GridSide& a, const compare::GridSide& b) {
  double l1 = 0;
  for (std::size_t k = 0; k < a.block_mass.size(); ++k) l1 += std::fabs(a.block_mass[k] - b.block_mass[k]);
  return l1;
}

std::array<int, 3> cells_of(const Case& c, int refine) {
  return {c.cells[0] * (c.cells[0] > 1 ? refine : 1), c.cells[1] * (c.cells[1] > 1 ? refine : 1),
          c.cells[2] * (c.cells[2] > 1 ? refine : 1)};
}

compare::Gate make_gate(std::string metric, double value, nlohmann::json parts) {
  compare::Gate g;
  g.metric = std::move(metric);
  g.value = value;
  g.threshold = parts["statistical"].get<double>() + parts["grid"].get<double>() +
                parts["time_step"].get<double>();
  g.parts = std::move(parts);
  return g;
}

// The probability-flow case (issue 5): five views of one density, compared pairwise.
//  (a) the Fokker-Planck grid (SG), at h and h/2;  (b) the pflow grid (continuity equation with
//  its own probability-flow velocity), at h and h/2;  (c) particles moved by (a)'s velocity
//  field (RK4 between step snapshots, log rho carried along), once per grid;  (d) SDE particles;
//  (e) the exact law, when the problem has one.
CaseResult run_pf_case(MPI_Comm comm, const Case& c, const Settings& s) {
  const std::string dir = s.output + "/" + c.name;
  const double wall0 = MPI_Wtime();
  compare::GridSide binned[2], sg_cells[2], pf_cells[2];
  std::unique_ptr<Ensemble> ode[2], sde, sde_2dt;
  double log_err[2] = {0, 0}, exact_l1 = -1;
  for (int level = 0; level < 2; ++level) {
    const std::string grid_args = c.args + grid_size_args(c, 1 << level) +
                                  " -vtk 0 -progress_seconds -1 -output " + dir + "/";
    const std::string tag = level ? "fine" : "coarse";
    {
      ScopedOptions opts(grid_args + "grid-sg-" + tag + " -fp_scheme sg");
      Simulation sim(comm);
      const Problem& pb = sim.problem();
      // Its own seed: the two-sample gate against the SDE particles needs independent samples.
      auto e = std::make_unique<Ensemble>(
          comm, sim.grid().dim(), std::uint64_t(s.particles * c.particle_share * c.ode_share),
          s.seed ^ 0x9e3779b9u);
      e->set_walls(sim.grid());
      const auto law = pb.initial_mixture();
      if (law.empty()) e->sample_cells(sim.grid(), sim.solution());
      else e->sample_mixture(law);
      e->set_log_density([&](const double* x) { return std::log(pb.initial_density(x)); });
      FlowSnapshot snap[2];
      int cur = 0;
      snap[0].capture(sim.op(), 0.0, sim.solution());
      // The ODE steps span several grid steps (c.steps of them over the run, plus the last
      // piece): velocity linear in time between the two snapshots, RK4 in between.
      // Twice the steps on the fine grid: the snapshots' time interpolation error (second order)
      // then shrinks with h, as the Richardson gates assume.
      const double ode_dt = c.t_final / (c.ode_steps << level);
      sim.on_step([&](PetscInt, double t, Vec rho) {
        if (!(t > snap[cur].time())) return;  // t = 0, or a step reported again after rollback
        if (t < snap[cur].time() + ode_dt * (1 - 1e-9) && t < c.t_final * (1 - 1e-12)) return;
        snap[1 - cur].capture(sim.op(), t, rho);
        e->step_flow_rk4(FlowBetween(snap[cur], snap[1 - cur]), snap[cur].time(),
                         t - snap[cur].time());
        cur = 1 - cur;
      });
      if (level == 1) {
        sde = run_particles(comm, c, s, sim, 1);
        if (c.stepper == Stepper::euler_maruyama) sde_2dt = run_particles(comm, c, s, sim, 2);
      }
      const nlohmann::json summary = sim.run().to_json();
      log_err[level] = log_density_mismatch(*e, snap[cur]);
      binned[level] = compare::reduce_grid(sim.grid(), sim.solution(), c.bins, 0.0);
      sg_cells[level] = compare::reduce_grid(sim.grid(), sim.solution(), cells_of(c, 1), 0.0);
      if (level == 1 && summary.contains("error")) exact_l1 = summary["error"]["L1"].get<double>();
      ode[level] = std::move(e);
    }
    {
      ScopedOptions opts(grid_args + "grid-pflow-" + tag + " -fp_scheme pflow");
      Simulation sim(comm);
      sim.run();
      pf_cells[level] = compare::reduce_grid(sim.grid(), sim.solution(), cells_of(c, 1), 0.0);
    }
  }
  CaseResult res;
  compare::Budget budget;
  budget.delta = s.delta;
  budget.gaussian = c.gaussian;
  // (c) against (a): the time-step part is the distance to the same particles moved by the
  // coarse grid's velocity (the velocity field's own error, by the refinement pair).
  const auto pc = compare::reduce_particles(*ode[1], binned[1]);
  const auto pcc = compare::reduce_particles(*ode[0], binned[1]);
  budget.pair_note = "PF-ODE particles on the coarse grid's velocity (same initial points)";
  for (auto g : compare::gates(comm, binned[0], binned[1], pc, &pcc, budget)) {
    g.metric = "ode:" + g.metric;
    res.gates.push_back(g);
  }
  // (d) against (a).
  const auto pd = compare::reduce_particles(*sde, binned[1]);
  std::unique_ptr<compare::ParticleSide> pd2;
  if (sde_2dt) pd2 = std::make_unique<compare::ParticleSide>(compare::reduce_particles(*sde_2dt, binned[1]));
  budget.pair_note = "Euler-Maruyama at 2 dt on the same paths";
  for (auto g : compare::gates(comm, binned[0], binned[1], pd, pd2.get(), budget)) {
    g.metric = "sde:" + g.metric;
    res.gates.push_back(g);
  }
  // (c) against (d), particles against particles: two-sample KS per axis (DKW for two samples,
  // sqrt(ln(2/delta) (n + m) / (2 n m))), plus both sides' own bias parts.
  {
    std::string err;
    nlohmann::json rows = nlohmann::json::array();
    if (comm_rank(comm) == 0) try {
      for (int d = 0; d < binned[1].dim; ++d) {
        const auto &a = pc.sorted[d], &b = pd.sorted[d];
        const double n = double(a.size()), m = double(b.size());
        const double bias = compare::ks_two_sample(a, pcc.sorted[d]) +
                            (pd2 ? compare::ks_two_sample(b, pd2->sorted[d]) : 0.0);
        rows.push_back({{"axis", d}, {"value", compare::ks_two_sample(a, b)},
                        {"statistical", std::sqrt(std::log(2 / s.delta) * (n + m) / (2 * n * m))},
                        {"time_step", bias}, {"n", n}, {"m", m}});
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    throw_if_any(comm, err);
    std::string text = rows.dump();
    int len = int(text.size());
    MPI_Bcast(&len, 1, MPI_INT, 0, comm);
    text.resize(len);
    MPI_Bcast(text.data(), len, MPI_CHAR, 0, comm);
    for (const auto& r : nlohmann::json::parse(text))
      res.gates.push_back(make_gate(
          std::string("ode-vs-sde:KS_") + "xyz"[r["axis"].get<int>()], r["value"].get<double>(),
          {{"statistical", r["statistical"]}, {"grid", 0.0}, {"time_step", r["time_step"]},
           {"n", r["n"]}, {"m", r["m"]}, {"delta", s.delta},
           {"time_step_from", "each side against its pair (coarse-grid velocity; EM at 2 dt)"}}));
  }
  // (b) against (a): both grid errors by Richardson, (4/3) ||rho_h - rho_h/2||_1 each.
  // Both on the coarse grid's cells (fine masses summed into them).
  const double d_sg = bin_l1(sg_cells[1], sg_cells[0]), d_pf = bin_l1(pf_cells[1], pf_cells[0]);
  res.gates.push_back(make_gate("pflow-vs-sg", bin_l1(sg_cells[1], pf_cells[1]),
                                {{"statistical", 0.0},
                                 {"grid", 4.0 / 3.0 * (d_sg + d_pf)},
                                 {"time_step", 0.0},
                                 {"sg_pair_distance", d_sg},
                                 {"pflow_pair_distance", d_pf}}));
  // (e) against (a): the grid's L1 error, bounded by its Richardson estimate.
  if (exact_l1 >= 0)
    res.gates.push_back(make_gate("sg-vs-exact", exact_l1,
                                  {{"statistical", 0.0}, {"grid", 4.0 / 3.0 * d_sg}, {"time_step", 0.0},
                                   {"sg_pair_distance", d_sg}}));
  // Log-density along the PF-ODE paths against the grid's log rho at the end points: the
  // mismatch is second order, so the fine one is bounded by (4/3) (coarse - fine).
  res.gates.push_back(make_gate("ode:log-density", log_err[1],
                                {{"statistical", 0.0},
                                 {"grid", 4.0 / 3.0 * std::fabs(log_err[0] - log_err[1]) + 1e-12},
                                 {"time_step", 0.0},
                                 {"coarse", log_err[0]},
                                 {"fine", log_err[1]},
                                 {"over", "particles where rho > 1e-3 max rho"}}));
  res.info = {{"what", c.what},
              {"particles", pd.n},
              {"particle_steps", c.steps},
              {"particle_stepper", stepper_name(c.stepper)},
              {"ode_particles", pc.n},
              {"t_final", c.t_final},
              {"fault_sensitive", c.fault_sensitive},
              {"wall_seconds", MPI_Wtime() - wall0}};
  write_plot_data(comm, dir, c.name, c.what + " (PF-ODE particles shown)", binned[1], pc);
  return res;
}

}  // namespace

int run_verify(MPI_Comm comm) {
  register_builtin_problems();
  const auto cases = all_cases();
  const Settings s = read_settings(comm, cases);
  const bool root = comm_rank(comm) == 0;
  if (option_given("-help")) return 0;
  if (s.list) {
    if (root)
      for (const auto& c : cases) std::printf("%-20s %s\n", c.name.c_str(), c.what.c_str());
    return 0;
  }
  // Every option has been read: a misspelt one fails before any case runs.
  check_unused_options(comm, false);
  // The lock, and an earlier run's verify.json, plots and case data gone (io/output.hpp).
  const OutputLock lock = prepare_output_dir(comm, s.output, OutputKind::verify);
  if (root)
    std::printf("fpflow verify: %g particles per case, delta = %g per gate, seed %u%s\n",
                s.particles, s.delta, s.seed,
                s.inject_fault ? (", FAULT INJECTED (particle " + s.fault_kind + " x " +
                                  std::to_string(s.fault) + ")").c_str() : "");
  nlohmann::json rows = nlohmann::json::array(), info;
  bool all_pass = true;
  if (root)
    std::printf("%-26s %-15s %11s %11s  %-4s  %s\n", "case", "metric", "value", "threshold",
                "pass", "threshold = statistical + grid + time step  (N, K)");
  for (const auto& c : cases) {
    if (std::find(s.cases.begin(), s.cases.end(), c.name) == s.cases.end()) continue;
    if (stop_requested(comm)) throw Interrupted("verify stopped before case " + c.name);
    CaseResult r;
    try {
      r = c.pf ? run_pf_case(comm, c, s) : run_case(comm, c, s);
    } catch (const Interrupted&) {
      throw Interrupted("verify stopped during case " + c.name);
    } catch (const std::exception& e) {
      write_status_record(comm, s.output, "verify.json", "failed",
                          {{"all_pass", false}, {"cases", rows},
                           {"error", "case " + c.name + ": " + e.what()}});
      throw Error("case " + c.name + ": " + e.what());
    }
    bool pass = true;
    for (const auto& g : r.gates) {
      pass = pass && g.pass();
      rows.push_back({{"name", c.name}, {"metric", g.metric}, {"value", g.value},
                      {"threshold", g.threshold}, {"pass", g.pass()}, {"parts", g.parts}});
      if (root) {
        const auto& q = g.parts;
        std::string counts;
        if (q.contains("N")) counts = "  (N=" + std::to_string(q["N"].get<long long>()) +
                                      (q.contains("K") ? ", K=" + std::to_string(q["K"].get<long long>()) : "") + ")";
        std::printf("%-26s %-15s %11.4e %11.4e  %-4s  %.3e + %.3e + %.3e%s\n", c.name.c_str(),
                    g.metric.c_str(), g.value, g.threshold, g.pass() ? "yes" : "NO",
                    q["statistical"].get<double>(), q["grid"].get<double>(),
                    q["time_step"].get<double>(), counts.c_str());
      }
    }
    info[c.name] = r.info;
    info[c.name]["pass"] = pass;
    all_pass = all_pass && pass;
    if (root) std::fflush(stdout);
  }
  std::string err;
  if (root) {
    nlohmann::json j = {{"status", "ok"},
                        {"cases", rows},
                        {"all_pass", all_pass},
                        {"case_info", info},
                        {"particles", s.particles},
                        {"delta", s.delta},
                        {"seed", s.seed},
                        {"fault_injected", s.inject_fault},
                        {"fault_kind", s.fault_kind},
                        {"fault_scale", s.inject_fault ? s.fault : 1.0},
                        {"ranks", comm_size(comm)}};
    try {
      write_file_atomic(s.output + "/verify.json", j.dump(2) + "\n");
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm, err);
  if (root) {
    std::printf("fpflow verify: %s; results in %s/verify.json\n",
                all_pass ? "all cases pass" : "SOME CASES FAIL", s.output.c_str());
    if (s.plot) {
      const std::string cmd = "/usr/bin/python3 '" + s.plot_script + "' '" + s.output + "'";
      if (std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "fpflow verify: warning: plotting failed (%s)\n", cmd.c_str());
    }
  }
  return all_pass ? 0 : 2;
}

}  // namespace fpflow
