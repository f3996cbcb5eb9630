/* SHA-256 (FIPS 180-4) of a buffer. */
#ifndef POOLD_SHA256_H
#define POOLD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LENGTH	32

void	sha256(const void *, size_t, uint8_t[SHA256_DIGEST_LENGTH]);

#endif
