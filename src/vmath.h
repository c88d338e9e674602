/* Scalar math used by the activation kernels, one name per function and
 * precision (fa_vm_exp_f32, fa_vm_exp_f64, ...). Every kernel calls math
 * through these names only (FA_M(exp) in the precision template).
 *
 * The implementations are branch-free, inlinable C -- range reduction and
 * minimax polynomials, FMA where the ISA has it, error-free transformations
 * where accuracy needs them -- written so that GCC vectorises the loops of
 * loops.c at every SIMD level (baseline SSE2, AVX2+FMA, AVX-512). No libm
 * call per element. Each function is within 1-2 ulp over its whole range,
 * handles +-0, +-inf, NaN, overflow and subnormal results exactly, and has
 * its own ufunc (fastact._core._vm_<name>, vmath.def) and ULP test
 * (tests/test_vmath.py).
 *
 *   vmath_common.h  bit casts, FA_FMA, TwoSum, TwoProduct (FMA or Dekker)
 *   vmath_exp.h     exp, expm1, and the exp kernel m * exp(hi + lo)
 *   vmath_log.h     log, log1p
 *   vmath_tanh.h    tanh (one exp)
 *   vmath_erf.h     erf, erfc
 *
 * Coefficients: tools/vmath_remez.py (mpmath Remez), see each header.
 *
 * Building blocks for kernels that need more than f(x) (same names with
 * _f64 for float64):
 *   fa_exp_core_f32(a, b, m)  m * exp(a + b), b the low part of a
 *                             double-word argument (|b| <= a few ulp(a)),
 *                             m of either sign applied before the 2^n scaling.
 *                             E.g. exp(-x^2/2) to full accuracy for large
 *                             |x|: p = fa_two_prod_f32(x, -0.5f * x);
 *                             fa_exp_core_f32(p.hi, p.lo, 1.0f).
 *   fa_exp_neg_core_f32(a, b, m), fa_vm_exp_neg_f32(x)
 *                             the same for a <= 0 (correct up to 43 / 620
 *                             for float64): cheaper scaling by 2^n.
 *   fa_exp_neg_core_dw_f64(a, b, m, &ml)
 *                             the same with a double-word factor m + ml.
 *   fa_vm_expm1_neg_f32(x)    expm1 for x <= 0 only: no upper clamp, no |x|.
 *   fa_erfc_pos_f32(x)        erfc for x >= 0 (skips the sign handling).
 *   fa_phi_ratio_f32(a)       Phi(-a) / exp(-a^2/2), a >= 0 (gelu:
 *                             Phi(-a) = m exp(-a^2/2) with the exponent an
 *                             exact product; vmath_erf.h).
 *   fa_phi_ratio_f64(a, &ml, core)
 *                             the same as a double-word number mh + ml.
 *   fa_vm_log1p_unit_f32(e)   log1p(e) for 0 <= e <= 1 only (e = exp(-|x|)):
 *                             one polynomial, no range reduction (vmath_log.h).
 *   fa_two_sum_f32, fa_two_prod_f32 (vmath_common.h): error-free sum and
 *                             product (FMA, or Dekker on the baseline).
 *   FA_FMA(a, b, c)           type-generic FMA (a*b+c without the ISA).
 *
 * Build note: loops.c is compiled with -fno-trapping-math; without it GCC
 * leaves the clamps of these functions as branches and does not vectorise
 * (the baseline and AVX2 loops stay scalar). */
#ifndef FASTACT_VMATH_H
#define FASTACT_VMATH_H

#include "vmath_common.h"
#include "vmath_exp.h"
#include "vmath_log.h"
#include "vmath_tanh.h"
#include "vmath_erf.h"

/* |x|: a sign-bit mask. */
FA_INLINE float fa_vm_abs_f32(float x) { return fa_abs_f32(x); }
FA_INLINE double fa_vm_abs_f64(double x) { return fa_abs_f64(x); }
/* v * sign(s), a sign-bit flip. */
FA_INLINE float fa_vm_mulsign_f32(float v, float s) { return fa_mulsign_f32(v, s); }
FA_INLINE double fa_vm_mulsign_f64(double v, double s) { return fa_mulsign_f64(v, s); }

#endif
