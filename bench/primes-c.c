/*
 * primes-c: the yardstick for bench/primes. Counts the primes among
 * first, first + 2, ... (count numbers) with the examples plugin's trial
 * division, run in this process, and prints the wall time it took.
 *
 * -j N: N processes take the numbers one at a time from a shared counter,
 * as poold's workers take one task at a time. It shows what this machine
 * gives N busy processes right now, with no daemon in between, so a
 * shortfall of poold's can be told from a shortfall of the machine's.
 * -k K: also report the time and count of the first K numbers (with one
 * process only): the subset bench/primes may give Python.
 *
 * Output is one "name value" line a figure, as bench-echo prints them.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The same trial division as the examples plugin's is_prime. */
#include "plugins/prime.h"

#define MAX_JOBS	64

/* What the -j processes share. */
struct shared {
	atomic_long	next;		/* index of the next number to test */
	atomic_long	found;
};

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: primes-c [-j processes] [-k subset] "
	    "first count\n");
	exit(2);
}

static long long
parse_num(const char *s, const char *what, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		diex("bad %s: %s", what, s);
	return v;
}

static void
run_one(uint64_t first, long count, long subset)
{
	double	t0, t_sub = 0;
	long	i, found = 0, found_sub = 0;

	t0 = now();
	for (i = 0; i < count; i++) {
		if (i == subset) {
			t_sub = now();
			found_sub = found;
		}
		found += prime(first + 2 * (uint64_t)i);
	}
	if (subset == count) {
		t_sub = now();
		found_sub = found;
	}
	printf("c_secs %.3f\n", now() - t0);
	printf("c_found %ld\n", found);
	if (subset > 0) {
		printf("c_sub_secs %.3f\n", t_sub - t0);
		printf("c_sub_found %ld\n", found_sub);
	}
}

static void
run_jobs(uint64_t first, long count, int jobs)
{
	struct shared	*sh;
	pid_t		 pids[MAX_JOBS];
	double		 t0;
	long		 i;
	int		 j, status, failed = 0;

	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	atomic_init(&sh->next, 0);
	atomic_init(&sh->found, 0);
	if (fflush(stdout) == EOF)
		die("stdout");
	t0 = now();
	for (j = 0; j < jobs; j++) {
		if ((pids[j] = fork()) == -1)
			die("fork");
		if (pids[j] == 0) {
			while ((i = atomic_fetch_add(&sh->next, 1)) < count) {
				if (prime(first + 2 * (uint64_t)i))
					atomic_fetch_add(&sh->found, 1);
			}
			_exit(0);
		}
	}
	for (j = 0; j < jobs; j++) {
		while (waitpid(pids[j], &status, 0) == -1) {
			if (errno != EINTR)
				die("waitpid");
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	if (failed)
		diex("a process failed");
	printf("c_j%d_secs %.3f\n", jobs, now() - t0);
	printf("c_j%d_found %ld\n", jobs, (long)atomic_load(&sh->found));
	munmap(sh, sizeof *sh);
}

int
main(int argc, char **argv)
{
	long long	 first;
	long		 count, subset = 0;
	int		 ch, jobs = 1;

	while ((ch = getopt(argc, argv, "j:k:")) != -1) {
		switch (ch) {
		case 'j':
			jobs = (int)parse_num(optarg, "process count", 1,
			    MAX_JOBS);
			break;
		case 'k':
			subset = (long)parse_num(optarg, "subset", 1,
			    LONG_MAX);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	first = parse_num(argv[0], "first number", 1, LLONG_MAX);
	count = (long)parse_num(argv[1], "count", 1, INT_MAX);
	/* The numbers travel as JSON integers, which jansson reads signed. */
	if (first > LLONG_MAX - 2 * (long long)count)
		diex("first number too large for %ld numbers", count);
	if (subset > count)
		diex("subset %ld larger than count %ld", subset, count);
	if (subset > 0 && jobs > 1)
		diex("-k needs a single process");

	if (jobs == 1)
		run_one((uint64_t)first, count, subset);
	else
		run_jobs((uint64_t)first, count, jobs);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout");
	return 0;
}
