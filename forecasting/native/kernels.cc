// LSTM and GRU recurrence kernels for XLA on CPU (JAX FFI), built on first use by build.py.
//
// Keras on JAX runs a recurrence as an XLA loop whose small per-step kernels (for the
// tutorial LSTM a 32x50 by 50x200 product, then the gates) cost about 30 us a step on a CPU;
// these kernels do a step in a few: the product register-blocked in 16-float vectors, the
// gates in one vectorized pass, the batch rows split over XLA's CPU threads. Only the
// sequential part is here: the input projection (x @ W + b) and the weight gradients are
// large matrix products, left to XLA (see rnn.py).
//
// Gate order and formulas are Keras' (sigmoid and tanh activations):
//   LSTM (i, f, g, o):  z = zx[t] + h @ U;  c = f * c + i * g;  h = o * tanh(c)
//   GRU (z, r, n; reset_after):  a = h @ U + b_rec;  z = sigmoid(zx_z + a_z);
//     r = sigmoid(zx_r + a_r);  n = tanh(zx_n + r * a_n);  h = z * h + (1 - z) * n

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int64_t kLanes = 16;
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

inline int64_t Padded(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

inline Vec Load(const float* p) { Vec v; std::memcpy(&v, p, sizeof v); return v; }
inline void Store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

// out[R rows, V vectors] += x[R rows, K] @ w[K, V vectors]; rows of w are w_stride apart.
template <int R, int V>
inline void Tile(float* out, int64_t out_stride, const float* x, int64_t x_stride,
                 const float* w, int64_t w_stride, int64_t K) {
  Vec acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = Load(out + r * out_stride + v * kLanes);
  for (int64_t k = 0; k < K; ++k) {
    Vec wk[V];
    for (int v = 0; v < V; ++v) wk[v] = Load(w + k * w_stride + v * kLanes);
    for (int r = 0; r < R; ++r) {
      const float xk = x[r * x_stride + k];
      for (int v = 0; v < V; ++v) acc[r][v] += xk * wk[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) Store(out + r * out_stride + v * kLanes, acc[r][v]);
}

template <int R>
inline void TileRow(float* out, int64_t out_stride, const float* x, int64_t x_stride,
                    const float* w, int64_t width, int64_t K) {
  int64_t c = 0;
  for (; c + 4 * kLanes <= width; c += 4 * kLanes)
    Tile<R, 4>(out + c, out_stride, x, x_stride, w + c, width, K);
  switch ((width - c) / kLanes) {
    case 3: Tile<R, 3>(out + c, out_stride, x, x_stride, w + c, width, K); break;
    case 2: Tile<R, 2>(out + c, out_stride, x, x_stride, w + c, width, K); break;
    case 1: Tile<R, 1>(out + c, out_stride, x, x_stride, w + c, width, K); break;
    default: break;
  }
}

// out[rows, width] += x[rows, K] @ w[K, width]: rows of x are x_stride apart, rows of out
// and w width apart; width is a multiple of kLanes.
void MatMulAdd(float* out, const float* x, int64_t x_stride, const float* w, int64_t rows,
               int64_t K, int64_t width) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    TileRow<4>(out + r * width, width, x + r * x_stride, x_stride, w, width, K);
  for (; r < rows; ++r) TileRow<1>(out + r * width, width, x + r * x_stride, x_stride, w, width, K);
}

// Eigen's float tanh: a 13/6 rational approximation, within a few ulp of tanh.
inline Vec Tanh(Vec x) {
  const Vec limit = Vec{} + 7.90531110763549805f;
  x = x > limit ? limit : (x < -limit ? -limit : x);
  const Vec x2 = x * x;
  Vec p = Vec{} - 2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 - 8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  Vec q = Vec{} + 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return x * p / q;
}
inline Vec Sigmoid(Vec x) { return 0.5f * Tanh(0.5f * x) + 0.5f; }

// Layouts inside the kernels: a row of H values is padded to P = Padded(H) floats, and a
// row of the four activated gates to 4P (gate q at q * P), so that element-wise steps work
// on whole vectors. The pre-activations z keep Keras' compact row (gate q at q * H) padded
// to Z = Padded(3H + P) floats, so the product computes few padding columns and a vector
// read of the last gate stays inside the row. Padding lanes hold finite values, and only
// ever meet zero rows or columns of U.

// Rows of n floats, src_stride apart, into rows dst_stride apart (the rest untouched).
void CopyRows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride,
              int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, n * sizeof(float));
}

// u[H, gates * H] transposed gate by gate, each gate's rows and the columns padded to P:
// [gates * P, P], for dh = d @ U^T one gate at a time.
std::vector<float> TransposedGates(const float* u, int gates, int64_t H, int64_t P) {
  std::vector<float> ut(gates * P * P, 0.0f);
  for (int q = 0; q < gates; ++q)
    for (int64_t j = 0; j < H; ++j)
      for (int64_t k = 0; k < H; ++k) ut[(q * P + j) * P + k] = u[k * gates * H + q * H + j];
  return ut;
}

// Runs body(first_row, end_row) over rows split into parts, on the caller's thread and XLA's
// CPU thread pool: batch rows are independent in both passes, so each part runs all steps
// without waiting on the others. Parts are claimed from a counter, so the caller finishes
// every part itself if no pool thread comes (never a deadlock).
template <typename Body>
void ForRowParts(ffi::ThreadPool& pool, int64_t rows, const Body& body) {
  const int64_t most = std::max<int64_t>(1, std::min<int64_t>(pool.num_threads(), rows / 8));
  const int64_t size = ((rows + most - 1) / most + 3) & ~int64_t{3};  // whole 4-row tiles
  const int64_t parts = (rows + size - 1) / size;
  struct Progress { std::atomic<int64_t> next{0}, done{0}; };
  auto progress = std::make_shared<Progress>();
  auto work = [progress, parts, size, rows, &body] {
    for (int64_t p; (p = progress->next.fetch_add(1)) < parts; progress->done.fetch_add(1))
      body(p * size, std::min(rows, (p + 1) * size));
  };
  for (int64_t p = 1; p < parts; ++p) pool.Schedule([work] { work(); });
  work();
  while (progress->done.load() < parts) std::this_thread::yield();
}

// The forward recurrence: zx[T, B, 4H] (x @ W + b), u[H, 4H], h0/c0[B, H] -> hs[T, B, H]
// (every step's h). For training it also keeps cs[T, B, P] (every step's c) and
// gates[T, B, 4P] (activated) for the backward pass; for inference only c_last[B, H].
ffi::Error RunForward(ffi::ThreadPool& pool, ffi::Buffer<ffi::F32>& zx,
                      ffi::Buffer<ffi::F32>& u, ffi::Buffer<ffi::F32>& h0,
                      ffi::Buffer<ffi::F32>& c0, float* hs, float* cs, float* gates,
                      float* c_last) {
  const auto dims = zx.dimensions();
  if (dims.size() != 3 || dims[2] % 4) return ffi::Error::InvalidArgument("zx: [T, B, 4H]");
  const int64_t T = dims[0], B = dims[1], G = dims[2], H = G / 4, P = Padded(H), W = 4 * P;
  const int64_t Z = Padded(3 * H + P);
  if (u.element_count() != H * G || h0.element_count() != B * H || c0.element_count() != B * H)
    return ffi::Error::InvalidArgument("u: [H, 4H], h0 and c0: [B, H]");
  std::vector<float> up(H * Z, 0.0f);  // U with rows padded to Z
  CopyRows(up.data(), Z, u.typed_data(), G, H, G);
  ForRowParts(pool, B, [&](int64_t first, int64_t end) {
    const int64_t R = end - first;
    std::vector<float> h(R * P, 0.0f), z(R * Z, 0.0f), c(R * P, 0.0f), a(gates ? 0 : R * W);
    CopyRows(h.data(), P, h0.typed_data() + first * H, H, R, H);
    CopyRows(c.data(), P, c0.typed_data() + first * H, H, R, H);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = t * B + first;  // this part's first row at step t
      CopyRows(z.data(), Z, zx.typed_data() + row * G, G, R, G);
      MatMulAdd(z.data(), h.data(), P, up.data(), R, H, Z);
      float* a_t = gates ? gates + row * W : a.data();
      for (int64_t b = 0; b < R; ++b) {
        float* ab = a_t + b * W;
        for (int64_t j = 0; j < P; j += kLanes) {
          const float* zb = &z[b * Z + j];
          const Vec i = Sigmoid(Load(zb)), f = Sigmoid(Load(zb + H));
          const Vec g = Tanh(Load(zb + 2 * H)), o = Sigmoid(Load(zb + 3 * H));
          const Vec cn = f * Load(&c[b * P + j]) + i * g;
          Store(ab + j, i); Store(ab + P + j, f); Store(ab + 2 * P + j, g); Store(ab + 3 * P + j, o);
          Store(&c[b * P + j], cn);
          Store(&h[b * P + j], o * Tanh(cn));
        }
      }
      if (cs) std::memcpy(cs + row * P, c.data(), R * P * sizeof(float));
      CopyRows(hs + row * H, H, h.data(), P, R, H);
    }
    if (c_last) CopyRows(c_last + first * H, H, c.data(), P, R, H);
  });
  return ffi::Error::Success();
}

ffi::Error Forward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> zx, ffi::Buffer<ffi::F32> u,
                   ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> c0,
                   ffi::ResultBuffer<ffi::F32> hs, ffi::ResultBuffer<ffi::F32> c_last) {
  const int64_t size = zx.element_count() / 4;
  if (hs->element_count() != size || c_last->element_count() != h0.element_count())
    return ffi::Error::InvalidArgument("hs: [T, B, H], c_last: [B, H]");
  return RunForward(pool, zx, u, h0, c0, hs->typed_data(), nullptr, nullptr,
                    c_last->typed_data());
}

ffi::Error ForwardForTraining(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> zx,
                              ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> h0,
                              ffi::Buffer<ffi::F32> c0, ffi::ResultBuffer<ffi::F32> hs,
                              ffi::ResultBuffer<ffi::F32> cs, ffi::ResultBuffer<ffi::F32> gates) {
  const auto dims = zx.dimensions();
  const int64_t steps_rows = dims.size() == 3 ? dims[0] * dims[1] : 0;
  const int64_t P = dims.size() == 3 ? Padded(dims[2] / 4) : 0;
  if (hs->element_count() * 4 != zx.element_count() ||
      cs->element_count() != steps_rows * P || gates->element_count() != steps_rows * 4 * P)
    return ffi::Error::InvalidArgument("hs: [T, B, H], cs: [T, B, P], gates: [T, B, 4P]");
  return RunForward(pool, zx, u, h0, c0, hs->typed_data(), cs->typed_data(),
                    gates->typed_data(), nullptr);
}

// Backward: the gradients dhs[T, B, H] (of every step's h) and dc_last[B, H] (of the last c),
// with the forward pass' cs and gates -> dz[T, B, 4H] (of the pre-activations; rnn.py gets
// the weight and input gradients from it with large products) and dh0/dc0[B, H].
ffi::Error Backward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> dhs,
                    ffi::Buffer<ffi::F32> dc_last, ffi::Buffer<ffi::F32> u,
                    ffi::Buffer<ffi::F32> c0, ffi::Buffer<ffi::F32> cs,
                    ffi::Buffer<ffi::F32> gates, ffi::ResultBuffer<ffi::F32> dz,
                    ffi::ResultBuffer<ffi::F32> dh0, ffi::ResultBuffer<ffi::F32> dc0) {
  const auto dims = dz->dimensions();
  if (dims.size() != 3 || dims[2] % 4) return ffi::Error::InvalidArgument("dz: [T, B, 4H]");
  const int64_t T = dims[0], B = dims[1], G = dims[2], H = G / 4, P = Padded(H), W = 4 * P;
  if (u.element_count() != H * G || dhs.element_count() != T * B * H ||
      cs.element_count() != T * B * P || gates.element_count() != T * B * W ||
      c0.element_count() != B * H || dc_last.element_count() != B * H)
    return ffi::Error::InvalidArgument("u: [H, 4H], dhs: [T, B, H], cs: [T, B, P], "
                                       "gates: [T, B, 4P], c0 and dc_last: [B, H]");
  const std::vector<float> ut = TransposedGates(u.typed_data(), 4, H, P);
  ForRowParts(pool, B, [&](int64_t first, int64_t end) {
    const int64_t R = end - first;
    std::vector<float> dh_next(R * P, 0.0f), dh(R * P, 0.0f), dc(R * P, 0.0f);
    std::vector<float> c_first(R * P, 0.0f), d(R * W, 0.0f);
    CopyRows(dc.data(), P, dc_last.typed_data() + first * H, H, R, H);
    CopyRows(c_first.data(), P, c0.typed_data() + first * H, H, R, H);
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t row = t * B + first;
      const float* a_t = gates.typed_data() + row * W;
      const float* c_t = cs.typed_data() + row * P;
      const float* cp_t = t ? cs.typed_data() + (row - B) * P : c_first.data();
      CopyRows(dh.data(), P, dhs.typed_data() + row * H, H, R, H);
      for (int64_t b = 0; b < R; ++b) {
        for (int64_t j = 0; j < P; j += kLanes) {
          const float* ab = a_t + b * W + j;
          const int64_t n = b * P + j;
          const Vec i = Load(ab), f = Load(ab + P), g = Load(ab + 2 * P), o = Load(ab + 3 * P);
          const Vec dhn = Load(&dh[n]) + Load(&dh_next[n]);
          const Vec tc = Tanh(Load(c_t + n));
          const Vec dcn = Load(&dc[n]) + dhn * o * (1.0f - tc * tc);
          float* db = &d[b * W + j];
          Store(db, dcn * g * i * (1.0f - i));
          Store(db + P, dcn * Load(cp_t + n) * f * (1.0f - f));
          Store(db + 2 * P, dcn * i * (1.0f - g * g));
          Store(db + 3 * P, dhn * tc * o * (1.0f - o));
          Store(&dc[n], dcn * f);
        }
      }
      for (int q = 0; q < 4; ++q)
        CopyRows(dz->typed_data() + row * G + q * H, G, &d[q * P], W, R, H);
      std::fill(dh_next.begin(), dh_next.end(), 0.0f);
      for (int q = 0; q < 4; ++q)
        MatMulAdd(dh_next.data(), &d[q * P], W, &ut[q * P * P], R, H, P);
    }
    CopyRows(dh0->typed_data() + first * H, H, dh_next.data(), P, R, H);
    CopyRows(dc0->typed_data() + first * H, H, dc.data(), P, R, H);
  });
  return ffi::Error::Success();
}

// GRU forward: zx[T, B, 3H] (x @ W + b_in), u[H, 3H], b_rec[3H], h0[B, H] -> hs[T, B, H];
// for training also gates[T, B, 4P]: z, r, n and a_n (the recurrent part of n before r).
ffi::Error RunGruForward(ffi::ThreadPool& pool, ffi::Buffer<ffi::F32>& zx,
                         ffi::Buffer<ffi::F32>& u, ffi::Buffer<ffi::F32>& b_rec,
                         ffi::Buffer<ffi::F32>& h0, float* hs, float* gates) {
  const auto dims = zx.dimensions();
  if (dims.size() != 3 || dims[2] % 3) return ffi::Error::InvalidArgument("zx: [T, B, 3H]");
  const int64_t T = dims[0], B = dims[1], G = dims[2], H = G / 3, P = Padded(H), W = 4 * P;
  const int64_t Z = Padded(2 * H + P);
  if (u.element_count() != H * G || b_rec.element_count() != G || h0.element_count() != B * H)
    return ffi::Error::InvalidArgument("u: [H, 3H], b_rec: [3H], h0: [B, H]");
  std::vector<float> up(H * Z, 0.0f);  // U with rows padded to Z
  CopyRows(up.data(), Z, u.typed_data(), G, H, G);
  ForRowParts(pool, B, [&](int64_t first, int64_t end) {
    const int64_t R = end - first;
    std::vector<float> h(R * P, 0.0f), x(R * Z, 0.0f), a(R * Z, 0.0f);
    CopyRows(h.data(), P, h0.typed_data() + first * H, H, R, H);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = t * B + first;
      CopyRows(x.data(), Z, zx.typed_data() + row * G, G, R, G);
      for (int64_t b = 0; b < R; ++b) std::memcpy(&a[b * Z], b_rec.typed_data(), G * sizeof(float));
      MatMulAdd(a.data(), h.data(), P, up.data(), R, H, Z);
      for (int64_t b = 0; b < R; ++b) {
        for (int64_t j = 0; j < P; j += kLanes) {
          const float* xb = &x[b * Z + j];
          const float* ab = &a[b * Z + j];
          const Vec z = Sigmoid(Load(xb) + Load(ab)), r = Sigmoid(Load(xb + H) + Load(ab + H));
          const Vec an = Load(ab + 2 * H);
          const Vec n = Tanh(Load(xb + 2 * H) + r * an);
          const Vec hn = z * Load(&h[b * P + j]) + (1.0f - z) * n;
          Store(&h[b * P + j], hn);
          if (gates) {
            float* gb = gates + (row + b) * W + j;
            Store(gb, z); Store(gb + P, r); Store(gb + 2 * P, n); Store(gb + 3 * P, an);
          }
        }
      }
      CopyRows(hs + row * H, H, h.data(), P, R, H);
    }
  });
  return ffi::Error::Success();
}

ffi::Error GruForward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> zx, ffi::Buffer<ffi::F32> u,
                      ffi::Buffer<ffi::F32> b_rec, ffi::Buffer<ffi::F32> h0,
                      ffi::ResultBuffer<ffi::F32> hs) {
  if (hs->element_count() * 3 != zx.element_count())
    return ffi::Error::InvalidArgument("hs: [T, B, H]");
  return RunGruForward(pool, zx, u, b_rec, h0, hs->typed_data(), nullptr);
}

ffi::Error GruForwardForTraining(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> zx,
                                 ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> b_rec,
                                 ffi::Buffer<ffi::F32> h0, ffi::ResultBuffer<ffi::F32> hs,
                                 ffi::ResultBuffer<ffi::F32> gates) {
  const auto dims = zx.dimensions();
  const int64_t steps_rows = dims.size() == 3 ? dims[0] * dims[1] : 0;
  const int64_t P = dims.size() == 3 ? Padded(dims[2] / 3) : 0;
  if (hs->element_count() * 3 != zx.element_count() ||
      gates->element_count() != steps_rows * 4 * P)
    return ffi::Error::InvalidArgument("hs: [T, B, H], gates: [T, B, 4P]");
  return RunGruForward(pool, zx, u, b_rec, h0, hs->typed_data(), gates->typed_data());
}

// GRU backward: dhs[T, B, H] (gradient of every step's h), u, h0, the forward pass' hs and
// gates -> dzx[T, B, 3H] (of x @ W + b_in), da[T, B, 3H] (of h @ U + b_rec) and dh0[B, H].
ffi::Error GruBackward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> dhs, ffi::Buffer<ffi::F32> u,
                       ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> hs,
                       ffi::Buffer<ffi::F32> gates, ffi::ResultBuffer<ffi::F32> dzx,
                       ffi::ResultBuffer<ffi::F32> da, ffi::ResultBuffer<ffi::F32> dh0) {
  const auto dims = dzx->dimensions();
  if (dims.size() != 3 || dims[2] % 3) return ffi::Error::InvalidArgument("dzx: [T, B, 3H]");
  const int64_t T = dims[0], B = dims[1], G = dims[2], H = G / 3, P = Padded(H), W = 4 * P;
  if (u.element_count() != H * G || dhs.element_count() != T * B * H ||
      hs.element_count() != T * B * H || gates.element_count() != T * B * W ||
      h0.element_count() != B * H || da->element_count() != T * B * G)
    return ffi::Error::InvalidArgument("u: [H, 3H], dhs and hs: [T, B, H], gates: [T, B, 4P], "
                                       "h0: [B, H], da: [T, B, 3H]");
  const std::vector<float> ut = TransposedGates(u.typed_data(), 3, H, P);
  ForRowParts(pool, B, [&](int64_t first, int64_t end) {
    const int64_t R = end - first;
    std::vector<float> dh_next(R * P, 0.0f), dh(R * P, 0.0f), hp(R * P, 0.0f);
    std::vector<float> dx(R * 3 * P, 0.0f), dr(R * 3 * P, 0.0f);
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t row = t * B + first;
      const float* g_t = gates.typed_data() + row * W;
      CopyRows(dh.data(), P, dhs.typed_data() + row * H, H, R, H);
      CopyRows(hp.data(), P, t ? hs.typed_data() + (row - B) * H : h0.typed_data() + first * H,
               H, R, H);
      for (int64_t b = 0; b < R; ++b) {
        for (int64_t j = 0; j < P; j += kLanes) {
          const float* gb = g_t + b * W + j;
          const int64_t m = b * P + j, n3 = b * 3 * P + j;
          const Vec z = Load(gb), r = Load(gb + P), n = Load(gb + 2 * P), an = Load(gb + 3 * P);
          const Vec d = Load(&dh[m]) + Load(&dh_next[m]);
          const Vec dn = d * (1.0f - z) * (1.0f - n * n);
          const Vec dz = d * (Load(&hp[m]) - n) * z * (1.0f - z);
          const Vec drr = dn * an * r * (1.0f - r);
          Store(&dx[n3], dz); Store(&dx[n3 + P], drr); Store(&dx[n3 + 2 * P], dn);
          Store(&dr[n3], dz); Store(&dr[n3 + P], drr); Store(&dr[n3 + 2 * P], dn * r);
          Store(&dh_next[m], d * z);
        }
      }
      for (int q = 0; q < 3; ++q) {
        CopyRows(dzx->typed_data() + row * G + q * H, G, &dx[q * P], 3 * P, R, H);
        CopyRows(da->typed_data() + row * G + q * H, G, &dr[q * P], 3 * P, R, H);
        MatMulAdd(dh_next.data(), &dr[q * P], 3 * P, &ut[q * P * P], R, H, P);
      }
    }
    CopyRows(dh0->typed_data() + first * H, H, dh_next.data(), P, R, H);
  });
  return ffi::Error::Success();
}

}  // namespace

// Every kernel takes XLA's CPU thread pool, then float32 buffers.
#define BIND ffi::Ffi::Bind().Ctx<ffi::ThreadPool>()
#define ARG .Arg<ffi::Buffer<ffi::F32>>()
#define RET .Ret<ffi::Buffer<ffi::F32>>()

XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingLstmForward, Forward, BIND ARG ARG ARG ARG RET RET);
XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingLstmForwardForTraining, ForwardForTraining,
                              BIND ARG ARG ARG ARG RET RET RET);
XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingLstmBackward, Backward,
                              BIND ARG ARG ARG ARG ARG ARG RET RET RET);
XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingGruForward, GruForward, BIND ARG ARG ARG ARG RET);
XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingGruForwardForTraining, GruForwardForTraining,
                              BIND ARG ARG ARG ARG RET RET);
XLA_FFI_DEFINE_HANDLER_SYMBOL(ForecastingGruBackward, GruBackward,
                              BIND ARG ARG ARG ARG ARG RET RET RET);
