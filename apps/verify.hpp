// apps/verify.hpp — `fpflow verify`: the grid-versus-particles verification suite, end to end.
//
// Each case runs the grid at two resolutions (h and h/2) and an independent particle ensemble of
// the same problem (same drift, diffusion and initial law through the Problem interface), then
// applies the gates of verification/compare.hpp. Prints a table, writes DIR/verify.json and
// per-case plot data (DIR/<case>/compare.json), draws PNGs with tools/plot_verify.py, and
// returns non-zero when any gate fails. -inject_fault gives the particles 5% more diffusion:
// the power check, which every diffusion-sensitive case must fail.
#pragma once

#include "core/petsc.hpp"

namespace fpflow {

// Runs the suite with the options in the database; returns the process exit status.
int run_verify(MPI_Comm comm);

}  // namespace fpflow
