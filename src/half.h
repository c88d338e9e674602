/* IEEE binary16 <-> binary32 conversion, written with integer bit operations
 * so that it is exact, branch-free enough to vectorise, and independent of
 * compiler support for _Float16. float16 results are computed in float32 and
 * rounded once, to nearest even, here. */
#ifndef FASTACT_HALF_H
#define FASTACT_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t fa_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float fa_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float fa_half_to_float(uint16_t h)
{
    /* Shift the exponent/mantissa into place and rescale by 2^112, which maps
     * normals and subnormals alike; inf/NaN get the float exponent forced. */
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = (uint32_t)(h & 0x7fffu);
    float mag = fa_bits_f32(em << 13) * 0x1p112f;
    uint32_t bits = fa_f32_bits(mag);
    bits = em >= 0x7c00u ? (0x7f800000u | (em << 13)) : bits;
    return fa_bits_f32(bits | sign);
}

static inline uint16_t fa_float_to_half(float f)
{
    uint32_t u = fa_f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    /* Normal range: round to nearest even on the 13 dropped bits. */
    uint32_t norm = (a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13;
    /* Subnormal range: let the FPU round by adding 0.5 (2^-1 shifts the
     * mantissa so that the half subnormal lands in the low bits). */
    uint32_t sub = fa_f32_bits(fa_bits_f32(a) + 0.5f) - 0x3f000000u;
    uint32_t r = a < 0x38800000u ? sub : norm;
    r = a >= 0x477ff000u ? 0x7c00u : r;                          /* overflow -> inf */
    r = a > 0x7f800000u ? (0x7e00u | ((a >> 13) & 0x3ffu)) : r;  /* NaN stays NaN */
    return (uint16_t)(sign | r);
}

/* Blocks of m values at once. With F16C (the avx2 and avx512 builds) these
 * are vcvtph2ps / vcvtps2ph, exact and round-to-nearest-even like the
 * functions above (NaN keeps its payload and is quieted): the loops'
 * float16 path goes through them so that every float16 loop vectorises.
 * Without F16C they are the functions above, element by element. */
#if defined(__F16C__)
#include <immintrin.h>
#define FA_HAVE_F16C 1
static inline void fa_halves_to_floats(float *d, const uint16_t *s, intptr_t m)
{
    intptr_t i = 0;
    for (; i + 8 <= m; i += 8)
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < m; i++) d[i] = _cvtsh_ss(s[i]);
}

static inline void fa_floats_to_halves(uint16_t *d, const float *s, intptr_t m)
{
    intptr_t i = 0;
    for (; i + 8 <= m; i += 8)
        _mm_storeu_si128((__m128i *)(d + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < m; i++) d[i] = _cvtss_sh(s[i], _MM_FROUND_TO_NEAREST_INT);
}
#else
#define FA_HAVE_F16C 0
static inline void fa_halves_to_floats(float *d, const uint16_t *s, intptr_t m)
{
    for (intptr_t i = 0; i < m; i++) d[i] = fa_half_to_float(s[i]);
}

static inline void fa_floats_to_halves(uint16_t *d, const float *s, intptr_t m)
{
    for (intptr_t i = 0; i < m; i++) d[i] = fa_float_to_half(s[i]);
}
#endif

#endif
