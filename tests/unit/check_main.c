/* Runs every unit suite; CK_RUN_SUITE and CK_RUN_CASE pick some. */
#include "autoconf.h"

#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_suite());
	srunner_add_suite(sr, exec_suite());
	srunner_add_suite(sr, fn_suite());
	srunner_add_suite(sr, future_suite());
	srunner_add_suite(sr, journal_suite());
	srunner_add_suite(sr, json_check_suite());
	srunner_add_suite(sr, json_span_suite());
	srunner_add_suite(sr, procpool_suite());
	srunner_add_suite(sr, queue_suite());
	srunner_add_suite(sr, rpc_suite());
	srunner_add_suite(sr, sched_suite());
	srunner_add_suite(sr, server_suite());
	srunner_add_suite(sr, threadpool_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
