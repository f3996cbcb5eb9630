/* The listening socket: default path rules, modes, stale and live sockets. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "suites.h"

static char	dir[] = "/tmp/check_server.XXXXXX";
static char	sock[PATH_MAX];

static void
setup(void)
{
	strcpy(dir, "/tmp/check_server.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/sub/dir/poold.sock", dir);
}

static void
teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_server_default_path)
{
	char	*p, expect[64];

	setenv("POOLD_SOCKET", "/x/explicit.sock", 1);
	p = server_default_path();
	ck_assert_str_eq(p, "/x/explicit.sock");
	free(p);
	unsetenv("POOLD_SOCKET");
	p = server_default_path();
	if (getuid() == 0)
		ck_assert_str_eq(p, "/run/poold/poold.sock");
	free(p);
	if (getuid() != 0) {
		setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
		p = server_default_path();
		ck_assert_str_eq(p, "/run/user/1234/poold/poold.sock");
		free(p);
		unsetenv("XDG_RUNTIME_DIR");
		p = server_default_path();
		snprintf(expect, sizeof expect, "/tmp/poold-%u/poold.sock",
		    (unsigned)getuid());
		ck_assert_str_eq(p, expect);
		free(p);
	}
}
END_TEST

START_TEST(test_server_open_makes_dirs_and_mode)
{
	struct stat	 st;
	char		*cause = NULL;
	int		 fd;

	ck_assert_int_ge(fd = server_open(sock, &cause), 0);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
}
END_TEST

START_TEST(test_server_refuses_live_socket)
{
	char	*cause = NULL;
	int	 fd, fd2;

	ck_assert_int_ge(fd = server_open(sock, &cause), 0);
	ck_assert_int_eq(fd2 = server_open(sock, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "already serving"));
	free(cause);
	close(fd);
}
END_TEST

START_TEST(test_server_replaces_stale_socket)
{
	char	*cause = NULL;
	int	 fd;

	ck_assert_int_ge(fd = server_open(sock, &cause), 0);
	close(fd);		/* the file stays; nothing listens */
	ck_assert_int_ge(fd = server_open(sock, &cause), 0);
	close(fd);
}
END_TEST

START_TEST(test_server_keeps_other_files)
{
	char	*cause = NULL, path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof path, "%s/file", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fclose(fp);
	ck_assert_int_eq(server_open(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not a socket"));
	ck_assert_int_eq(access(path, F_OK), 0);
	free(cause);
}
END_TEST

START_TEST(test_server_path_too_long)
{
	char	*cause = NULL, path[200];

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	ck_assert_int_eq(server_open(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "longer"));
	free(cause);
}
END_TEST

Suite *
server_suite(void)
{
	Suite	*s = suite_create("server");
	TCase	*tc = tcase_create("Socket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_server_default_path);
	tcase_add_test(tc, test_server_open_makes_dirs_and_mode);
	tcase_add_test(tc, test_server_refuses_live_socket);
	tcase_add_test(tc, test_server_replaces_stale_socket);
	tcase_add_test(tc, test_server_keeps_other_files);
	tcase_add_test(tc, test_server_path_too_long);
	suite_add_tcase(s, tc);
	return s;
}
