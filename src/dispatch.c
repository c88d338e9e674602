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

/* The compiled levels this CPU runs, comma-separated, best last. */
const char *fa_supported_levels(void)
{
    static char buf[64];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < FA_NLEVELS; i++) {
        if (!fa_levels[i].cpu_ok()) continue;
        size_t need = strlen(fa_levels[i].name) + (len ? 1 : 0);
        if (len + need + 1 > sizeof buf) break;
        if (len) buf[len++] = ',';
        strcpy(buf + len, fa_levels[i].name);
        len += strlen(fa_levels[i].name);
    }
    return buf;
}

/* FASTACT_SIMD, trimmed and lower-cased, into buf ("" when unset). */
static const char *fa_wanted_level(char *buf, size_t size)
{
    const char *want = getenv("FASTACT_SIMD");
    size_t len = 0;
    if (want == NULL) want = "";
    while (*want == ' ' || *want == '\t') want++;
    while (want[len] && len + 1 < size) {
        char c = want[len];
        buf[len++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\n')) len--;
    buf[len] = '\0';
    return buf;
}

/* Unset or empty FASTACT_SIMD: the best level the CPU supports. Otherwise
 * exactly the level it names (case-insensitive), or an error: a level this
 * build lacks or this CPU cannot run is never silently replaced. */
const fa_loop_fn *fa_select_loops(const char **level, const char **error)
{
    char buf[32];
    const char *want = fa_wanted_level(buf, sizeof buf);
    *error = NULL;
    if (want[0] == '\0') {
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
            *error = "this CPU does not support that level";
            return NULL;
        }
        *level = fa_levels[i].name;
        return fa_levels[i].loops;
    }
    *error = "not a SIMD level of this build";
    return NULL;
}
