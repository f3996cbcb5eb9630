/*
 * Trial division by 6k +/- 1: the tutorials' way, and CPU-bound. Shared by
 * the examples plugin and the benchmark's single-process baseline, so both
 * run the same code.
 */
#ifndef POOLD_PRIME_H
#define POOLD_PRIME_H

#include <stdint.h>

static inline int
prime(uint64_t n)
{
	uint64_t	i;

	if (n < 2)
		return 0;
	if (n < 4)
		return 1;
	if (n % 2 == 0 || n % 3 == 0)
		return 0;
	for (i = 5; i <= n / i; i += 6) {
		if (n % i == 0 || n % (i + 2) == 0)
			return 0;
	}
	return 1;
}

#endif
