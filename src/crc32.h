/* CRC-32 (the IEEE 802.3 polynomial, as zlib and PNG compute it). */
#ifndef POOLD_CRC32_H
#define POOLD_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc32_update(uint32_t, const void *, size_t);

#endif
