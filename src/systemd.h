/* What poold tells systemd, and the socket systemd may pass it. */
#ifndef POOLD_SYSTEMD_H
#define POOLD_SYSTEMD_H

int	systemd_listen_fd(char **);
void	systemd_ready(int, int);
void	systemd_stopping(void);

#endif
