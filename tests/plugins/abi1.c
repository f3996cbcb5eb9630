/*
 * A plugin as one built against version 1 of <poold/plugin.h> is: the
 * structures below are that header's, so poold_plugin ends after its
 * functions. poold must load and run it, and must read nothing past it
 * (a sanitizer build puts a red zone there). Its "v1:*" is an ordinary
 * name: prefixes are a version 2 feature.
 */
#include <jansson.h>

struct v1_task {
	void	(*fail)(struct v1_task *, const char *);
	int	(*stopped)(struct v1_task *);
	int	(*pause)(struct v1_task *, double);
	void	*poold_private;
};

typedef json_t *(*v1_fn)(struct v1_task *, json_t *, json_t *);

struct v1_function {
	const char	*name;
	const char	*doc;
	unsigned	 executors;
	unsigned	 default_executor;
	v1_fn		 fn;
};

struct v1_plugin {
	unsigned			 abi;
	const char			*name;
	int				 (*init)(void);
	const struct v1_function	*functions;
};

static json_t *
abi1_double(struct v1_task *task, json_t *args, json_t *kwargs)
{
	json_t	*n = json_array_get(args, 0);

	if (!json_is_integer(n) || json_array_size(args) != 1) {
		task->fail(task, "abi1_double takes one integer");
		return NULL;
	}
	return json_integer(2 * json_integer_value(n));
}

static json_t *
abi1_star(struct v1_task *task, json_t *args, json_t *kwargs)
{
	return json_string("an ordinary name");
}

static const struct v1_function abi1_functions[] = {
	{ "abi1_double", "twice an integer", 0x3u, 0x2u, abi1_double },
	{ "v1:*", "a name ending in a star", 0x3u, 0x2u, abi1_star },
	{ NULL, NULL, 0, 0, NULL }
};

const struct v1_plugin poold_plugin = {
	1, "abi1", NULL, abi1_functions
};
