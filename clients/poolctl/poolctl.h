/* poolctl: the command-line client's private interface. */
#ifndef POOLCTL_H
#define POOLCTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <poold/client.h>

/*
 * Exit statuses, the command line's contract: a script tells these apart.
 * exec --wait exits with its program's own status instead.
 */
enum ctl_exit {
	CTL_OK = 0,
	CTL_FAILED = 1,		/* the task failed, or the daemon said no */
	CTL_USAGE = 2,		/* a bad command line */
	CTL_BROKEN = 3,		/* no daemon there, or it broke the protocol */
	CTL_TIMEOUT = 4,	/* a wait or a task ran out of time */
	CTL_CANCELLED = 5,	/* the future was cancelled */
};

/* What every command gets: the global options and the connection. */
struct ctl {
	const char	*socket;	/* -s; NULL: the protocol's default */
	int		 json;		/* --json: machine output */
	poold_client	*client;	/* made by ctl_connect */
};

/* One command: what `poolctl NAME --help` prints, and its code. */
struct ctl_cmd {
	const char	*name;
	const char	*args;		/* the usage line after the name */
	const char	*summary;	/* one line, for `poolctl --help` */
	const char	*help;		/* its options, one per line */
	int		(*run)(struct ctl *, const struct ctl_cmd *, int,
			    char **);
};

/* cmd-info.c */
extern const struct ctl_cmd cmd_hello, cmd_functions, cmd_stats,
	cmd_workers;
void	info_workers_table(json_t *, FILE *);
/* cmd-task.c */
extern const struct ctl_cmd cmd_submit, cmd_run, cmd_status, cmd_result,
	cmd_exception, cmd_cancel, cmd_wait, cmd_list, cmd_forget;
int	task_option(const struct ctl_cmd *, int, const char *, json_t *);
/* cmd-exec.c */
extern const struct ctl_cmd cmd_exec;
/* cmd-map.c */
extern const struct ctl_cmd cmd_map;
/* cmd-top.c */
extern const struct ctl_cmd cmd_top;
/* cmd-admin.c */
extern const struct ctl_cmd cmd_resize, cmd_shutdown;

/* ctl.c: connecting, calling, and turning failures into exit statuses. */
int	 ctl_connect(struct ctl *);
int	 ctl_call(struct ctl *, const char *, json_t *, int, json_t **);
int	 ctl_failure(struct ctl *, poold_status, const char *);
int	 ctl_rpc_status(int);
int	 ctl_task_error(const char *, json_t *);
int	 ctl_timeout_ms(double);
int	 ctl_usage(const struct ctl_cmd *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ctl_help(const struct ctl_cmd *, FILE *);
int	 ctl_no_args(const struct ctl_cmd *, int, char **);
int	 ctl_getopt(const struct ctl_cmd *, int, char **, const char *,
	    const struct option *);
void	 ctl_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));

/* parse.c: command-line values. */
json_t	*ctl_parse_value(const char *, size_t);
int	 ctl_parse_seconds(const char *, double *);
int	 ctl_parse_long(const char *, long, long, long *);
int	 ctl_parse_kwarg(const char *, json_t *);
int	 ctl_parse_env(const char *, json_t *);
json_t	*ctl_bytes_value(const void *, size_t);
int	 ctl_read_file(const char *, char **, size_t *);

/* output.c: human and JSON output. */
void	 ctl_print_json(json_t *);
void	 ctl_print_value(json_t *);
void	 ctl_print_result(struct ctl *, json_t *);
void	 ctl_print_error(FILE *, const char *, json_t *);
const char *ctl_str(json_t *, const char *, const char *);
double	 ctl_num(json_t *, const char *);
char	*ctl_format_time(double, char *, size_t);
char	*ctl_format_bytes(double, char *, size_t);
char	*ctl_format_duration(double, char *, size_t);
int	 ctl_flush(void);

/* output.c: a table of text cells, printed with aligned columns. */
struct ctl_table;
struct ctl_table *ctl_table_new(size_t, ...);
void	 ctl_table_add(struct ctl_table *, ...);
void	 ctl_table_print(struct ctl_table *, FILE *);
void	 ctl_table_free(struct ctl_table *);

/*
 * xmalloc.c: allocation whose failure ends poolctl. The daemon's base64.c,
 * which poolctl shares, allocates through these too.
 */
void	*xmalloc(size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
