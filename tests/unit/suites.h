/* The unit suites, one per module. */
#ifndef POOLD_TEST_SUITES_H
#define POOLD_TEST_SUITES_H

#include <check.h>

Suite	*config_suite(void);
Suite	*exec_suite(void);
Suite	*fn_suite(void);
Suite	*future_suite(void);
Suite	*journal_suite(void);
Suite	*json_check_suite(void);
Suite	*json_span_suite(void);
Suite	*procpool_suite(void);
Suite	*queue_suite(void);
Suite	*rpc_suite(void);
Suite	*sched_suite(void);
Suite	*server_suite(void);
Suite	*threadpool_suite(void);

#endif
