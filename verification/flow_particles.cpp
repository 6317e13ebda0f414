// verification/flow_particles.cpp — grid flow snapshots and their interpolation (see .hpp).
#include "verification/flow_particles.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {

void FlowSnapshot::capture(FokkerPlanckOperator& op, double t, Vec rho, double floor_rel) {
  const Grid& g = op.grid();
  t_ = t;
  dim_ = g.dim();
  box_ = g.box();
  for (int d = 0; d < 3; ++d) n_[d] = g.cells(d), h_[d] = g.h(d);
  PetscReal top = 0;
  FP_CHECK(VecMax(rho, nullptr, &top));
  const double floor = std::max(floor_rel * top, kDensityFloor);
  LocalVec loc(g.dm());
  g.to_local(rho, loc);
  FokkerPlanckOperator::FlowFields f;
  op.flow_fields(t, loc, floor, f);
  // Natural-order global arrays, every rank contributing its own entries (each face exactly
  // once: the low faces of owned cells, plus the last face of the axis), summed over ranks.
  const std::size_t cells = std::size_t(n_[0]) * n_[1] * n_[2];
  div_.assign(cells, 0.0);
  log_rho_.assign(cells, 0.0);
  {
    VecArrayRead r(rho);
    std::size_t o = 0;
    g.for_each_owned([&](const std::array<PetscInt, 3>& c) {
      const std::size_t k = std::size_t(c[0] + n_[0] * (c[1] + n_[1] * c[2]));
      div_[k] = f.divergence[o];
      log_rho_[k] = std::log(std::max(r[g.owned_index(c[0], c[1], c[2])], floor));
      ++o;
    });
  }
  MPI_Allreduce(MPI_IN_PLACE, div_.data(), int(cells), MPI_DOUBLE, MPI_SUM, g.comm());
  MPI_Allreduce(MPI_IN_PLACE, log_rho_.data(), int(cells), MPI_DOUBLE, MPI_SUM, g.comm());
  max_log_rho_ = *std::max_element(log_rho_.begin(), log_rho_.end());
  for (int a = 0; a < dim_; ++a) {
    std::array<PetscInt, 3> m = n_;
    m[a] += 1;
    face_v_[a].assign(std::size_t(m[0]) * m[1] * m[2], 0.0);
    const PetscInt nf = g.owned(a) + 1;
    const std::size_t lines = f.face_velocity[a].size() / std::size_t(nf);
    for (std::size_t line = 0; line < lines; ++line) {
      std::array<PetscInt, 3> idx = op.line_cell(a, line);
      const PetscInt first = idx[a];
      for (PetscInt k = 0; k < nf; ++k) {
        idx[a] = first + k;
        if (k == nf - 1 && idx[a] != n_[a]) continue;  // the next rank's low face
        face_v_[a][std::size_t(idx[0] + m[0] * (idx[1] + m[1] * idx[2]))] =
            f.face_velocity[a][line * nf + k];
      }
    }
    MPI_Allreduce(MPI_IN_PLACE, face_v_[a].data(), int(face_v_[a].size()), MPI_DOUBLE, MPI_SUM,
                  g.comm());
  }
}

// Multilinear interpolation of a natural-order lattice field. Along `face_axis` the nodes are
// faces (lo + i h, i = 0..n); along the other axes (or all, face_axis = -1) cell centres.
double FlowSnapshot::interpolate(const std::vector<double>& f, int face_axis,
                                 const double* x) const {
  PetscInt i0[3] = {0, 0, 0}, m[3] = {1, 1, 1};
  double w[3] = {0, 0, 0};
  for (int d = 0; d < 3; ++d) {
    const bool face = d == face_axis;
    m[d] = n_[d] + (face ? 1 : 0);
    if (d >= dim_) continue;
    const double s = (x[d] - box_.lo[d]) / h_[d] - (face ? 0.0 : 0.5);
    const double c = std::clamp(s, 0.0, double(m[d] - 1));
    i0[d] = std::min<PetscInt>(PetscInt(c), m[d] - 2 >= 0 ? m[d] - 2 : 0);
    w[d] = m[d] > 1 ? c - double(i0[d]) : 0.0;
  }
  double v = 0;
  for (int corner = 0; corner < (1 << dim_); ++corner) {
    double wt = 1;
    PetscInt idx[3] = {i0[0], i0[1], i0[2]};
    for (int d = 0; d < dim_; ++d) {
      const int up = (corner >> d) & 1;
      wt *= up ? w[d] : 1 - w[d];
      idx[d] += up && m[d] > 1 ? 1 : 0;
    }
    v += wt * f[std::size_t(idx[0] + m[0] * (idx[1] + m[1] * idx[2]))];
  }
  return v;
}

void FlowSnapshot::eval(const double* x, double* v, double* div, double* log_rho) const {
  for (int a = 0; a < dim_; ++a) v[a] = interpolate(face_v_[a], a, x);
  if (div) *div = interpolate(div_, -1, x);
  if (log_rho) *log_rho = interpolate(log_rho_, -1, x);
}

double log_density_mismatch(const Ensemble& e, const FlowSnapshot& s, double cut) {
  const double floor = s.max_log_rho() + std::log(cut);
  double acc[2] = {0, 0};
  for (std::size_t p = 0; p < e.local_size(); ++p) {
    if (!e.alive(p)) continue;
    double v[3], lr = 0;
    s.eval(e.position(p), v, nullptr, &lr);
    if (lr < floor) continue;
    acc[0] += std::fabs(e.log_density(p) - lr);
    acc[1] += 1;
  }
  MPI_Allreduce(MPI_IN_PLACE, acc, 2, MPI_DOUBLE, MPI_SUM, e.comm());
  return acc[1] > 0 ? acc[0] / acc[1] : 0.0;
}

void FlowBetween::eval(const double* x, double t, double* v, double* div) const {
  double va[3] = {0, 0, 0}, vb[3] = {0, 0, 0}, da = 0, db = 0;
  a_.eval(x, va, &da, nullptr);
  b_.eval(x, vb, &db, nullptr);
  const double span = b_.time() - a_.time();
  const double th = span > 0 ? std::clamp((t - a_.time()) / span, 0.0, 1.0) : 0.0;
  for (int i = 0; i < 3; ++i) v[i] = (1 - th) * va[i] + th * vb[i];
  *div = (1 - th) * da + th * db;
}

}  // namespace fpflow
