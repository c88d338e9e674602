/* Every table of ufuncs, in the one order that table.c (the metadata) and
 * loops.c (the per-SIMD-level loop tables) both expand: entry i of one is
 * entry i of the other. A file that includes this defines the row macros:
 *
 *   FA_ACT     kernels.def   element-wise activations: forward + backward
 *   FA_GUFUNC  gufuncs.def   row-wise functions with hand-written loops
 *   FA_VMATH   vmath.def     the vector math alone, for its own ULP tests
 *   FA_STATS   stats.def     one-pass statistics per element-wise activation
 *                            (kernels.def re-expanded; internal)
 *   FA_GUFUNC  prelu.def     prelu with a weight per channel (internal rows
 *                            behind fastact.prelu / prelu_backward)
 */
#include "kernels.def"
#include "gufuncs.def"
#include "vmath.def"
#include "stats.def"
#include "prelu.def"
