// core/petsc.hpp — the C++ boundary around PETSc: exceptions, RAII handles, scoped array access.
//
// Rules this file enforces:
//  * Every PETSc handle is owned by a move-only Handle<> and destroyed exactly once.
//  * PETSc error codes become fpflow::Error exceptions carrying PETSc's own first message
//    (captured by an error handler that prints nothing, so users see one clear line).
//  * No exception crosses a PETSc C frame: callbacks run their body through guarded(), which
//    turns an exception into a PETSc error code carrying the message; the caller of the PETSc
//    routine (e.g. TSSolve) then gets it back as an fpflow::Error with the same text.
#pragma once

#include <petscdmda.h>
#include <petscts.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace fpflow {

// A user-facing error: the message is one line that says what is wrong and what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Recoverable failure inside a right-hand side (e.g. negative density from too large a step):
// becomes a TS function-domain error so the integrator can shrink the step.
class DomainError : public Error {
 public:
  using Error::Error;
};

// The first message of the most recent PETSc error on this process.
std::string last_petsc_error();

// Throws fpflow::Error if ierr is non-zero. `what` names the failed call for context.
void check(PetscErrorCode ierr, const char* what);
#define FP_CHECK(call) ::fpflow::check((call), #call)

// Installs the capturing error handler (done by Session; exposed for test fixtures).
void install_error_handler();

// Runs body(); converts any exception into a PETSc error (message preserved). For callbacks.
template <class Body>
PetscErrorCode guarded(MPI_Comm comm, Body&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    return PetscError(comm, __LINE__, "fpflow callback", __FILE__, PETSC_ERR_USER,
                      PETSC_ERROR_INITIAL, "%s", e.what());
  } catch (...) {
    return PetscError(comm, __LINE__, "fpflow callback", __FILE__, PETSC_ERR_USER,
                      PETSC_ERROR_INITIAL, "unknown exception");
  }
}

// Move-only owner of a PETSc object.
template <class T, PetscErrorCode (*Destroy)(T*)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T h) : h_(h) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  void reset() noexcept {
    if (h_) Destroy(&h_);
    h_ = nullptr;
  }
  T get() const { return h_; }
  operator T() const { return h_; }
  // For PETSc "create" calls: releases the old object and exposes the slot.
  T* out() {
    reset();
    return &h_;
  }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  T h_ = nullptr;
};

using VecH = Handle<Vec, VecDestroy>;
using MatH = Handle<Mat, MatDestroy>;
using DMH = Handle<DM, DMDestroy>;
using TSH = Handle<TS, TSDestroy>;
using ViewerH = Handle<PetscViewer, PetscViewerDestroy>;
using VecScatterH = Handle<VecScatter, VecScatterDestroy>;

// Scoped VecGetArray/VecRestoreArray on the same vector (the pair can never mismatch).
class VecArray {
 public:
  explicit VecArray(Vec v) : v_(v) { FP_CHECK(VecGetArray(v_, &a_)); }
  ~VecArray() { VecRestoreArray(v_, &a_); }
  VecArray(const VecArray&) = delete;
  VecArray& operator=(const VecArray&) = delete;
  PetscScalar* data() const { return a_; }
  PetscScalar& operator[](std::ptrdiff_t i) const { return a_[i]; }

 private:
  Vec v_;
  PetscScalar* a_ = nullptr;
};

class VecArrayRead {
 public:
  explicit VecArrayRead(Vec v) : v_(v) { FP_CHECK(VecGetArrayRead(v_, &a_)); }
  ~VecArrayRead() { VecRestoreArrayRead(v_, &a_); }
  VecArrayRead(const VecArrayRead&) = delete;
  VecArrayRead& operator=(const VecArrayRead&) = delete;
  const PetscScalar* data() const { return a_; }
  const PetscScalar& operator[](std::ptrdiff_t i) const { return a_[i]; }

 private:
  Vec v_;
  const PetscScalar* a_ = nullptr;
};

// A DM local (ghosted) work vector, returned to the DM's pool on scope exit.
class LocalVec {
 public:
  explicit LocalVec(DM dm) : dm_(dm) { FP_CHECK(DMGetLocalVector(dm_, &v_)); }
  ~LocalVec() { DMRestoreLocalVector(dm_, &v_); }
  LocalVec(const LocalVec&) = delete;
  LocalVec& operator=(const LocalVec&) = delete;
  operator Vec() const { return v_; }

 private:
  DM dm_;
  Vec v_ = nullptr;
};

// MPI_Init/MPI_Finalize around the whole program (PETSc then leaves MPI alone), so fpflow can
// check its command line collectively before PetscInitialize and report failures afterwards.
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

 private:
  bool owned_ = false;
};

// PetscInitialize/PetscFinalize. Construct first in main so every Handle dies before finalize.
// An error PETSc raises while initialising (e.g. a syntax error in an options file) becomes an
// Error with PETSc's own one-line message (no trace), unless -fpflow_traceback is given.
class Session {
 public:
  Session(int* argc, char*** argv, const char* help);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

// Collective "did anyone fail?": every rank learns whether any rank had ok == false.
bool all_ok(MPI_Comm comm, bool ok);

}  // namespace fpflow

namespace fpflow {
// Collective error: if any rank has a non-empty `local_error`, every rank throws Error with the
// message of the lowest such rank (so one clear line is printed and no rank is left waiting).
void throw_if_any(MPI_Comm comm, const std::string& local_error);
}  // namespace fpflow
