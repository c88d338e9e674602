/* The vectorised paths of the element-wise loops (loops.c) take any mix of
 * contiguous and stride-0 operands. A data operand with stride 0 (a scalar
 * grad, a scalar target), or a stride-0 parameter next to contiguous ones,
 * is copied into a buffer of one block once per call, and the range is run
 * block by block, every block reading that buffer as a contiguous array:
 * one vector loop serves every such mix. (Parameters that are all stride 0
 * are hoisted into registers instead: the FA_PARAMS_CONST loop.) Without a
 * broadcast operand the whole range is one block.
 *
 * Block borders are multiples of 64 elements from the start of the range,
 * like threads.c's chunk borders, so each element goes through the same
 * vector or epilogue code whatever the thread count.
 *
 * (Streaming stores of large outputs through an L1 bounce buffer were
 * tried here and measured slower than plain stores on the AMD EPYC test
 * machine, 16M float32: relu 0.95x -> 1.1x np.copyto, sigmoid 1.3x ->
 * 1.6x; the bursts of non-temporal stores between blocks stall. Again on
 * a Zen 4, outputs of 16 MiB or more, blocks of 1024 / 256: memory-bound
 * kernels gain (relu 0.82x / 0.80x, its backward 0.81x / 0.99x of the
 * plain stores' time), every kernel with an exp loses (sigmoid 1.13x /
 * 1.29x, softplus 1.14x / 1.36x, elu backward 1.22x / 1.04x), though a
 * bare copy with non-temporal stores runs at 0.26 ns per float32 against
 * memcpy's 0.38-0.47.) */
#ifndef FASTACT_BLOCKS_H
#define FASTACT_BLOCKS_H

#include <stddef.h>
#include <string.h>
#include "fastact.h"

/* The helpers run once per call: out of line, not copied into each of the
 * ~400 loops. */
#if defined(__GNUC__)
#define FA_COLD_HELPER static __attribute__((noinline))
#else
#define FA_COLD_HELPER static
#endif

#define FA_BLOCK 1024
/* Room for the broadcast buffers: a call with many stride-0 operands uses
 * shorter blocks (at least 256 elements) rather than more stack. */
#define FA_BCAST_BYTES 16384
#define FA_MAX_OPERANDS 8
enum { FA_STRIDED, FA_PARAMS_CONST, FA_ALL_CONTIG };

typedef struct {
    fa_intp len;     /* block length: the whole range without broadcast operands */
    char *bcast[FA_MAX_OPERANDS]; /* an operand's broadcast buffer, or NULL */
} fa_blocks;

/* Fill a broadcast buffer with m copies of the element at v. */
FA_COLD_HELPER void fa_fill(char *buf, const char *v, fa_intp m, fa_intp size)
{
    if (size == 8) {
        double d;
        memcpy(&d, v, 8);
        for (fa_intp j = 0; j < m; j++) ((double *)buf)[j] = d;
    } else if (size == 4) {
        uint32_t u;
        memcpy(&u, v, 4);
        for (fa_intp j = 0; j < m; j++) ((uint32_t *)buf)[j] = u;
    } else {
        uint16_t u;
        memcpy(&u, v, 2);
        for (fa_intp j = 0; j < m; j++) ((uint16_t *)buf)[j] = u;
    }
}

/* The loop's path for operands args[0..nd+np] (nd data of `size` bytes, np
 * float64 parameters, then the output), and b set up for it: the
 * vectorised paths need the output contiguous and every operand contiguous
 * or stride 0. bc is the FA_BCAST_BYTES (64-aligned) of broadcast room;
 * blocks are at most max_len long (a multiple of 64). */
FA_COLD_HELPER int fa_plan(fa_blocks *b, char **args, const fa_intp *steps, int nd, int np,
                           fa_intp n, fa_intp size, fa_intp max_len, char *bc)
{
    int nops = nd + np, params_const = 1;
    if (steps[nops] != size || nops >= FA_MAX_OPERANDS) return FA_STRIDED;
    for (int k = 0; k < nops; k++) {
        fa_intp item = k < nd ? size : (fa_intp)sizeof(double);
        if (steps[k] != item && steps[k] != 0) return FA_STRIDED;
        if (k >= nd) params_const &= steps[k] == 0;
    }
    int path = params_const ? FA_PARAMS_CONST : FA_ALL_CONTIG;
    fa_intp bcast_bytes = 0; /* per element */
    for (int k = 0; k < nops; k++)
        if (steps[k] == 0 && (k < nd || path == FA_ALL_CONTIG))
            bcast_bytes += k < nd ? size : (fa_intp)sizeof(double);
    b->len = n;
    if (bcast_bytes) {
        fa_intp len = FA_BCAST_BYTES / bcast_bytes / 64 * 64;
        b->len = len < FA_BLOCK ? len : FA_BLOCK;
    }
    b->len = b->len < max_len ? b->len : max_len;
    for (int k = 0; k < nops; k++) {
        b->bcast[k] = NULL;
        if (steps[k] != 0 || (k >= nd && path == FA_PARAMS_CONST)) continue;
        fa_intp item = k < nd ? size : (fa_intp)sizeof(double);
        b->bcast[k] = bc;
        fa_fill(bc, args[k], n < b->len ? n : b->len, item);
        bc += b->len * item; /* stays 64-byte aligned: len is a multiple of 64 */
    }
    return path;
}

/* Elements of `size` bytes before p reaches a 64-byte boundary (0 if p is
 * not aligned to its element: it never reaches one). */
static inline fa_intp fa_align_head(const void *p, fa_intp size)
{
    fa_intp bytes = (fa_intp)(-(uintptr_t)p & 63);
    return bytes % size ? 0 : bytes / size;
}

/* Operand pointers a[0..nops) for the block starting at element lo. */
static inline void fa_block_begin(const fa_blocks *b, char **a, char **args, const fa_intp *steps,
                                  int nops, fa_intp lo)
{
    for (int k = 0; k < nops; k++) a[k] = b->bcast[k] ? b->bcast[k] : args[k] + lo * steps[k];
}

#endif
