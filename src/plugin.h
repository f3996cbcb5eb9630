/* Plugins: loading shared objects of include/poold/plugin.h's ABI. */
#ifndef POOLD_PLUGIN_LOADER_H
#define POOLD_PLUGIN_LOADER_H

int	plugin_load(const char *, const char *, char **);
int	plugin_init_all(char **);
void	plugin_unload_all(void);

#endif
