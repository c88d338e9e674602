/* The kernel metadata, generated from kernels.def: two ufuncs per row. */
#include "fastact.h"

#define FA_ACT(name, nd, np, params, saved, fdoc, bdoc) \
    {#name, params, fdoc, nd, np, saved, 0},            \
    {#name "_backward", params, bdoc, (nd) + 1, np, saved, 1},
const fa_kernel_info fa_kernels[] = {
#include "kernels.def"
};
#undef FA_ACT

const int fa_nkernels = (int)(sizeof(fa_kernels) / sizeof(fa_kernels[0]));
