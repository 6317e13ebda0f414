// core/petsc.cpp — error capture and session lifetime for the PETSc boundary (see petsc.hpp).
#include "core/petsc.hpp"

#include <petscpc.h>

namespace fpflow {
namespace {

thread_local std::string g_last_error;

// Records the innermost ("initial") message of an error and prints nothing: fpflow reports
// errors itself as one line, instead of PETSc's multi-line traceback on every rank.
PetscErrorCode capture_handler(MPI_Comm, int, const char* fun, const char*, PetscErrorCode n,
                               PetscErrorType p, const char* mess, void*) {
  if (p == PETSC_ERROR_INITIAL) {
    const char* text = nullptr;
    PetscErrorMessage(n, &text, nullptr);
    g_last_error = (mess && *mess) ? std::string(mess) : std::string(text ? text : "PETSc error");
    if (fun && !(mess && *mess)) g_last_error += std::string(" (in ") + fun + ")";
  }
  return n;
}

}  // namespace

std::string last_petsc_error() { return g_last_error; }

void check(PetscErrorCode ierr, const char* what) {
  if (ierr == 0) return;
  std::string msg = g_last_error.empty() ? std::string("PETSc error in ") + what : g_last_error;
  g_last_error.clear();
  throw Error(msg);
}

void install_error_handler() { PetscPushErrorHandler(capture_handler, nullptr); }

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int done = 0;
  MPI_Initialized(&done);
  if (!done) {
    MPI_Init(argc, argv);
    owned_ = true;
  }
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owned_ && !finalized) MPI_Finalize();
}

Session::Session(int* argc, char*** argv, const char* help) {
  // -fpflow_traceback keeps PETSc's own multi-line error traces (for debugging fpflow itself).
  // Otherwise the capturing handler is installed before PetscInitialize (PETSc allows it), so
  // that errors raised while PETSc reads options files are captured as well.
  bool trace = false;
  for (int i = 1; i < *argc; ++i) trace = trace || std::string((*argv)[i]) == "-fpflow_traceback";
  if (!trace) install_error_handler();
  const PetscErrorCode ierr = PetscInitialize(argc, argv, nullptr, help);
  if (ierr) {
    const std::string msg = last_petsc_error();
    throw Error(msg.empty() ? "PETSc could not start (PetscInitialize error " + std::to_string(ierr) + ")"
                            : msg);
  }
  // PETSc 3.18's PC package registers a "PCMPI" log stage that is only used by the MPI linear
  // solver server; -log_view would list it as an empty "Unknown" stage in every fpflow run.
  PetscBool server = PETSC_FALSE;
  PetscOptionsHasName(nullptr, nullptr, "-mpi_linear_solver_server", &server);
  PetscLogStage pcmpi = -1;
  if (!server && PCInitializePackage() == 0 && PetscLogStageGetId("PCMPI", &pcmpi) == 0 && pcmpi >= 0)
    PetscLogStageSetVisible(pcmpi, PETSC_FALSE);
}

Session::~Session() {
  PetscPopErrorHandler();
  PetscFinalize();
}

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

int comm_size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

bool all_ok(MPI_Comm comm, bool ok) {
  int local = ok ? 1 : 0, global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, comm);
  return global == 1;
}

}  // namespace fpflow

namespace fpflow {
void throw_if_any(MPI_Comm comm, const std::string& local_error) {
  const int size = comm_size(comm), rank = comm_rank(comm);
  int mine = local_error.empty() ? size : rank, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  char buf[1024] = {0};
  if (rank == first) local_error.copy(buf, sizeof(buf) - 1);
  MPI_Bcast(buf, sizeof(buf), MPI_CHAR, first, comm);
  throw Error(buf);
}
}  // namespace fpflow
