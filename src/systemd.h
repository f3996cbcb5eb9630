/* What poold tells systemd, and the socket systemd may pass it. */
#ifndef POOLD_SYSTEMD_H
#define POOLD_SYSTEMD_H

#include <stdint.h>

void	 systemd_init(void);
int	 systemd_notifying(void);
uint64_t systemd_watchdog_usec(void);
int	 systemd_listen_fd(char **);
void	 systemd_ready(const char *);
void	 systemd_status(const char *);
void	 systemd_reloading(void);
void	 systemd_stopping(double);
void	 systemd_watchdog(void);

#endif
