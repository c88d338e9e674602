/* The activation kernels: one definition per activation, instantiated once
 * per precision by including activation_defs.h with FA_T (the C type) and
 * FA_S (the name suffix) set. Every function is static inline, so the loops
 * in loops.c see the body and the compiler vectorises it there. */
#ifndef FASTACT_ACTIVATIONS_H
#define FASTACT_ACTIVATIONS_H

#include "vmath.h"
#include "root_polys.h"
#include "act_table.h"

#define FA_PASTE3_(a, b, c) a##b##c
#define FA_PASTE3(a, b, c) FA_PASTE3_(a, b, c)
/* FA_FN(sigmoid) -> fa_sigmoid_f32; FA_M(exp) -> fa_vm_exp_f32 (vmath.h).
 * FA_V names a variant of the whole template: range_loops.h instantiates
 * it once more as fa_<name>_<S>_nt with FA_TAILS 0 (no FA_TAIL tiers). */
#define FA_V
#define FA_TAILS 1
#define FA_FN(name) FA_PASTE3(fa_, name, FA_PASTE3(_, FA_S, FA_V))
#define FA_M(name) FA_PASTE3(fa_vm_, name, FA_PASTE3(_, FA_S, ))
#define FA_C(v) ((FA_T)(v))
/* fa_root_<name>_<f32|f64> of root_polys.h for the precision. */
#define FA_ROOT(name) FA_PASTE3(fa_root_, name, FA_PASTE3(_, FA_S, ))
/* A constant that differs by precision: FA_PICK(value for float, value for
 * double), folded at compile time. */
#define FA_PICK(f, d) (sizeof(FA_T) == 4 ? (FA_T)(f) : (FA_T)(d))
/* float32 where table TAB covers x and the lookup is cheap (FA_TAB_USE,
 * act_table.h): m * TAB(x), m = x (f(x) / x tabulated), grad or 1; past
 * its saturation bounds (FA_TAB_<TAB>_SAT) the limit; else the closed form
 * (and always for float64). A NaN x gives x itself: the closed form's NaN
 * sign depends on how GCC arranged its selects, which differs between the
 * hand loops, the vector loops and scalar code. FA_TABLED_AT reads the
 * table at t instead (-x: softplus from log_sigmoid's). */
#define FA_TABLED_AT(TAB, t, x, m, closed)                                               \
    (sizeof(FA_T) == 4                                                                   \
         ? (FA_T)(FA_TAB_USE(TAB) && fa_tab_in((float)(t), FA_TAB_##TAB##_LO, FA_TAB_##TAB##_HI) \
                      ? (float)(m) * fa_tab_f32(FA_TAB(TAB), (float)(t))                 \
                  : FA_TAB_USE(TAB) && FA_SAT_HI_IS(TAB) && (float)(t) >= FA_SAT_HI(TAB) \
                      ? fa_sat_value(FA_SAT_HI_IS(TAB), (float)(x), (float)(m))          \
                  : FA_TAB_USE(TAB) && FA_SAT_LO_IS(TAB) && (float)(t) <= FA_SAT_LO(TAB) \
                      ? fa_sat_value(FA_SAT_LO_IS(TAB), (float)(x), (float)(m))          \
                  : (x) != (x) ? (float)(x)                                              \
                               : (float)(closed))                                        \
         : (closed))
#define FA_TABLED(TAB, x, m, closed) FA_TABLED_AT(TAB, x, x, m, closed)

#define FA_TEMPLATE "activation_defs.h"
#include "precisions.h"

#endif
