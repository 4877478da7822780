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
#define LOWBIT_ARTIFACT_FORMAT_VERSION 1

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

/** 64-bit FNV-1a over the first and last 4 KiB of weights.bin and its size:
 * a cheap check that weights.bin belongs to its model.so. */
static inline uint64_t lowbit_artifact_fingerprint(const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  uint64_t h = 1469598103934665603ull;
  size_t k = n < 4096 ? n : 4096, i;
  for (i = 0; i < k; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  for (i = n - k; i < n; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  for (i = 0; i < 8; ++i)
    h = (h ^ ((n >> (8 * i)) & 0xff)) * 1099511628211ull;
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
