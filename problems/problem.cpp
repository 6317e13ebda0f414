// problems/problem.cpp — the problem registry and shared defaults.
#include "problems/problem.hpp"

#include <map>
#include <mutex>

namespace fpflow {

double cell_average_gl(int dim, const double* lo, const double* hi,
                       const std::function<double(const double*)>& f, int points) {
  // Nodes on [-1, 1]; weights normalised to sum 1 (an average, not an integral).
  static const double node3[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
  static const double weight3[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
  static const double node5[5] = {-0.9061798459386640, -0.5384693101056831, 0.0,
                                  0.5384693101056831, 0.9061798459386640};
  static const double weight5[5] = {0.1184634425280945, 0.2393143352496832, 0.2844444444444444,
                                    0.2393143352496832, 0.1184634425280945};
  if (points != 3 && points != 5) throw Error("internal: Gauss-Legendre with 3 or 5 points only");
  const double* node = points == 3 ? node3 : node5;
  const double* weight = points == 3 ? weight3 : weight5;
  double x[3] = {0, 0, 0}, sum = 0;
  const int n1 = points, n2 = dim > 1 ? points : 1, n3 = dim > 2 ? points : 1;
  for (int k = 0; k < n3; ++k)
    for (int j = 0; j < n2; ++j)
      for (int i = 0; i < n1; ++i) {
        const int q[3] = {i, j, k};
        double w = 1;
        for (int d = 0; d < dim; ++d) {
          x[d] = 0.5 * (lo[d] + hi[d]) + 0.5 * (hi[d] - lo[d]) * node[q[d]];
          w *= weight[q[d]];
        }
        sum += w * f(x);
      }
  return sum;
}

double Problem::initial_cell_average(const double* lo, const double* hi) const {
  return cell_average_gl(dim_, lo, hi, [this](const double* x) { return initial_density(x); });
}

double Problem::exact_cell_average(const double*, const double*, double) const {
  throw Error("problem '" + name() + "' has no exact solution");
}

double Problem::stationary_cell_average(const double*, const double*) const {
  throw Error("problem '" + name() + "' has no known stationary law");
}

Reference Problem::exact_reference(double) const {
  return {false, "exact law", -1, "problem '" + name() + "' does not say for which walls it holds"};
}

Reference Problem::stationary_reference() const {
  return {false, "stationary law", -1,
          "problem '" + name() + "' does not say for which walls it holds"};
}

namespace {
std::map<std::string, ProblemFactory>& registry() {
  static std::map<std::string, ProblemFactory> r;
  return r;
}
}  // namespace

void register_problem(const std::string& name, ProblemFactory make) {
  registry()[name] = std::move(make);
}

std::vector<std::string> problem_names() {
  std::vector<std::string> names;
  for (const auto& [n, f] : registry()) names.push_back(n);
  return names;
}

std::unique_ptr<Problem> make_problem(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string all;
    for (const auto& n : problem_names()) all += (all.empty() ? "" : ", ") + n;
    throw Error("unknown problem '" + name + "'; valid: " + all);
  }
  return it->second();
}

void register_builtin_problems() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_problem("heat", make_heat_problem);
    register_problem("ou", make_ou_problem);
    register_problem("custom", make_custom_problem);
    register_problem("double-well", make_double_well_problem);
    register_problem("langevin-gmm", make_langevin_gmm_problem);
  });
}

std::vector<double> per_axis(const std::vector<double>& v, int dim, const char* option) {
  if (v.size() == 1) return std::vector<double>(3, v[0]);
  if (int(v.size()) != dim)
    throw Error(std::string(option) + " takes 1 or " + std::to_string(dim) + " values, got " +
                std::to_string(v.size()));
  std::vector<double> out(v);
  out.resize(3, v.back());
  return out;
}

}  // namespace fpflow
