// core/signals.cpp — async-signal-safe stop flag for SIGINT/SIGTERM (see signals.hpp).
#include "core/signals.hpp"

#include <csignal>
#include <cstdio>

namespace fpflow {

namespace {

// Written only by the handler (and tests); read by the time loop.
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_signal != 0) {
    // Second signal: the user insists. Default action (terminate) on the re-raised signal.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a blocking read/write in progress is resumed rather than failing with EINTR.
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGXFSZ, SIG_IGN);
}

bool stop_signalled() { return g_signal != 0; }

bool stop_requested(MPI_Comm comm) {
  int mine = g_signal, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm);
  // Every rank adopts the same signal (the largest seen), so every rank reports alike.
  if (any != 0) g_signal = any;
  return any != 0;
}

int stop_signal() { return g_signal; }

const char* stop_signal_name() {
  static char buf[32];
  switch (g_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: std::snprintf(buf, sizeof(buf), "signal %d", int(g_signal)); return buf;
  }
}

int stop_exit_code() { return g_signal ? 128 + g_signal : 0; }

void simulate_stop_signal(int sig) { g_signal = sig; }

}  // namespace fpflow
