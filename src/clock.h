/* Time as seconds in a double: wall-clock for what clients see, monotonic
 * for deadlines. */
#ifndef POOLD_CLOCK_H
#define POOLD_CLOCK_H

#include <sys/time.h>

double	clock_real(void);
double	clock_mono(void);
struct timeval clock_timeval(double);

#endif
