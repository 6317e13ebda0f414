// problems/problem.hpp — what a Fokker-Planck problem is, and the registry that names them.
//
// A Problem is the SDE (its Coefficients: drift b and diffusion a), the initial density, the
// defaults that make it run sensibly (box, boundaries, final time), and, when one is known, the
// exact law — as exact cell averages, which is what a finite-volume solution approximates.
// Problems read their own options under a prefix "<name>_" (e.g. -ou_theta), so -help lists
// them all and each name documents where it belongs.
#pragma once

#include "mesh/grid.hpp"
#include "operators/coefficients.hpp"
#include "problems/laws.hpp"
#include "problems/reference.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fpflow {

// Average of one axis's factor of a product-form density over [lo, hi] (see
// Problem::separable_average; the same alias is declared in verification/norms.hpp).
using AxisAverage = std::function<double(int axis, double lo, double hi)>;

class Problem : public Coefficients {
 public:
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Reads the problem's options for a run in `dim` dimensions. Called once, before anything else.
  virtual void configure(MPI_Comm comm, int dim) = 0;
  int dim() const { return dim_; }

  virtual Box default_box() const = 0;
  virtual Boundaries default_bc() const { return {}; }  // reflecting everywhere
  virtual double default_t_final() const = 0;

  // The run's box and walls, once the grid is resolved (the driver calls this before any law is
  // evaluated). Laws built for the walls (heat) use them, and the *_reference functions below
  // judge free-space laws against them. Without a call the domain is all of R^dim.
  virtual void set_domain(const Box& box, const Boundaries& bc) {
    box_ = box;
    bc_ = bc;
  }

  // Initial density at a point (x has 3 entries; unused axes are 0).
  virtual double initial_density(const double* x) const = 0;
  // Average of the initial density over the cell [lo, hi] (3 entries each). The default is a
  // 3-point Gauss-Legendre tensor rule (exact for polynomials of degree 5 per axis).
  virtual double initial_cell_average(const double* lo, const double* hi) const;
  // True if the discrete initial data should be rescaled to unit mass.
  virtual bool normalize_initial() const { return false; }

  virtual bool has_exact() const { return false; }
  virtual double exact_cell_average(const double* lo, const double* hi, double t) const;

  // The stationary law (unit mass), when one is known in closed form.
  virtual bool has_stationary() const { return false; }
  virtual double stationary_cell_average(const double* lo, const double* hi) const;

  // Whether the exact law over the run [0, t] and the stationary law are the solution on the
  // domain of set_domain (problems/reference.hpp). The default judges nothing valid: a problem
  // states for which boxes and walls its laws hold, or its norms are only a reference_error.
  virtual Reference exact_reference(double t) const;
  virtual Reference stationary_reference() const;

  // Product-form laws: when the law (initial; exact at t; stationary) is a product of densities
  // along the axes, the average over [lo, hi] of its factor along `axis`, divided by hi - lo;
  // the cell average is then the product over the dim axes, with the same value as the
  // *_cell_average functions bit for bit. A grid fill then evaluates each axis's factor once per
  // cell row instead of once per cell (verification/norms.hpp). Empty when not of product form.
  enum class Law { initial, exact, stationary };
  virtual AxisAverage separable_average(Law, double /*t*/) const { return {}; }

  // Closed forms for the particle engine (problems/laws.hpp): the initial and stationary laws as
  // Gaussian mixtures (empty when there is none: particles then sample the grid's cell masses),
  // and the SDE as a linear one (returns false when it is not linear with constant a).
  virtual GaussianMixture initial_mixture() const { return {}; }
  virtual GaussianMixture stationary_mixture() const { return {}; }
  virtual bool linear_sde(LinearSDE* sde) const { return false; }

  // Parameters, for the run summary.
  virtual nlohmann::json parameters() const = 0;

 protected:
  int dim_ = 2;
  Box box_{{-INFINITY, -INFINITY, -INFINITY}, {INFINITY, INFINITY, INFINITY}};
  Boundaries bc_{};
};

// Average over [lo, hi] of f(x) by Gauss-Legendre with `points` (3 or 5) nodes per axis
// (dim axes): exact for polynomials of degree 5 resp. 9 per axis.
double cell_average_gl(int dim, const double* lo, const double* hi,
                       const std::function<double(const double*)>& f, int points = 3);

// Registry: problems by name.
using ProblemFactory = std::function<std::unique_ptr<Problem>()>;
void register_problem(const std::string& name, ProblemFactory make);
std::vector<std::string> problem_names();
std::unique_ptr<Problem> make_problem(const std::string& name);

// Built-in problems (problems/*.cpp); register_builtin_problems() adds them once.
std::unique_ptr<Problem> make_heat_problem();
std::unique_ptr<Problem> make_ou_problem();
std::unique_ptr<Problem> make_custom_problem();
std::unique_ptr<Problem> make_double_well_problem();
std::unique_ptr<Problem> make_langevin_gmm_problem();
void register_builtin_problems();

// Reads an axis-wise parameter: one value applies to every axis, or exactly dim values.
std::vector<double> per_axis(const std::vector<double>& v, int dim, const char* option);

}  // namespace fpflow
