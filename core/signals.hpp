// core/signals.hpp — SIGINT/SIGTERM as a request to stop at the next step boundary.
//
// A killed run used to vanish without its last state or a summary. With the handlers installed,
// the first SIGINT or SIGTERM only sets a flag; the time loop polls it (collectively, so every
// rank stops at the same step even when the signal reached one rank only), writes the last
// state and a summary with "status": "interrupted", and exits with 128 + the signal number
// (130 for SIGINT, 143 for SIGTERM). A second signal restores the default action and re-raises
// it, so a user can still kill a run that does not reach a step boundary.
//
// Under mpiexec (OpenMPI), a SIGTERM to mpiexec is forwarded to every rank and followed by
// SIGKILL one second later (MCA odls_base_sigkill_timeout); see README for giving a run longer.
#pragma once

#include <mpi.h>

#include <stdexcept>

namespace fpflow {

// Installs the handlers (after PetscInitialize, which installs its own for some signals).
// Also ignores SIGXFSZ, so a file-size limit makes write() fail with EFBIG, which fpflow reports
// as one line, instead of killing the process.
void install_stop_handlers();

// This process received SIGINT or SIGTERM (not collective).
bool stop_signalled();

// Collective: true on every rank once any rank has received SIGINT or SIGTERM.
bool stop_requested(MPI_Comm comm);

// The first signal received (SIGINT or SIGTERM), 0 if none.
int stop_signal();

// "SIGINT", "SIGTERM" (or "signal N").
const char* stop_signal_name();

// The conventional exit status of a run stopped by the signal: 128 + its number.
int stop_exit_code();

// For tests: behave as if `sig` had been received (sig = 0 clears the request).
void simulate_stop_signal(int sig);

// Thrown once a stopped run has saved what it can (Simulation::run writes the last state and
// its summary first); the message says where it stopped. fpflow then exits with
// stop_exit_code(). Not an Error: handlers of failures must let it pass.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace fpflow
