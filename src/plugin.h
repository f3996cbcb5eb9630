/* Plugins: loading shared objects of include/poold/plugin.h's ABI. */
#ifndef POOLD_PLUGIN_LOADER_H
#define POOLD_PLUGIN_LOADER_H

struct config;

int	plugin_load(const char *, const struct config *, char **);
int	plugin_init_all(char **);
void	plugin_unload_all(void);

#endif
