/* Run-time choice of the SIMD level: the best one this build compiled and
 * this CPU (and OS) supports, or the one FASTACT_SIMD names. */
#include <stdlib.h>
#include <string.h>
#include "fastact.h"

extern const fa_loop_fn fa_loops_baseline[];
#ifdef FA_HAVE_AVX2
extern const fa_loop_fn fa_loops_avx2[];
#endif
#ifdef FA_HAVE_AVX512
extern const fa_loop_fn fa_loops_avx512[];
#endif

typedef struct {
    const char *name;
    const fa_loop_fn *loops;
    int (*cpu_ok)(void);
} fa_level;

static int fa_always(void) { return 1; }

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* __builtin_cpu_supports also checks that the OS saves the wide registers. */
static int fa_cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int fa_cpu_avx512(void)
{
    __builtin_cpu_init();
    return fa_cpu_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
#endif

/* Best last. */
static const fa_level fa_levels[] = {
    {"baseline", fa_loops_baseline, fa_always},
#ifdef FA_HAVE_AVX2
    {"avx2", fa_loops_avx2, fa_cpu_avx2},
#endif
#ifdef FA_HAVE_AVX512
    {"avx512", fa_loops_avx512, fa_cpu_avx512},
#endif
};
#define FA_NLEVELS ((int)(sizeof(fa_levels) / sizeof(fa_levels[0])))

const char *fa_compiled_levels(void)
{
    return "baseline"
#ifdef FA_HAVE_AVX2
           ",avx2"
#endif
#ifdef FA_HAVE_AVX512
           ",avx512"
#endif
        ;
}

const fa_loop_fn *fa_select_loops(const char **level, const char **error)
{
    const char *want = getenv("FASTACT_SIMD");
    *error = NULL;
    if (want == NULL || want[0] == '\0') {
        for (int i = FA_NLEVELS - 1; i >= 0; i--) {
            if (fa_levels[i].cpu_ok()) {
                *level = fa_levels[i].name;
                return fa_levels[i].loops;
            }
        }
    }
    for (int i = 0; i < FA_NLEVELS; i++) {
        if (strcmp(want, fa_levels[i].name) != 0) continue;
        if (!fa_levels[i].cpu_ok()) {
            *error = "FASTACT_SIMD names a level this CPU does not support";
            return NULL;
        }
        *level = fa_levels[i].name;
        return fa_levels[i].loops;
    }
    *error = "FASTACT_SIMD names a level this build does not have (see fastact compiled levels)";
    return NULL;
}
