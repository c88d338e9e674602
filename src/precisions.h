/* Instantiate the precision template FA_TEMPLATE (a header without include
 * guard, written once in terms of FA_T, FA_S and FA_TFMA) for float and
 * double. Usage:
 *     #define FA_TEMPLATE "activation_defs.h"
 *     #include "precisions.h"
 * FA_TFMA is the precision's fused multiply-add (used only where the ISA
 * has one, see FA_FN(mul_err) in activation_defs.h). */
#define FA_T float
#define FA_S f32
#define FA_TFMA __builtin_fmaf
#include FA_TEMPLATE
#undef FA_T
#undef FA_S
#undef FA_TFMA

#define FA_T double
#define FA_S f64
#define FA_TFMA __builtin_fma
#include FA_TEMPLATE
#undef FA_T
#undef FA_S
#undef FA_TFMA

#undef FA_TEMPLATE
