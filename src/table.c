/* The ufunc metadata, generated from the tables (tables.h). */
#include <stddef.h>
#include "fastact.h"

/* Operand types of an element-wise row: nd data operands, np parameters. */
#define FA_TYPES_1_0 "T->T"
#define FA_TYPES_1_1 "Td->T"
#define FA_TYPES_1_2 "Tdd->T"
#define FA_TYPES_2_0 "TT->T"
#define FA_TYPES_2_1 "TTd->T"
#define FA_TYPES_2_2 "TTdd->T"
#define FA_TYPES_3_0 "TTT->T"
#define FA_TYPES_3_1 "TTTd->T"
#define FA_TYPES_3_2 "TTTdd->T"
#define FA_TYPES_(nd, np) FA_TYPES_##nd##_##np
#define FA_TYPES(nd, np) FA_TYPES_(nd, np)

#define FA_ACT(name, nd, np, params, checks, saved, fdoc, bdoc)                              \
    {#name, "activation", FA_TYPES(nd, np), NULL, params, checks, fdoc, nd, saved, 0},      \
    {#name "_backward", "activation", FA_TYPES(FA_INC(nd), np), NULL, params, checks, bdoc, \
     FA_INC(nd), saved, 1},
#define FA_GUFUNC(name, types, signature, params, checks, nd, saved, backward, doc) \
    {#name, "activation", types, signature, params, checks, doc, nd, saved, backward},
#define FA_VMATH(name) \
    {"_vm_" #name, "internal", "T->T", NULL, "", "", "fa_vm_" #name " of vmath.h (tests only).", 1, 0, 0},
#define FA_STATS(name, np, params, saved)                                                   \
    {"_stats_" #name, "internal", FA_STATS_TYPES(np), FA_STATS_SIG(np), params, "", FA_STATS_DOC, \
     1, saved, 0},
const fa_kernel_info fa_kernels[] = {
#include "tables.h"
};

const int fa_nkernels = (int)(sizeof(fa_kernels) / sizeof(fa_kernels[0]));
