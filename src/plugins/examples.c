/*
 * The examples plugin: the CPU-bound functions of the classic process
 * pool tutorials. Bad arguments fail the task; nothing here can crash.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <poold/plugin.h>

#include "args.h"
#include "prime.h"

#include "sha256.h"

static json_t *
examples_is_prime(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t	*n = json_array_get(args, 0);

	if (one_arg(task, args, kwargs, "is_prime") == -1)
		return NULL;
	if (!json_is_integer(n))
		return poold_task_fail(task, "is_prime takes an integer");
	if (json_integer_value(n) < 0)
		return json_false();
	return json_boolean(prime((uint64_t)json_integer_value(n)));
}

/* Digits of n!: 1 + floor(sum of log10 k), summed with compensation. */
static json_t *
examples_factorial_digits(struct poold_task *task, json_t *args,
    json_t *kwargs)
{
	json_t		*n = json_array_get(args, 0);
	json_int_t	 k, max;
	long double	 sum = 0, c = 0, y, t;

	if (one_arg(task, args, kwargs, "factorial_digits") == -1)
		return NULL;
	if (!json_is_integer(n) || (max = json_integer_value(n)) < 0 ||
	    max > 1000000000)
		return poold_task_fail(task, "factorial_digits takes an "
		    "integer from 0 to 1000000000");
	for (k = 2; k <= max; k++) {
		y = log10l((long double)k) - c;
		t = sum + y;
		c = (t - sum) - y;
		sum = t;
	}
	return json_integer((json_int_t)floorl(sum) + 1);
}

static json_t *
examples_sha256(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t		*s = json_array_get(args, 0);
	uint8_t		 digest[SHA256_DIGEST_LENGTH];
	char		 hex[2 * SHA256_DIGEST_LENGTH + 1];
	size_t		 i;

	if (one_arg(task, args, kwargs, "sha256") == -1)
		return NULL;
	if (!json_is_string(s))
		return poold_task_fail(task, "sha256 takes a string");
	sha256(json_string_value(s), json_string_length(s), digest);
	for (i = 0; i < sizeof digest; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return json_string(hex);
}

static json_t *
examples_word_count(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t		*path = json_array_get(args, 0);
	FILE		*fp;
	json_int_t	 words = 0;
	int		 ch, in_word = 0;

	if (one_arg(task, args, kwargs, "word_count") == -1)
		return NULL;
	if (!json_is_string(path))
		return poold_task_fail(task, "word_count takes a path");
	if ((fp = fopen(json_string_value(path), "re")) == NULL)
		return poold_task_fail(task, "%s: %s", json_string_value(path),
		    strerror(errno));
	while ((ch = getc(fp)) != EOF) {
		if (isspace(ch))
			in_word = 0;
		else if (!in_word) {
			in_word = 1;
			words++;
		}
	}
	if (ferror(fp)) {
		fclose(fp);
		return poold_task_fail(task, "%s: read error",
		    json_string_value(path));
	}
	fclose(fp);
	return json_integer(words);
}

#define BOTH	(POOLD_EXECUTOR_PROCESS | POOLD_EXECUTOR_THREAD)
#define PROC	POOLD_EXECUTOR_PROCESS

static const struct poold_function examples_functions[] = {
	{ "is_prime", "whether n is prime", BOTH, PROC, examples_is_prime },
	{ "factorial_digits", "the number of decimal digits of n!", BOTH, PROC,
	    examples_factorial_digits },
	{ "sha256", "the SHA-256 of a string, in hex", BOTH, PROC,
	    examples_sha256 },
	{ "word_count", "the whitespace-separated words in a file", BOTH,
	    PROC, examples_word_count },
	{ NULL, NULL, 0, 0, NULL }
};

const struct poold_plugin poold_plugin = {
	.abi = POOLD_PLUGIN_ABI,
	.name = "examples",
	.init = NULL,
	.functions = examples_functions,
};
