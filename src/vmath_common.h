/* Building blocks of the vector math (vmath_*.h): bit casts, FMA, and the
 * error-free transformations. Everything is static inline and branch-free,
 * written with operations GCC vectorises at every SIMD level: float/double
 * arithmetic, comparisons and selects, and integer operations on integers
 * of the same width as the float (uint32_t with float, uint64_t with
 * double; only add, sub, and, or, logical shifts for 64-bit, because SSE2
 * and AVX2 have no 64-bit arithmetic shift or compare).
 *
 * Compiled with -O3 -fno-math-errno and without -ffast-math: the
 * error-free transformations below rely on IEEE rounding to nearest. GCC
 * contracts a*b+c into an FMA when the ISA has one (-ffp-contract=fast is
 * its default in GNU C); nothing here depends on a product being rounded
 * separately except the Dekker product, which is only used without FMA. */
#ifndef FASTACT_VMATH_COMMON_H
#define FASTACT_VMATH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define FA_INLINE static inline __attribute__((always_inline))

/* Bit casts (a register move, or nothing, once vectorised). */
FA_INLINE uint32_t fa_u32(float f) { uint32_t u; __builtin_memcpy(&u, &f, 4); return u; }
FA_INLINE float fa_f32(uint32_t u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
FA_INLINE uint64_t fa_u64(double f) { uint64_t u; __builtin_memcpy(&u, &f, 8); return u; }
FA_INLINE double fa_f64(uint64_t u) { double f; __builtin_memcpy(&f, &u, 8); return f; }

/* Fused multiply-add where the ISA has it; a*b+c (two roundings) on the
 * SSE2 baseline, where a libm fma() call would be scalar and slow. Code
 * that needs an exact product uses fa_two_prod_* instead. "Has it" is
 * __FP_FAST_FMA(F), which GCC defines exactly where it may contract, not
 * x86's __FMA__: aarch64 (and POWER) have FMA without __FMA__, and there
 * GCC contracts a * b + c into one anyway, so the FMA-free forms below
 * (Veltkamp's split, Dekker's product) would run contracted and inexact:
 * tools/cross_run.py found float64 gelu_tanh 184 ULP off on aarch64
 * before this test. */
#if defined(__FP_FAST_FMA) && defined(__FP_FAST_FMAF)
#define FA_HAVE_FMA 1
#define FA_FMA_F32(a, b, c) __builtin_fmaf((a), (b), (c))
#define FA_FMA_F64(a, b, c) __builtin_fma((a), (b), (c))
#else
#define FA_HAVE_FMA 0
#define FA_FMA_F32(a, b, c) ((a) * (b) + (c))
#define FA_FMA_F64(a, b, c) ((a) * (b) + (c))
#endif
/* Type-generic, for code written once for both precisions (FA_T). */
#define FA_FMA(a, b, c) _Generic((a) + (b) + (c), float: fa_fma_f32_, default: fa_fma_f64_)((a), (b), (c))
FA_INLINE float fa_fma_f32_(float a, float b, float c) { return FA_FMA_F32(a, b, c); }
FA_INLINE double fa_fma_f64_(double a, double b, double c) { return FA_FMA_F64(a, b, c); }

/* |x| and copysign by the sign bit. */
FA_INLINE float fa_abs_f32(float x) { return fa_f32(fa_u32(x) & 0x7fffffffu); }
FA_INLINE double fa_abs_f64(double x) { return fa_f64(fa_u64(x) & 0x7fffffffffffffffull); }
/* |m| with the sign of s (m >= 0 or NaN). */
FA_INLINE float fa_signed_f32(float m, float s) { return fa_f32(fa_u32(m) | (fa_u32(s) & 0x80000000u)); }
FA_INLINE double fa_signed_f64(double m, double s)
{
    return fa_f64(fa_u64(m) | (fa_u64(s) & 0x8000000000000000ull));
}

/* v * sign(s): v with its sign flipped where s has its sign bit set. */
FA_INLINE float fa_mulsign_f32(float v, float s) { return fa_f32(fa_u32(v) ^ (fa_u32(s) & 0x80000000u)); }
FA_INLINE double fa_mulsign_f64(double v, double s)
{
    return fa_f64(fa_u64(v) ^ (fa_u64(s) & 0x8000000000000000ull));
}

/* Double-word numbers: value hi + lo, |lo| <= ulp(hi)/2. */
typedef struct { float hi, lo; } fa_f32x2;
typedef struct { double hi, lo; } fa_f64x2;

/* a + b = s + e exactly (Knuth's TwoSum: no ordering needed). */
FA_INLINE fa_f32x2 fa_two_sum_f32(float a, float b)
{
    float s = a + b, bb = s - a;
    fa_f32x2 r = {s, (a - (s - bb)) + (b - bb)};
    return r;
}
FA_INLINE fa_f64x2 fa_two_sum_f64(double a, double b)
{
    double s = a + b, bb = s - a;
    fa_f64x2 r = {s, (a - (s - bb)) + (b - bb)};
    return r;
}

/* a * b = p + e exactly (no overflow; |a*b| well above the underflow
 * threshold): one FMA, or Dekker's product with Veltkamp's split. */
FA_INLINE fa_f32x2 fa_two_prod_f32(float a, float b)
{
    float p = a * b;
#if FA_HAVE_FMA
    fa_f32x2 r = {p, FA_FMA_F32(a, b, -p)};
#else
    float ca = 4097.0f * a, cb = 4097.0f * b; /* 2^12 + 1 */
    float ah = ca - (ca - a), al = a - ah;
    float bh = cb - (cb - b), bl = b - bh;
    fa_f32x2 r = {p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
#endif
    return r;
}
FA_INLINE fa_f64x2 fa_two_prod_f64(double a, double b)
{
    double p = a * b;
#if FA_HAVE_FMA
    fa_f64x2 r = {p, FA_FMA_F64(a, b, -p)};
#else
    double ca = 134217729.0 * a, cb = 134217729.0 * b; /* 2^27 + 1 */
    double ah = ca - (ca - a), al = a - ah;
    double bh = cb - (cb - b), bl = b - bh;
    fa_f64x2 r = {p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
#endif
    return r;
}

#endif
