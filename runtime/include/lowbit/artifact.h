/*===- artifact.h - The Lowbit artifact contract -------------------*- C -*-===*
 *
 * What the artifact writer (quant-compile, lib/Target) and its readers (the
 * runtime, calibration, Python through the runtime) must agree on, in one
 * place: the format version, the weights file's header and alignment, the
 * dtype names and sizes, the weights fingerprint and the encoding of names
 * in the metadata text. Header-only C99, no dependencies, so that the
 * writer (C++ with LLVM) and the runtime (C ABI, no LLVM) share the code,
 * not a copy of it. docs/artifact.md describes the whole format.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LOWBIT_ARTIFACT_H
#define LOWBIT_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The format version of the metadata text, calling convention and weights
 * file; readers refuse other versions. */
#define LOWBIT_ARTIFACT_FORMAT_VERSION 2

/** weights.bin starts with "LOWBITW<version>" in a header of this many
 * bytes; every weight starts at a multiple of the alignment. */
#define LOWBIT_WEIGHTS_MAGIC "LOWBITW"
#define LOWBIT_WEIGHTS_HEADER_BYTES 64
#define LOWBIT_WEIGHTS_ALIGNMENT 64

/** One element type of an artifact's inputs, outputs and weights. kind:
 * 'f' IEEE float, 'b' bfloat, 'i' signed integer, 'u' unsigned integer,
 * '?' boolean (one byte). */
typedef struct {
  const char *name;
  char kind;
  int32_t bits;
} lowbit_artifact_dtype;

static const lowbit_artifact_dtype lowbit_artifact_dtypes[] = {
    {"f32", 'f', 32}, {"f16", 'f', 16}, {"bf16", 'b', 16}, {"f64", 'f', 64},
    {"i8", 'i', 8},   {"i16", 'i', 16}, {"i32", 'i', 32},  {"i64", 'i', 64},
    {"u8", 'u', 8},   {"u16", 'u', 16}, {"u32", 'u', 32},  {"u64", 'u', 64},
    {"bool", '?', 8},
};
#define LOWBIT_ARTIFACT_NUM_DTYPES                                             \
  (sizeof(lowbit_artifact_dtypes) / sizeof(lowbit_artifact_dtypes[0]))

/** The dtype called `name`, or null. */
static inline const lowbit_artifact_dtype *
lowbit_artifact_dtype_named(const char *name) {
  size_t i;
  if (!name)
    return NULL;
  for (i = 0; i < LOWBIT_ARTIFACT_NUM_DTYPES; ++i)
    if (strcmp(lowbit_artifact_dtypes[i].name, name) == 0)
      return &lowbit_artifact_dtypes[i];
  return NULL;
}

/** The dtype of `kind` and `bits`, or null. */
static inline const lowbit_artifact_dtype *
lowbit_artifact_dtype_of(char kind, int32_t bits) {
  size_t i;
  for (i = 0; i < LOWBIT_ARTIFACT_NUM_DTYPES; ++i)
    if (lowbit_artifact_dtypes[i].kind == kind &&
        lowbit_artifact_dtypes[i].bits == bits)
      return &lowbit_artifact_dtypes[i];
  return NULL;
}

/** Bytes per element of dtype `name`; 0 for an unknown name. */
static inline int64_t lowbit_artifact_dtype_bytes(const char *name) {
  const lowbit_artifact_dtype *d = lowbit_artifact_dtype_named(name);
  return d ? d->bits / 8 : 0;
}

/** The weights' fingerprint: XXH64 (seed 0) of the whole of weights.bin,
 * written from the published xxHash specification. At ~10 GB/s it costs a
 * few milliseconds per hundred MB at load; corruption anywhere in the file
 * (not only in its first and last pages) is caught. */
static inline uint64_t lowbit_xxh64_read64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8); /* little-endian hosts only (x86-64, AArch64) */
  return v;
}
static inline uint64_t lowbit_xxh64_rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}
static inline uint64_t lowbit_xxh64_round(uint64_t acc, uint64_t lane) {
  acc += lane * 0xC2B2AE3D27D4EB4Full;
  return lowbit_xxh64_rotl(acc, 31) * 0x9E3779B185EBCA87ull;
}
static inline uint64_t lowbit_xxh64_merge(uint64_t h, uint64_t acc) {
  h ^= lowbit_xxh64_round(0, acc);
  return h * 0x9E3779B185EBCA87ull + 0x85EBCA77C2B2AE63ull;
}
static inline uint64_t lowbit_artifact_fingerprint(const void *data, size_t n) {
  const uint64_t p1 = 0x9E3779B185EBCA87ull, p2 = 0xC2B2AE3D27D4EB4Full,
                 p3 = 0x165667B19E3779F9ull, p4 = 0x85EBCA77C2B2AE63ull,
                 p5 = 0x27D4EB2F165667C5ull;
  const unsigned char *p = (const unsigned char *)data, *end = p + n;
  uint64_t h;
  if (n >= 32) {
    uint64_t v1 = p1 + p2, v2 = p2, v3 = 0, v4 = 0 - p1;
    for (; end - p >= 32; p += 32) {
      v1 = lowbit_xxh64_round(v1, lowbit_xxh64_read64(p));
      v2 = lowbit_xxh64_round(v2, lowbit_xxh64_read64(p + 8));
      v3 = lowbit_xxh64_round(v3, lowbit_xxh64_read64(p + 16));
      v4 = lowbit_xxh64_round(v4, lowbit_xxh64_read64(p + 24));
    }
    h = lowbit_xxh64_rotl(v1, 1) + lowbit_xxh64_rotl(v2, 7) +
        lowbit_xxh64_rotl(v3, 12) + lowbit_xxh64_rotl(v4, 18);
    h = lowbit_xxh64_merge(h, v1);
    h = lowbit_xxh64_merge(h, v2);
    h = lowbit_xxh64_merge(h, v3);
    h = lowbit_xxh64_merge(h, v4);
  } else {
    h = p5;
  }
  h += (uint64_t)n;
  for (; end - p >= 8; p += 8) {
    h ^= lowbit_xxh64_round(0, lowbit_xxh64_read64(p));
    h = lowbit_xxh64_rotl(h, 27) * p1 + p4;
  }
  if (end - p >= 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    h ^= (uint64_t)w * p1;
    h = lowbit_xxh64_rotl(h, 23) * p2 + p3;
    p += 4;
  }
  for (; p < end; ++p) {
    h ^= (uint64_t)*p * p5;
    h = lowbit_xxh64_rotl(h, 11) * p1;
  }
  h ^= h >> 33;
  h *= p2;
  h ^= h >> 29;
  h *= p3;
  h ^= h >> 32;
  return h;
}

/** Names in the metadata text are single tokens: '%', control characters,
 * space and DEL are written as %XX (two upper-case hex digits); an empty
 * name is "_". Writes at most `cap` bytes including the terminator into
 * `out`; returns the length the encoding needs (without the terminator). */
static inline size_t lowbit_artifact_encode_name(const char *name, char *out,
                                                 size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
#define LOWBIT_PUT(c)                                                          \
  do {                                                                         \
    if (n + 1 < cap)                                                           \
      out[n] = (c);                                                            \
    ++n;                                                                       \
  } while (0)
  if (!name[0])
    LOWBIT_PUT('_');
  for (; *name; ++name) {
    unsigned char c = (unsigned char)*name;
    if (c == '%' || c <= ' ' || c == 127) {
      LOWBIT_PUT('%');
      LOWBIT_PUT(hex[c >> 4]);
      LOWBIT_PUT(hex[c & 15]);
    } else {
      LOWBIT_PUT((char)c);
    }
  }
#undef LOWBIT_PUT
  if (cap)
    out[n < cap ? n : cap - 1] = '\0';
  return n;
}

/** The inverse of lowbit_artifact_encode_name (a '%' not followed by two hex
 * digits stays as it is). Same contract for `out` and the result. */
static inline size_t lowbit_artifact_decode_name(const char *text, char *out,
                                                 size_t cap) {
  size_t n = 0;
  for (; *text; ++text) {
    char c = *text;
    int hi = -1, lo = -1;
    if (c == '%' && text[1] && text[2]) {
      char a = text[1], b = text[2];
      hi = a >= '0' && a <= '9'   ? a - '0'
           : a >= 'A' && a <= 'F' ? a - 'A' + 10
           : a >= 'a' && a <= 'f' ? a - 'a' + 10
                                  : -1;
      lo = b >= '0' && b <= '9'   ? b - '0'
           : b >= 'A' && b <= 'F' ? b - 'A' + 10
           : b >= 'a' && b <= 'f' ? b - 'a' + 10
                                  : -1;
    }
    if (hi >= 0 && lo >= 0) {
      c = (char)(hi * 16 + lo);
      text += 2;
    }
    if (n + 1 < cap)
      out[n] = c;
    ++n;
  }
  if (cap)
    out[n < cap ? n : cap - 1] = '\0';
  return n;
}

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_ARTIFACT_H */
