/* Hand-written loops of the rows of gufuncs.def (included by loops.c, so
 * compiled once per SIMD level with activations.h in scope). */
