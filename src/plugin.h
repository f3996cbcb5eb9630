/* Plugins: loading shared objects of include/poold/plugin.h's ABI. */
#ifndef POOLD_PLUGIN_LOADER_H
#define POOLD_PLUGIN_LOADER_H

#include <stddef.h>

struct config;

int	plugin_load(const char *, const struct config *, char **);
int	plugin_init_all(char **);
void	plugin_unload_all(void);
void	plugin_worker(void);
int	plugin_loaded(const char *);
const char *plugin_path(size_t);
const char *plugin_setting_read(size_t, const char **);

#endif
