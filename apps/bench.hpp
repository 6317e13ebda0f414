// apps/bench.hpp — the `fpflow bench` subcommand (apps/bench.cpp): performance tables and
// bench.json for this machine at the launched rank count.
#pragma once

#include <mpi.h>

namespace fpflow {

// Runs the benchmark; returns the exit status. Throws Error on bad options or failures.
int run_bench(MPI_Comm comm);

}  // namespace fpflow
