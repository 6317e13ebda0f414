// apps/run_summary.cpp — RunSummary as summary.json and as fpflow's closing line.
#include "apps/run_summary.hpp"

#include <cstdio>

namespace fpflow {

namespace {

nlohmann::json norms_json(const NormReport& n) {
  nlohmann::json r = {{"L1", n.L1}, {"L2", n.L2}, {"Linf", n.Linf}, {"reference", n.reference}};
  if (!n.against.empty()) r["against"] = n.against;
  if (n.tail_mass >= 0) r["tail_mass"] = n.tail_mass;
  if (!n.valid) {
    r["valid"] = false;
    r["why"] = n.why;
  }
  return r;
}

void steps_json(const StepsReport& s, nlohmann::json& j) {
  j["ts_type"] = s.ts_type;
  if (s.mode == RunMode::explicit_steps) j["fused_euler"] = s.fused;
  j["time_stepping"] = to_string(s.mode);
  j["dt_initial"] = s.dt_initial;
  j["t_final"] = s.t_final;
  j["t_requested"] = s.t_requested;
  j["stop_reason"] = s.stop_reason;
  j["steps"] = s.steps;
  j["rejected_steps"] = s.rejected;
  if (s.projections > 0) j["positivity_projections"] = s.projections;
  if (s.steps > 0) j["dt_range"] = {s.dt_min, s.dt_max};
  if (s.mode != RunMode::explicit_steps) {
    j["linear_iterations"] = s.linear_iterations;
    j["nonlinear_iterations"] = s.nonlinear_iterations;
    j["linear_iterations_per_step"] =
        s.steps > 0 ? double(s.linear_iterations) / double(s.steps) : 0.0;
  }
  if (s.stationary_residual >= 0)
    j["stationary"] = {{"reached", s.stationary_reached}, {"residual", s.stationary_residual}};
}

void mass_json(const RunSummary& s, nlohmann::json& j) {
  j["mass_initial"] = s.mass_initial;
  j["mass_final"] = s.mass_final;
  j["min_density"] = s.min_density;
  j["absorbed_mass"] = s.absorbed_mass;
  j["absorbed_mass_method"] = s.absorbed_method;
  j["absorbed_by_side"] = nlohmann::json::object();
  for (const auto& [side, m] : s.absorbed_by_side) j["absorbed_by_side"][side] = m;
  j["mass_balance_error"] = s.mass_balance_error;
}

}  // namespace

nlohmann::json RunSummary::to_json() const {
  nlohmann::json j;
  j["status"] = status;
  if (status == "interrupted") {
    j["signal"] = signal;
    if (steps) j["t_requested"] = t_interrupted_target;
  }
  j["problem"] = problem;
  j["description"] = description;
  j["parameters"] = parameters;
  j["dim"] = dim;
  j["cells"] = cells;
  j["box"] = {{"lo", box_lo}, {"hi", box_hi}};
  j["boundaries"] = boundaries;
  j["ranks"] = ranks;
  j["scheme"] = scheme;
  if (limiter) j["limiter"] = *limiter;
  if (cross_stencil) j["cross_stencil"] = *cross_stencil;
  j["monotone"] = monotonicity.monotone;
  j["positivity"] = positivity_guaranteed ? "guaranteed" : "not guaranteed";
  if (!monotonicity.monotone)
    j["monotonicity_violation"] = {{"ratio", monotonicity.worst}, {"at", monotonicity.where}};
  if (steady) {
    j["time_stepping"] = "steady";
    j["steady"] = steady->to_json();
    j["t_final"] = nullptr;
    j["steps"] = 0;
  } else if (steps) {
    steps_json(*steps, j);
  }
  mass_json(*this, j);
  j["wall_seconds"] = wall_seconds;
  j["cell_updates_per_second"] = cell_updates_per_second;
  if (norms) j[norms->valid ? "error" : "reference_error"] = norms_json(*norms);
  if (vtk) j["vtk"] = {{"pvd", vtk->first}, {"frames", vtk->second}};
  // A failed run's reason takes the "error" key (a reader checks status first).
  if (status == "failed") j["error"] = failure;
  return j;
}

void print_summary_line(const RunSummary& s, const std::string& dir) {
  std::string cells = "[";
  for (std::size_t i = 0; i < s.cells.size(); ++i)
    cells += (i ? "," : "") + std::to_string(s.cells[i]);
  cells += "]";
  std::printf("fpflow: %s %dD, %s cells, ", s.problem.c_str(), s.dim, cells.c_str());
  if (s.steady)
    std::printf("stationary law in %d iterations (residual %.2e)", s.steady->iterations,
                s.steady->residual);
  else if (s.steps)
    std::printf("t = %g in %lld steps", s.steps->t_final, (long long)s.steps->steps);
  std::printf(", mass %.15g -> %.15g", s.mass_initial, s.mass_final);
  if (s.norms && s.norms->valid) std::printf(", L1 error %.3e", s.norms->L1);
  std::printf("\nfpflow: summary in %s/summary.json\n", dir.c_str());
}

}  // namespace fpflow
