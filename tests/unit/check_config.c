/* Settings: defaults, values, and file errors that name file and line. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static char *
write_file(const char *text)
{
	static char	path[] = "/tmp/check_config.XXXXXX";
	char		*p = strdup(path);
	int		 fd;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ne(fd = mkstemp(p), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

START_TEST(test_config_defaults)
{
	struct config	cfg;

	config_defaults(&cfg);
	ck_assert_int_eq(cfg.max_request_bytes, 16L << 20);
	ck_assert_int_eq(cfg.max_pending, 1000000);
	ck_assert_int_eq(cfg.max_connections, 1024);
	ck_assert(cfg.result_ttl == 3600);
	ck_assert(cfg.threads >= 5 && cfg.threads <= 32);
	ck_assert_ptr_null(cfg.socket);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_values)
{
	struct config	 cfg;
	char		*cause = NULL;

	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "max_request_bytes", "2M", &cause), 0);
	ck_assert_int_eq(cfg.max_request_bytes, 2L << 20);
	ck_assert_int_eq(config_set(&cfg, "result_ttl", "0.25", &cause), 0);
	ck_assert(cfg.result_ttl == 0.25);
	ck_assert_int_eq(config_set(&cfg, "verbose", "yes", &cause), 0);
	ck_assert_int_eq(cfg.verbose, 1);
	ck_assert_int_eq(config_set(&cfg, "socket", "/x/y.sock", &cause), 0);
	ck_assert_str_eq(cfg.socket, "/x/y.sock");
	config_free(&cfg);
}
END_TEST

static const struct {
	const char	*key;
	const char	*value;
	const char	*why;
} bad_values[] = {
	{ "threads", "0", "outside" },
	{ "threads", "-1", "not a whole number" },
	{ "threads", "4x", "not a whole number" },
	{ "max_request_bytes", "12Q", "not a whole number" },
	{ "max_request_bytes", "9999999999G", "not a whole number" },
	{ "result_ttl", "-1", "seconds" },
	{ "result_ttl", "nan", "seconds" },
	{ "verbose", "maybe", "true or false" },
	{ "socket", "", "empty" },
	{ "no_such_key", "1", "unknown setting" },
	{ "admin_group", "no-such-group-poold", "no such group" },
};

START_TEST(test_config_bad_value)
{
	struct config	 cfg;
	char		*cause = NULL;

	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, bad_values[_i].key,
	    bad_values[_i].value, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, bad_values[_i].why));
	free(cause);
	config_free(&cfg);
}
END_TEST

START_TEST(test_config_file)
{
	struct config	 cfg;
	char		*cause = NULL;
	char		*path = write_file("# poold\n\n threads = 3  # few\n"
	    "admin_group=root\nmax_pending = 10\n");

	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, path, &cause), 0);
	ck_assert_int_eq(cfg.threads, 3);
	ck_assert_int_eq(cfg.max_pending, 10);
	ck_assert_str_eq(cfg.admin_group, "root");
	ck_assert_uint_eq(cfg.admin_gid, 0);
	config_free(&cfg);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_config_plugin_strings)
{
	struct config	 cfg;
	char		*cause = NULL;
	char		*path = write_file("python_path = /a:/b\n"
	    "python_initializer = m:init\n");

	config_defaults(&cfg);
	ck_assert_ptr_null(config_string(&cfg, "python_path"));
	ck_assert_int_eq(config_load(&cfg, path, &cause), 0);
	ck_assert_str_eq(config_string(&cfg, "python_path"), "/a:/b");
	ck_assert_str_eq(config_string(&cfg, "python_initializer"), "m:init");
	ck_assert_str_eq(config_string(&cfg, "plugin_dir"), cfg.plugin_dir);
	/* Only strings are handed out: a number has no string to give. */
	ck_assert_ptr_null(config_string(&cfg, "threads"));
	ck_assert_ptr_null(config_string(&cfg, "no_such_key"));
	config_free(&cfg);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_config_file_error_names_line)
{
	struct config	 cfg;
	char		*cause = NULL, expect[64];
	char		*path = write_file("threads = 2\n\nthreads 3\n");

	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, path, &cause), -1);
	snprintf(expect, sizeof expect, "%s:3:", path);
	ck_assert_ptr_nonnull(strstr(cause, expect));
	free(cause);
	config_free(&cfg);
	unlink(path);
	free(path);

	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, "/nonexistent/poold.conf", &cause),
	    -1);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/poold.conf"));
	free(cause);
	config_free(&cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("Values");

	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_values);
	tcase_add_loop_test(tc, test_config_bad_value, 0,
	    sizeof bad_values / sizeof bad_values[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("Files");
	tcase_add_test(tc, test_config_file);
	tcase_add_test(tc, test_config_plugin_strings);
	tcase_add_test(tc, test_config_file_error_names_line);
	suite_add_tcase(s, tc);
	return s;
}
