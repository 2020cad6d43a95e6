#pragma once
// Reference (oracle) fully connected layer: plain loops, templated on T, for tests only.
//   y[n, o] = b[o] + sum_i x[n, i] * w[o, i]        x: [N, in], w: [out, in] (PyTorch), y: [N, out]
#include <cstdint>

namespace moodnet::kernels::ref {

template <class T>
inline void linear_forward(std::int64_t N, std::int64_t in, std::int64_t out, const T* x, const T* w, const T* b,
                           T* y) {
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < out; ++o) {
      T s = b ? b[o] : T(0);
      for (std::int64_t i = 0; i < in; ++i) s += x[n * in + i] * w[o * in + i];
      y[n * out + o] = s;
    }
}

// dx[n, i] = sum_o dy[n, o] w[o, i] (overwritten).
template <class T>
inline void linear_backward_input(std::int64_t N, std::int64_t in, std::int64_t out, const T* dy, const T* w, T* dx) {
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t i = 0; i < in; ++i) {
      T s = 0;
      for (std::int64_t o = 0; o < out; ++o) s += dy[n * out + o] * w[o * in + i];
      dx[n * in + i] = s;
    }
}

// dw[o, i] += sum_n dy[n, o] x[n, i] (accumulated).
template <class T>
inline void linear_backward_weight(std::int64_t N, std::int64_t in, std::int64_t out, const T* x, const T* dy, T* dw) {
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i) {
      T s = 0;
      for (std::int64_t n = 0; n < N; ++n) s += dy[n * out + o] * x[n * in + i];
      dw[o * in + i] += s;
    }
}

// db[o] += sum_n dy[n, o] (accumulated).
template <class T>
inline void linear_backward_bias(std::int64_t N, std::int64_t out, const T* dy, T* db) {
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < out; ++o) db[o] += dy[n * out + o];
}

}  // namespace moodnet::kernels::ref
