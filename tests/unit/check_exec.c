/* exec's shared core and base64: reading calls, spawning, outcomes. */
#include "autoconf.h"

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "exec.h"
#include "suites.h"

START_TEST(test_base64_round_trip)
{
	unsigned char	 data[256], *back;
	size_t		 n, len, backlen;
	char		*text;

	for (n = 0; n < sizeof data; n++)
		data[n] = (unsigned char)(255 - n);
	for (n = 0; n <= sizeof data; n += 37) {
		text = base64_encode(data, n, &len);
		ck_assert_uint_eq(len, (n + 2) / 3 * 4);
		ck_assert_int_eq(base64_decode(text, len, &back, &backlen), 0);
		ck_assert_uint_eq(backlen, n);
		ck_assert_int_eq(memcmp(back, data, n), 0);
		free(text);
		free(back);
	}
	text = base64_encode("\377\000", 2, &len);
	ck_assert_str_eq(text, "/wA=");
	free(text);
}
END_TEST

START_TEST(test_base64_rejects)
{
	static const char *const bad[] = { "!!!!", "abc", "ab=c", "a===",
	    "Zm9v\n" };
	unsigned char	*out;
	size_t		 i, n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(base64_decode(bad[i], strlen(bad[i]), &out,
		    &n), -1);
}
END_TEST

static int
parse(const char *args, const char *kwargs, struct exec_spec *spec,
    const char **param)
{
	json_t	*a = json_loads(args, JSON_ALLOW_NUL, NULL);
	json_t	*k = json_loads(kwargs, JSON_ALLOW_NUL, NULL);
	char	*why = NULL;
	int	 rc;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(k);
	rc = exec_spec_parse(a, k, 1024, NULL, spec, param, &why);
	if (rc == -1)
		ck_assert_ptr_nonnull(why);
	free(why);
	json_decref(a);
	json_decref(k);
	return rc;
}

static const struct {
	const char	*args;
	const char	*kwargs;
	const char	*param;
} bad_calls[] = {
	{ "[]", "{}", "args" },
	{ "[1]", "{}", "args" },
	{ "[\"a\\u0000b\"]", "{}", "args" },
	{ "[\"true\"]", "{\"env\": []}", "kwargs" },
	{ "[\"true\"]", "{\"env\": {\"A\": 1}}", "kwargs" },
	{ "[\"true\"]", "{\"env\": {\"A=B\": \"c\"}}", "kwargs" },
	{ "[\"true\"]", "{\"cwd\": 5}", "kwargs" },
	{ "[\"true\"]", "{\"stdin\": 5}", "kwargs" },
	{ "[\"true\"]", "{\"stdin\": {\"base64\": \"!!\"}}", "kwargs" },
	{ "[\"true\"]", "{\"check\": \"yes\"}", "kwargs" },
	{ "[\"true\"]", "{\"shell\": true}", "kwargs" },
};

START_TEST(test_exec_bad_calls)
{
	struct exec_spec	 spec;
	const char		*param = NULL;

	ck_assert_int_eq(parse(bad_calls[_i].args, bad_calls[_i].kwargs,
	    &spec, &param), -1);
	ck_assert_str_eq(param, bad_calls[_i].param);
}
END_TEST

START_TEST(test_exec_env)
{
	struct exec_spec	 spec;
	const char		*param;
	char			**e;
	int			 saw_set = 0, saw_removed = 0;

	setenv("POOLD_CHECK_GONE", "1", 1);
	ck_assert_int_eq(parse("[\"env\"]", "{\"env\": {\"POOLD_CHECK_SET\": "
	    "\"x y\", \"POOLD_CHECK_GONE\": null}}", &spec, &param), 0);
	for (e = spec.envp; *e != NULL; e++) {
		saw_set |= strcmp(*e, "POOLD_CHECK_SET=x y") == 0;
		saw_removed |= strncmp(*e, "POOLD_CHECK_GONE=", 17) == 0;
	}
	ck_assert(saw_set);
	ck_assert(!saw_removed);
	exec_spec_free(&spec);
}
END_TEST

/* Drive a program to its end with poll, as a worker would. */
static void
run(struct exec_spec *spec, json_t **result, json_t **error)
{
	struct exec_proc	proc;
	struct pollfd		pfd[3];
	int			status;

	ck_assert_int_eq(exec_spawn(spec, &proc), 0);
	while (proc.out_fd != -1 || proc.err_fd != -1) {
		pfd[0] = (struct pollfd){ proc.in_fd, POLLOUT, 0 };
		pfd[1] = (struct pollfd){ proc.out_fd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ proc.err_fd, POLLIN, 0 };
		ck_assert_int_ge(poll(pfd, 3, 5000), 1);
		if (pfd[0].revents)
			exec_write(&proc, spec);
		if (pfd[1].revents)
			exec_read(&proc, proc.out_fd);
		if (pfd[2].revents && proc.err_fd != -1)
			exec_read(&proc, proc.err_fd);
	}
	ck_assert_int_eq(waitpid(proc.pid, &status, 0), proc.pid);
	exec_close(&proc);
	*result = *error = NULL;
	exec_outcome(spec, &proc, status, result, error);
}

START_TEST(test_exec_runs_and_caps)
{
	struct exec_spec	 spec;
	const char		*param;
	json_t			*result, *error;

	ck_assert_int_eq(parse("[\"sh\", \"-c\", \"cat; printf '\\\\377' >&2; "
	    "head -c 5000 /dev/zero; exit 4\"]", "{\"stdin\": \"hi\"}", &spec,
	    &param), 0);
	run(&spec, &result, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_eq(json_integer_value(json_object_get(result,
	    "exit_code")), 4);
	ck_assert(json_is_null(json_object_get(result, "signal")));
	ck_assert_int_eq(json_integer_value(json_object_get(result,
	    "stdout_bytes")), 5002);
	ck_assert(json_is_true(json_object_get(result, "stdout_truncated")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    result, "stderr"), "base64")), "/w==");
	json_decref(result);
	exec_spec_free(&spec);
}
END_TEST

START_TEST(test_exec_check_and_spawn_errors)
{
	struct exec_spec	 spec;
	const char		*param;
	struct exec_proc	 proc;
	json_t			*result, *error;

	ck_assert_int_eq(parse("[\"false\"]", "{\"check\": true}", &spec,
	    &param), 0);
	run(&spec, &result, &error);
	ck_assert_ptr_null(result);
	ck_assert_str_eq(json_string_value(json_object_get(error, "type")),
	    "ProcessError");
	ck_assert_int_eq(json_integer_value(json_object_get(error,
	    "exit_code")), 1);
	json_decref(error);
	exec_spec_free(&spec);

	ck_assert_int_eq(parse("[\"no-such-program-poold\"]", "{}", &spec,
	    &param), 0);
	ck_assert_int_eq(exec_spawn(&spec, &proc), ENOENT);
	error = exec_spawn_error(&spec, ENOENT);
	ck_assert_int_eq(json_integer_value(json_object_get(error, "errno")),
	    ENOENT);
	json_decref(error);
	exec_spec_free(&spec);

	ck_assert_int_eq(parse("[\"true\"]", "{\"cwd\": \"/nonexistent\"}",
	    &spec, &param), 0);
	ck_assert_int_eq(exec_spawn(&spec, &proc), ENOENT);
	exec_spec_free(&spec);
}
END_TEST

Suite *
exec_suite(void)
{
	Suite	*s = suite_create("exec");
	TCase	*tc = tcase_create("Base64");

	tcase_add_test(tc, test_base64_round_trip);
	tcase_add_test(tc, test_base64_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("Calls");
	tcase_add_loop_test(tc, test_exec_bad_calls, 0,
	    sizeof bad_calls / sizeof bad_calls[0]);
	tcase_add_test(tc, test_exec_env);
	suite_add_tcase(s, tc);
	tc = tcase_create("Programs");
	tcase_add_test(tc, test_exec_runs_and_caps);
	tcase_add_test(tc, test_exec_check_and_spawn_errors);
	suite_add_tcase(s, tc);
	return s;
}
