/* NumPy inner loops for every row of kernels.def, generated for float16
 * (computed in float32), float32 and float64. This file is compiled once
 * per SIMD level (FA_ISA = baseline, avx2, avx512); the only symbol it
 * exports is that level's loop table, fa_loops_<FA_ISA>.
 *
 * Each loop has three paths: every operand contiguous or stride 0 (stride-0
 * operands broadcast into buffers, blocks.h); the same with all parameters
 * stride 0, hoisted out of the loop; and general strides. The kernel is a
 * static inline function, so its body is inlined into the first two paths
 * and vectorised there. */
#include "fastact.h"
#include "half.h"
#include "blocks.h"
#include "hand_loops.h"
#include "activations.h"
#include "mask_grads.h"
#include "act_loops.h"
#include "range_loops.h"
#include "param_loops.h"

/* Per dtype: storage type, load/store to the compute type, kernel suffix.
 * An output either is an input exactly (in place), or does not overlap it,
 * or -- NumPy skips the copy when a front-to-back pass is safe, e.g.
 * out=a[:-1] with input a[1:] -- overlaps it ahead of the reads. In every
 * case a vector loop that loads a block before storing it is correct, so
 * FA_IVDEP tells the compiler to ignore the possible aliasing. (Threads are
 * another matter: fa_run keeps such loops on one thread.) */
#define FA_ST_f16 uint16_t
#define FA_ST_f32 float
#define FA_ST_f64 double
#define FA_CT_f16 float
#define FA_CT_f32 float
#define FA_CT_f64 double
#define FA_KS_f16 f32
#define FA_KS_f32 f32
#define FA_KS_f64 f64
#define FA_LD_f16(v) fa_half_to_float(v)
#define FA_LD_f32(v) (v)
#define FA_LD_f64(v) (v)
#define FA_STO_f16(v) fa_float_to_half(v)
#define FA_STO_f32(v) (v)
#define FA_STO_f64(v) (v)
#define FA_ST(S) FA_CAT(FA_ST_, S)
#define FA_CT(S) FA_CAT(FA_CT_, S)

/* Operand accessors inside a loop over i: data k and parameter k, for the
 * blocked paths (a[k]: the block's operand, contiguous), parameters hoisted
 * into p (H), and general strides (S). */
#define FA_DC(S, k) FA_CAT(FA_LD_, S)(((const FA_ST(S) *)a[k])[i])
#define FA_DS(S, k) FA_CAT(FA_LD_, S)(*(const FA_ST(S) *)(args[k] + i * steps[k]))
#define FA_PC(S, k) ((FA_CT(S))((const double *)a[k])[i])
#define FA_PH(S, k) ((FA_CT(S))p[k])
#define FA_PS(S, k) ((FA_CT(S)) * (const double *)(args[k] + i * steps[k]))

/* Argument lists: ND data operands, then NP parameters. */
#define FA_DATA_1(D, S) D(S, 0)
#define FA_DATA_2(D, S) D(S, 0), D(S, 1)
#define FA_DATA_3(D, S) D(S, 0), D(S, 1), D(S, 2)
#define FA_DATA_4(D, S) D(S, 0), D(S, 1), D(S, 2), D(S, 3)
#define FA_PARAMS_0(P, S, ND)
#define FA_PARAMS_1(P, S, ND) , P(S, ND)
#define FA_PARAMS_2(P, S, ND) , P(S, ND), P(S, ND + 1)
#define FA_PARAMS_3(P, S, ND) , P(S, ND), P(S, ND + 1), P(S, ND + 2)
#define FA_ARGS(ND, NP, D, P, S) FA_CAT(FA_DATA_, ND)(D, S) FA_CAT(FA_PARAMS_, NP)(P, S, ND)

/* One element of kernel K for dtype S, operands read by D and P. */
#define FA_ELEM(K, S, ND, NP, D, P) \
    FA_CAT(FA_STO_, S)(FA_CAT(fa_##K##_, FA_CAT(FA_KS_, S))(FA_ARGS(ND, NP, D, P, S)))

/* float16 computes in float32; with F16C each block is widened into
 * float buffers of FA_WBLOCK values, the float32 loop runs on them, and the
 * results are narrowed (half.h): one vector loop, whatever the kernel. */
#define FA_WIDEN_f16 FA_HAVE_F16C
#define FA_WIDEN_f32 0
#define FA_WIDEN_f64 0
#define FA_WIDEN(S) FA_CAT(FA_WIDEN_, S)
#define FA_WBLOCK 256

/* The vector loops over one block of m elements into DST, operands a[]:
 * parameters hoisted (with a hand loop first where there is one,
 * mask_grads.h) or read from a[] (with FA_EACH_<K>_<S> first where there
 * is one, param_loops.h). A block of FA_ALIGN_MIN elements or more runs in
 * two parts, split where DST reaches a 64-byte boundary, so that the
 * vectors of the second (all but at most 15 or 7 elements) store whole
 * cache lines: NumPy's large arrays start 16 bytes into one. Same process,
 * 1 thread, Intel Xeon: relu float32 -7 to -14% at 16M, -3 to -4% at 1M,
 * silu' and log_sigmoid' float64 -4% at 1M (a bare C loop: 0.44-0.56 ->
 * 0.31-0.33 ns at 1M-8M). The first part is the second's own code run over
 * its few elements, so every element gets the same bits as before (the
 * hand loops and the generic loop agree lane by lane). */
#define FA_ALIGN_MIN 64

/* STMT (an assignment to DST[i]) for i in [i0, hi): in a call that writes
 * FA_PF_MIN_BYTES or more (STREAM), a cache line of DST at a time, each
 * prefetching the lines FA_PF_DIST bytes ahead in every data operand and
 * DST (hand_loops.h says why), then the rest as one loop. GCC vectorises
 * each line's loop into whole vectors; it does not vectorise a loop with
 * a prefetch in it. */
#define FA_LINES(S, ND, DST, i0, hi, STREAM, STMT)                                 \
    {                                                                               \
        enum { LINE_ = 64 / sizeof(FA_ST(S)) };                                     \
        fa_intp j_ = i0;                                                            \
        if (STREAM)                                                                 \
            for (; j_ + LINE_ <= (hi); j_ += LINE_) {                               \
                for (int k = 0; k < (ND); k++)                                      \
                    __builtin_prefetch(a[k] + j_ * (fa_intp)sizeof(FA_ST(S)) + FA_PF_DIST); \
                __builtin_prefetch((const char *)(DST + j_) + FA_PF_DIST);          \
                /* not unrolled: GCC unrolls a short body's 16 iterations \
                 * whole before it vectorises, then leaves them scalar */   \
                FA_IVDEP _Pragma("GCC unroll 1") for (fa_intp i = j_; i < j_ + LINE_; i++) STMT; \
            }                                                                       \
        FA_IVDEP for (fa_intp i = j_; i < (hi); i++) STMT;                          \
    }
#define FA_BLOCK_LOOPS(K, S, ND, NP, DST, STREAM)                                  \
    {                                                                               \
        fa_intp h_ = m < FA_ALIGN_MIN ? m : fa_align_head(DST, sizeof(FA_ST(S)));   \
        for (fa_intp lo_ = 0, hi_ = h_; lo_ < m; lo_ = hi_, hi_ = m) {               \
            char *as_[(ND) + (NP)];                                                 \
            /* hoisted parameters are read from p, their a[] not at all */          \
            for (int k = 0; k < (ND) + (NP); k++)                                   \
                as_[k] = k < (ND) ? a[k] + lo_ * (fa_intp)sizeof(FA_ST(S))          \
                         : path == FA_PARAMS_CONST ? NULL : a[k] + lo_ * (fa_intp)sizeof(double); \
            if ((NP) == 0 || path == FA_PARAMS_CONST) {                             \
                fa_intp i0 = lo_ + FA_HAND(K, S)(DST + lo_, as_, p, hi_ - lo_);     \
                FA_LINES(S, ND, DST, i0, hi_, STREAM, DST[i] = FA_ELEM(K, S, ND, NP, FA_DC, FA_PH)) \
            } else {                                                                \
                fa_intp i0 = lo_ + FA_HAND_IN(FA_EACH_, K, S)(DST + lo_, as_, p, hi_ - lo_); \
                FA_LINES(S, ND, DST, i0, hi_, STREAM, DST[i] = FA_ELEM(K, S, ND, NP, FA_DC, FA_PC)) \
            }                                                                       \
        }                                                                           \
    }

/* Strided data operands of a kernel with a hand loop, its parameters (if
 * any) scalars: blocks of FA_WBLOCK elements copied into compute-type
 * buffers, the hand loop (and the generic loop for the rest), copied out.
 * The element loop would vectorise into gathers and scatters, and a table
 * kernel's lookups into more gathers (gelu 3.0 ns per element strided,
 * 0.22 contiguous). The same kernels on the same values: the same bits. */
#define FA_KS(S) FA_CAT(FA_KS_, S)
#define FA_STRIDED_VIA_HAND(K, S, ND, NP)                                                   \
    _Alignas(64) FA_CT(S) sin[ND][FA_WBLOCK];                                             \
    _Alignas(64) FA_CT(S) sout[FA_WBLOCK];                                                \
    /* an operand already contiguous in the compute type is used in place,  \
     * not copied (x[::2] into a new array: the output's scalar copy was a    \
     * third of sigmoid's time); the others are copied by a loop over their   \
     * own pointer and step, which GCC vectorises with gathers */             \
    const int direct = sizeof(FA_ST(S)) == sizeof(FA_CT(S));                              \
    fa_intp ostep = steps[ND + NP];                                                       \
    for (fa_intp lo = 0; lo < n; lo += FA_WBLOCK) {                                       \
        fa_intp m = n - lo < FA_WBLOCK ? n - lo : FA_WBLOCK;                              \
        for (int k = 0; k < (ND); k++) {                                                  \
            const char *src = args[k] + lo * steps[k];                                    \
            fa_intp st = steps[k];                                                        \
            if (direct && st == (fa_intp)sizeof(FA_ST(S))) {                              \
                a[k] = (char *)src;                                                       \
                continue;                                                                 \
            }                                                                             \
            FA_CT(S) *to = sin[k];                                                        \
            FA_IVDEP for (fa_intp i = 0; i < m; i++)                                      \
                to[i] = FA_CAT(FA_LD_, S)(*(const FA_ST(S) *)(src + i * st));             \
            a[k] = (char *)to;                                                            \
        }                                                                                 \
        path = FA_PARAMS_CONST;                                                           \
        char *dst = args[ND + NP] + lo * ostep;                                           \
        /* (in place on an input used in place: as the contiguous path) */                \
        if (direct && ostep == (fa_intp)sizeof(FA_ST(S))) {                               \
            FA_CT(S) *out = (FA_CT(S) *)dst;                                              \
            FA_BLOCK_LOOPS(K, FA_KS(S), ND, NP, out, 0)                                   \
            continue;                                                                     \
        }                                                                                 \
        FA_BLOCK_LOOPS(K, FA_KS(S), ND, NP, sout, 0)                                      \
        FA_IVDEP for (fa_intp i = 0; i < m; i++)                                          \
            *(FA_ST(S) *)(dst + i * ostep) = FA_CAT(FA_STO_, S)(sout[i]);                 \
    }

/* The range function and the NumPy loop of ufunc NAME for dtype S, calling
 * kernel fa_<K>_<suffix>. The vectorised paths (blocks.h) run block by
 * block: one block for the whole range unless an operand is broadcast or
 * float16 is widened. */
#define FA_LOOP(NAME, K, S, ND, NP)                                                   \
    static void FA_CAT(fa_range_##NAME##_, S)(char **args, fa_intp n, const fa_intp *dims, \
                                              const fa_intp *steps)                    \
    {                                                                                  \
        enum { NOPS = (ND) + (NP) };                                                   \
        _Alignas(64) char bc[FA_BCAST_BYTES];                                          \
        _Alignas(64) float wide[FA_WIDEN(S) ? (ND) + 1 : 1][FA_WBLOCK];                \
        fa_blocks b;                                                                   \
        double p[NOPS + 1];                                                            \
        char *a[NOPS];                                                                 \
        int path = fa_plan(&b, args, steps, ND, NP, n, sizeof(FA_ST(S)),               \
                           FA_WIDEN(S) ? FA_WBLOCK : n, bc);                           \
        int hoist = 1; /* every parameter a scalar (stride 0) */                       \
        /* dims[0]: the whole call's length (threads.c runs chunks of it) */           \
        const int stream = FA_PF_LINES && dims[0] * (fa_intp)sizeof(FA_ST(S)) >= FA_PF_MIN_BYTES; \
        for (int k = ND; k < NOPS; k++) hoist &= steps[k] == 0;                        \
        for (int k = ND; k < NOPS; k++) p[k] = hoist ? *(const double *)args[k] : 0.0; \
        if (path == FA_STRIDED && hoist && FA_HAND(K, FA_KS(S)) != fa_hand_none) {     \
            FA_STRIDED_VIA_HAND(K, S, ND, NP)                                          \
            return;                                                                    \
        }                                                                              \
        if (path == FA_STRIDED) {                                                      \
            for (fa_intp i = 0; i < n; i++)                                            \
                *(FA_ST(S) *)(args[NOPS] + i * steps[NOPS]) =                          \
                    FA_ELEM(K, S, ND, NP, FA_DS, FA_PS);                               \
            return;                                                                    \
        }                                                                              \
        for (fa_intp lo = 0; lo < n; lo += b.len) {                                    \
            fa_intp m = n - lo < b.len ? n - lo : b.len;                               \
            FA_ST(S) *dst = (FA_ST(S) *)(args[NOPS] + lo * steps[NOPS]);               \
            fa_block_begin(&b, a, args, steps, NOPS, lo);                              \
            if (FA_WIDEN(S)) {                                                         \
                for (int k = 0; k < (ND); k++) {                                       \
                    fa_halves_to_floats(wide[k], (const uint16_t *)a[k], m);           \
                    a[k] = (char *)wide[k];                                            \
                }                                                                      \
                float *wdst = wide[FA_WIDEN(S) ? (ND) : 0];                            \
                FA_BLOCK_LOOPS(K, f32, ND, NP, wdst, 0)                                \
                fa_floats_to_halves((uint16_t *)dst, wdst, m);                         \
            } else {                                                                   \
                FA_BLOCK_LOOPS(K, S, ND, NP, dst, stream)                              \
            }                                                                          \
        }                                                                              \
        (void)p;                                                                       \
        (void)wide;                                                                    \
    }                                                                                  \
    static void FA_CAT(fa_loop_##NAME##_, S)(char **args, const fa_intp *dims,         \
                                             const fa_intp *steps, void *data)         \
    {                                                                                  \
        (void)data;                                                                    \
        fa_run(FA_CAT(fa_range_##NAME##_, S), args, dims, steps, (ND) + (NP), (ND) + (NP) + 1, 1); \
    }

#define FA_LOOPS(NAME, K, ND, NP) \
    FA_LOOP(NAME, K, f16, ND, NP) FA_LOOP(NAME, K, f32, ND, NP) FA_LOOP(NAME, K, f64, ND, NP)

#include "gufunc_loops.h"
#include "stats_loops.h"
#include "prelu_reduce.h"

/* Generate the element-wise loops ... */
#define FA_ACT(name, nd, np, params, checks, saved, fdoc, bdoc) \
    FA_LOOPS(name, name, nd, np)                                \
    FA_LOOPS(name##_backward, name##_grad, FA_INC(nd), np)
#define FA_GUFUNC(name, types, signature, params, checks, nd, saved, backward, doc)
#define FA_VMATH(name) FA_LOOPS(_vm_##name, vm_##name, 1, 0)
#define FA_STATS(name, np, params, saved) FA_STATS_LOOPS(name, np, saved)
#include "tables.h"
#undef FA_ACT
#undef FA_GUFUNC
#undef FA_VMATH
#undef FA_STATS

/* ... and list every loop in table order (tables.h). */
#define FA_ENTRIES(NAME) FA_CAT(fa_loop_##NAME##_, f16), FA_CAT(fa_loop_##NAME##_, f32), FA_CAT(fa_loop_##NAME##_, f64),
#define FA_ACT(name, nd, np, params, checks, saved, fdoc, bdoc) FA_ENTRIES(name) FA_ENTRIES(name##_backward)
#define FA_GUFUNC(name, types, signature, params, checks, nd, saved, backward, doc) FA_ENTRIES(name)
#define FA_VMATH(name) FA_ENTRIES(_vm_##name)
#define FA_STATS(name, np, params, saved) FA_ENTRIES(_stats_##name)
const fa_loop_fn FA_CAT(fa_loops_, FA_ISA)[] = {
#include "tables.h"
};
