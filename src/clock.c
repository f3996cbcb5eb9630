#include "autoconf.h"

#include <math.h>
#include <time.h>

#include "clock.h"

static double
clock_read(clockid_t id)
{
	struct timespec	ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
clock_real(void)
{
	return clock_read(CLOCK_REALTIME);
}

double
clock_mono(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

/* A relative time for evtimer_add; never negative, capped near a year so a
 * huge client-given timeout cannot overflow time_t arithmetic. */
struct timeval
clock_timeval(double seconds)
{
	struct timeval	tv;

	if (!(seconds > 0))
		seconds = 0;
	if (seconds > 365 * 86400.0)
		seconds = 365 * 86400.0;
	tv.tv_sec = (time_t)floor(seconds);
	tv.tv_usec = (suseconds_t)((seconds - floor(seconds)) * 1e6);
	if (tv.tv_usec >= 1000000)
		tv.tv_usec = 999999;
	return tv;
}
