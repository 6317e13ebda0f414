// problems/small_matrix.hpp — dense n x n linear algebra for exact laws of linear SDEs (n <= 6):
// products, the matrix exponential (scaling and squaring of a Taylor series), Gaussian
// elimination, and Van Loan's formula for the covariance of dX = -B X dt + G dW.
#pragma once

#include <cmath>
#include <stdexcept>
#include <vector>

namespace fpflow::small {

struct Mat {
  int n = 0;
  std::vector<double> a;  // row-major
  explicit Mat(int n_ = 0, double diag = 0.0) : n(n_), a(std::size_t(n_) * n_, 0.0) {
    for (int i = 0; i < n; ++i) (*this)(i, i) = diag;
  }
  double& operator()(int i, int j) { return a[std::size_t(i) * n + j]; }
  double operator()(int i, int j) const { return a[std::size_t(i) * n + j]; }
};

inline Mat operator*(const Mat& A, const Mat& B) {
  Mat C(A.n);
  for (int i = 0; i < A.n; ++i)
    for (int k = 0; k < A.n; ++k)
      for (int j = 0; j < A.n; ++j) C(i, j) += A(i, k) * B(k, j);
  return C;
}

inline Mat transpose(const Mat& A) {
  Mat T(A.n);
  for (int i = 0; i < A.n; ++i)
    for (int j = 0; j < A.n; ++j) T(i, j) = A(j, i);
  return T;
}

// e^{A}: scale so that ||A||_inf <= 1/2, Taylor to 20 terms (error < 1e-20), square back.
inline Mat expm(Mat A) {
  double norm = 0;
  for (int i = 0; i < A.n; ++i) {
    double r = 0;
    for (int j = 0; j < A.n; ++j) r += std::fabs(A(i, j));
    norm = std::max(norm, r);
  }
  int squarings = 0;
  while (norm > 0.5) norm *= 0.5, ++squarings;
  for (double& v : A.a) v = std::ldexp(v, -squarings);
  Mat E(A.n, 1.0), term(A.n, 1.0);
  for (int k = 1; k <= 20; ++k) {
    term = term * A;
    for (double& v : term.a) v /= k;
    for (std::size_t i = 0; i < E.a.size(); ++i) E.a[i] += term.a[i];
  }
  for (int s = 0; s < squarings; ++s) E = E * E;
  return E;
}

// Solves M x = b (partial pivoting). Throws if M is singular.
inline std::vector<double> solve(std::vector<double> M, std::vector<double> b) {
  const int n = int(b.size());
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(M[r * n + c]) > std::fabs(M[p * n + c])) p = r;
    if (std::fabs(M[p * n + c]) < 1e-300) throw std::runtime_error("singular matrix");
    for (int k = 0; k < n; ++k) std::swap(M[c * n + k], M[p * n + k]);
    std::swap(b[c], b[p]);
    for (int r = c + 1; r < n; ++r) {
      const double f = M[r * n + c] / M[c * n + c];
      for (int k = c; k < n; ++k) M[r * n + k] -= f * M[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; --c) {
    for (int k = c + 1; k < n; ++k) b[c] -= M[c * n + k] * b[k];
    b[c] /= M[c * n + c];
  }
  return b;
}

// Q(t) = int_0^t e^{-B s} D e^{-B^T s} ds by Van Loan: exp([[B, D], [0, -B^T]] t) = [[., F], [0, E]]
// with E = e^{-B^T t}; then Q = E^T F.
inline Mat noise_covariance(const Mat& B, const Mat& D, double t) {
  const int n = B.n;
  Mat C(2 * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      C(i, j) = B(i, j) * t;
      C(i, n + j) = D(i, j) * t;
      C(n + i, n + j) = -B(j, i) * t;
    }
  const Mat X = expm(C);
  Mat F(n), E(n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) F(i, j) = X(i, n + j), E(i, j) = X(n + i, n + j);
  Mat Q = transpose(E) * F;
  for (int i = 0; i < n; ++i)  // symmetrise the round-off
    for (int j = i + 1; j < n; ++j) Q(i, j) = Q(j, i) = 0.5 * (Q(i, j) + Q(j, i));
  return Q;
}

// Stationary covariance: B S + S B^T = D (Kronecker form, n^2 unknowns).
inline Mat lyapunov(const Mat& B, const Mat& D) {
  const int n = B.n, m = n * n;
  std::vector<double> M(std::size_t(m) * m, 0.0), rhs(m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const int r = i * n + j;
      rhs[r] = D(i, j);
      for (int k = 0; k < n; ++k) {
        M[std::size_t(r) * m + k * n + j] += B(i, k);  // (B S)_ij
        M[std::size_t(r) * m + i * n + k] += B(j, k);  // (S B^T)_ij
      }
    }
  const auto x = solve(M, rhs);
  Mat S(n);
  S.a = x;
  return S;
}

}  // namespace fpflow::small
