/* Scalar math used by the activation kernels, one name per function and
 * precision (fa_vm_exp_f32, fa_vm_exp_f64, ...). Every kernel calls math through
 * these names only, so the implementations can be replaced by inlinable,
 * branch-free vector-friendly polynomials without touching a kernel.
 *
 * FA_T / FA_S: see activations.h (the precision template). */
#ifndef FASTACT_VMATH_H
#define FASTACT_VMATH_H

#include <math.h>

#define FA_INLINE static inline __attribute__((always_inline))

FA_INLINE float fa_vm_exp_f32(float x) { return expf(x); }
FA_INLINE double fa_vm_exp_f64(double x) { return exp(x); }
FA_INLINE float fa_vm_expm1_f32(float x) { return expm1f(x); }
FA_INLINE double fa_vm_expm1_f64(double x) { return expm1(x); }
FA_INLINE float fa_vm_log1p_f32(float x) { return log1pf(x); }
FA_INLINE double fa_vm_log1p_f64(double x) { return log1p(x); }
FA_INLINE float fa_vm_tanh_f32(float x) { return tanhf(x); }
FA_INLINE double fa_vm_tanh_f64(double x) { return tanh(x); }
FA_INLINE float fa_vm_erf_f32(float x) { return erff(x); }
FA_INLINE double fa_vm_erf_f64(double x) { return erf(x); }
FA_INLINE float fa_vm_erfc_f32(float x) { return erfcf(x); }
FA_INLINE double fa_vm_erfc_f64(double x) { return erfc(x); }

/* fabs is a compiler builtin (a sign-bit mask) and vectorises. */
FA_INLINE float fa_vm_abs_f32(float x) { return fabsf(x); }
FA_INLINE double fa_vm_abs_f64(double x) { return fabs(x); }

#endif
