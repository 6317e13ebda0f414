// operators/flux_kernels.hpp — pointwise face-flux kernels for drift-diffusion along one axis.
//
// Pure functions of face data: no PETSc, no loops, no grid. A face separates cell K (low side)
// from cell L (high side); the flux F > 0 carries mass from K to L. Face data:
//   u  effective drift normal to the face, u = b_i - 1/2 d_i a_ii (the Ito correction of
//      J_i = b_i rho - 1/2 d_i(a_ii rho) belongs to the drift part; MATH.md "Cross-diffusion")
//   D  diffusivity on the face, D = 1/2 a_ii >= 0
//   h  cell width along the axis.
// Linear schemes are written as F = alpha rho_K - beta rho_L with alpha, beta >= 0, which gives
// both the residual and the exact Jacobian, and makes positivity visible (M-matrix).
#pragma once

#include <algorithm>
#include <cmath>

namespace fpflow::kernels {

struct FaceCoef {
  double u = 0;  // effective drift
  double D = 0;  // diffusivity (1/2 a_ii)
};

struct LinearFlux {
  double alpha = 0;  // coefficient of rho_K
  double beta = 0;   // coefficient of rho_L
  double operator()(double rho_K, double rho_L) const { return alpha * rho_K - beta * rho_L; }
};

// Bernoulli function B(x) = x / (e^x - 1), evaluated without cancellation or overflow.
inline double bernoulli(double x) {
  const double ax = std::fabs(x);
  if (ax < 1e-3) {
    const double x2 = x * x;
    return 1.0 - 0.5 * x + x2 / 12.0 - x2 * x2 / 720.0;
  }
  if (x > 700.0) return x * std::exp(-x);  // e^x overflows; B -> x e^{-x} -> 0
  return x / std::expm1(x);
}

// First-order upwind drift + central diffusion.
inline LinearFlux upwind(FaceCoef c, double h) {
  const double d = c.D / h;
  return {std::max(c.u, 0.0) + d, -std::min(c.u, 0.0) + d};
}

// Central diffusion alone (the implicit part of an IMEX split).
inline LinearFlux central_diffusion(FaceCoef c, double h) { return {c.D / h, c.D / h}; }

// Scharfetter-Gummel / Chang-Cooper exponential fitting: F = (D/h)[B(-delta) rho_K - B(delta) rho_L]
// with Peclet number delta = u h / D. Zero flux exactly when rho_L / rho_K = e^delta (discrete
// Gibbs state); tends to central differencing as delta -> 0 and to upwind as |delta| -> inf,
// which is also the limit used when D = 0.
inline LinearFlux scharfetter_gummel(FaceCoef c, double h) {
  const double delta = c.D > 0.0 ? c.u * h / c.D : 0.0;
  // D = 0, or so small that delta overflows: the upwind limit (B(-delta) ~ -delta, B(delta) ~ 0).
  if (c.D <= 0.0 || !(std::fabs(delta) < 1e4)) return {std::max(c.u, 0.0), -std::min(c.u, 0.0)};
  const double d = c.D / h;
  // B(-delta) is evaluated directly: B(delta) + delta cancels catastrophically for delta << 0.
  return {d * bernoulli(-delta), d * bernoulli(delta)};
}

// Weight theta of the upwind cell in the exponentially fitted face density. Scharfetter-Gummel
// is exactly F = u rho~ - D (rho_L - rho_K)/h with rho~ = theta rho_up + (1 - theta) rho_down,
// theta = (B(-|delta|) - 1)/|delta| = 1/(1 - e^{-|delta|}) - 1/|delta|: 1/2 (central) as
// delta -> 0, 1 (upwind) as |delta| -> inf and when D = 0.
inline double sg_upwind_weight(FaceCoef c, double h) {
  if (c.D <= 0.0) return 1.0;
  const double d = std::fabs(c.u * h / c.D);
  if (!(d < 1e4)) return 1.0;
  if (d < 1e-3) return 0.5 + d / 12.0 - d * d * d / 720.0;
  return -1.0 / std::expm1(-d) - 1.0 / d;
}

// Slope limiters phi(r) of TVD type, r = (downwind jump)/(upwind jump). All satisfy
// 0 <= phi(r) <= 2 min(1, r), which bounds the positivity CFL number by 1/2.
enum class Limiter { minmod, vanleer, mc };

inline double limit(Limiter l, double r) {
  switch (l) {
    case Limiter::minmod: return std::max(0.0, std::min(1.0, r));
    case Limiter::vanleer: return (r + std::fabs(r)) / (1.0 + std::fabs(r));
    case Limiter::mc: return std::max(0.0, std::min({2.0 * r, 0.5 * (1.0 + r), 2.0}));
  }
  return 0.0;
}

// Limited linear reconstruction at the face from the upwind side: value of the cell `c` at its
// face towards `down`, using its other neighbour `up`. phi(r) (c - up) / 2 with r the ratio of
// jumps; written as a product form that is safe when the upwind jump is zero.
inline double reconstruct(Limiter l, double up, double c, double down) {
  const double dm = c - up, dp = down - c;
  if (dm * dp <= 0.0) return c;  // extremum or flat: first order, keeps positivity
  return c + 0.5 * limit(l, dp / dm) * dm;
}

// Second-order drift flux: MUSCL reconstruction upwinded by the sign of u.
// Cells along the axis: Km = K-1, K, L, Lp = L+1.
inline double muscl_drift(Limiter l, double u, double rho_Km, double rho_K, double rho_L,
                          double rho_Lp) {
  if (u > 0.0) return u * reconstruct(l, rho_Km, rho_K, rho_L);
  if (u < 0.0) return u * reconstruct(l, rho_Lp, rho_L, rho_K);
  return 0.0;
}

// The high-resolution correction of a Scharfetter-Gummel flux, as the factor c of
// F = (1 + c) F_SG (so c F_SG is the antidiffusive flux and F_SG = 0 gives F = 0: discrete Gibbs
// states stay exactly stationary). With theta the upwind weight above and m the limited MUSCL
// slope correction of the upwind cell towards the face, the face density
//   rho* = rho~ + (2 theta - 1) m
// is second order for every theta (rho~ + (2 theta - 1) m = rho_face + O(h^2) for smooth rho),
// so the correction vanishes where SG is already second order (theta -> 1/2, small cell Peclet
// number) and is the full MUSCL correction in the upwind limit (theta = 1, D = 0: F = u (rho_up
// + m)). Writing it as a factor of F_SG, c = (2 theta - 1) m / rho~, keeps that order (the
// difference is (2 theta - 1) m D (rho_L - rho_K) / (h rho~) = O(h^2) uniformly in delta).
// For non-negative data |m| <= rho_up <= 2 rho~ (TVD limiters), so |c| <= 2 (2 theta - 1); c is
// clipped to that and to [-1, 1] whatever the data (Newton iterates), which keeps both weights
// of F = (1 + c) [alpha rho_K - beta rho_L] non-negative: the flux stays an M-matrix flux, so
// the scheme is positive without a limiter, at the forward-Euler rate (1 + min(1, 4 theta - 2))
// x SG's (sg_correction_cap). up_up, up, down: the cells along the axis, ordered in the direction
// of u.
inline double sg_correction_cap(double theta) { return std::min(1.0, 2.0 * (2.0 * theta - 1.0)); }

inline double sg_correction(Limiter l, double theta, double up_up, double up, double down) {
  const double w = 2.0 * theta - 1.0;
  if (!(w > 0.0)) return 0.0;
  const double rho_face = theta * up + (1.0 - theta) * down;
  if (!(rho_face > 0.0)) return 0.0;
  const double m = reconstruct(l, up_up, up, down) - up;
  const double cap = sg_correction_cap(theta);
  return std::clamp(w * m / rho_face, -cap, cap);
}

// MUSCL's face density as a factor of the upwind density: u rho_face = u (1 + s) rho_up, s in
// [-1, 1] (TVD limiters keep 0 <= rho_face <= 2 rho_up on non-negative data; clipped for any).
inline double muscl_factor(Limiter l, double up_up, double up, double down) {
  if (!(up > 0.0)) return 0.0;
  return std::clamp((reconstruct(l, up_up, up, down) - up) / up, -1.0, 1.0);
}

// Probability-flow face velocity v = u - D d log(rho)/dn (MATH.md: v = b - 1/2 div a - 1/2 a grad
// log rho, the normal component at a face with diagonal a). Densities are floored at `floor` > 0
// before the log, so an empty cell gives a large but finite velocity out of its full neighbour.
inline double probability_flow_velocity(FaceCoef c, double h, double rho_K, double rho_L,
                                        double floor) {
  return c.u - c.D * (std::log(std::max(rho_L, floor)) - std::log(std::max(rho_K, floor))) / h;
}

// Logarithmic mean (L - K)/(log L - log K) (= K when L = K): the face density for which the
// Scharfetter-Gummel flux equals v * density with v the face probability-flow velocity when
// u = 0. Zero when either side is zero.
inline double log_mean(double K, double L) {
  if (!(K > 0) || !(L > 0)) return 0.0;
  const double r = L / K;
  if (std::fabs(r - 1) < 1e-4) {  // series: K (1 + e/2 - e^2/12 + e^3/24), e = r - 1
    const double e = r - 1;
    return K * (1 + e * (0.5 + e * (-1.0 / 12 + e / 24)));
  }
  return (L - K) / std::log(r);
}

}  // namespace fpflow::kernels

namespace fpflow::kernels {

// Cross-diffusion flux -C d_j rho at a face normal to axis i, C = a_ij / 2 (j != i), written as
// weights on the six cells around the face: K | L across it and their neighbours along j.
//   F = wK rho_K + wL rho_L + wKp rho_{K,+j} + wKm rho_{K,-j} + wLp rho_{L,+j} + wLm rho_{L,-j}
struct CrossWeights {
  double K = 0, L = 0, Kp = 0, Km = 0, Lp = 0, Lm = 0;
};

enum class CrossStencil { monotone, average };

// monotone: the transverse gradient from the two one-sided differences that lie along the
// diagonal matching sign(a_ij); summed over the faces of a cell this is the classic 7-point
// cross stencil, an M-matrix exactly when |a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j).
// average: the symmetric 4-cell average (9-point stencil); never an M-matrix if a_ij != 0.
// Both are second order at the face.
// Where the face's line sits across the transverse axis j: next to a non-periodic wall the
// ghost beyond it is not data (a mirror would force d_j rho = 0 there, which zero normal flux
// does not imply once a_ij != 0), so the gradient uses the two one-sided interior differences.
enum class TransverseSide { interior, low_wall, high_wall, single_cell };

inline CrossWeights cross_weights(CrossStencil s, double C, double hj,
                                  TransverseSide side = TransverseSide::interior) {
  CrossWeights w;
  if (C == 0.0 || side == TransverseSide::single_cell) return w;
  if (side != TransverseSide::interior) {
    const double c = -C / (2 * hj);
    if (side == TransverseSide::low_wall) {  // G = [(L+ - L) + (K+ - K)] / 2h
      w.Lp = c, w.L = -c, w.Kp = c, w.K = -c;
    } else {                                 // G = [(L - L-) + (K - K-)] / 2h
      w.L = c, w.Lm = -c, w.K = c, w.Km = -c;
    }
    return w;
  }
  if (s == CrossStencil::average) {
    const double c = -C / (4 * hj);
    w.Kp = w.Lp = c;
    w.Km = w.Lm = -c;
    return w;
  }
  const double c = -C / (2 * hj);
  if (C > 0) {  // G = [(L+ - L) + (K - K-)] / 2h
    w.Lp = c, w.L = -c, w.K = c, w.Km = -c;
  } else {      // G = [(L - L-) + (K+ - K)] / 2h
    w.L = c, w.Lm = -c, w.Kp = c, w.K = -c;
  }
  return w;
}

}  // namespace fpflow::kernels
