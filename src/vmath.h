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
 * Coefficients: tools/vmath_remez.py (mpmath Remez), see each header. */
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

#endif
