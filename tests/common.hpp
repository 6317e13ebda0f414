// tests/common.hpp — shared test fixture: PETSc session, one-call runs, gathering to rank 0.
#pragma once

#include "apps/driver.hpp"
#include "core/options.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace fpflow::test {

// PETSc lives for the whole test binary (Boost global fixture).
struct PetscFixture {
  PetscFixture() {
    auto& s = boost::unit_test::framework::master_test_suite();
    int argc = s.argc;
    char** argv = s.argv;
    PetscInitialize(&argc, &argv, nullptr, nullptr);
    install_error_handler();
  }
  ~PetscFixture() { PetscFinalize(); }
};

inline MPI_Comm world() { return PETSC_COMM_WORLD; }
inline int rank() { return comm_rank(PETSC_COMM_WORLD); }
inline int size() { return comm_size(PETSC_COMM_WORLD); }

// Options every test run shares: quiet, no VTK unless asked, output under the test's cwd.
inline std::string quiet(const std::string& name) {
  return " -progress_seconds -1 -vtk 0 -output test-out/" + name + "-np" +
         std::to_string(size()) + " ";
}

// Runs fpflow with `args` on `comm` and returns its summary.
inline nlohmann::json run(const std::string& args, MPI_Comm comm = PETSC_COMM_WORLD) {
  ScopedOptions opts(args);
  Simulation sim(comm);
  return sim.run().to_json();
}

// The whole solution on rank 0 (natural ordering), empty elsewhere.
inline std::vector<double> gather(const Grid& g, Vec v) { return gather_natural(g.dm(), v); }

// Runs `args` on all ranks and again on rank 0 alone (PETSC_COMM_SELF); returns the largest
// cell difference relative to the largest cell value (rank 0; -1 elsewhere).
inline double parallel_vs_serial(const std::string& args, const std::string& name) {
  std::vector<double> par;
  {
    ScopedOptions opts(args + quiet(name + "-par"));
    Simulation sim(world());
    sim.run();
    par = gather(sim.grid(), sim.solution());
  }
  if (rank() != 0) return -1;
  ScopedOptions opts(args + " -progress_seconds -1 -vtk 0 -output test-out/" + name + "-ser");
  Simulation sim(PETSC_COMM_SELF);
  sim.run();
  const std::vector<double> ser = gather(sim.grid(), sim.solution());
  BOOST_REQUIRE_EQUAL(par.size(), ser.size());
  double scale = 0, diff = 0;
  for (size_t i = 0; i < par.size(); ++i) {
    scale = std::max(scale, std::fabs(ser[i]));
    diff = std::max(diff, std::fabs(par[i] - ser[i]));
  }
  return diff / scale;
}

// Observed order from errors on grids refined by 2.
inline double order(double coarse, double fine) { return std::log(coarse / fine) / std::log(2.0); }

}  // namespace fpflow::test
