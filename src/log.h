/* Logging to stderr with a level, in the manner of daemon(7). */
#ifndef POOLD_LOG_H
#define POOLD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_init(enum log_level);
int	log_enabled(enum log_level);
void	log_emit(enum log_level, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_exit(int, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4), noreturn));

/* The _warn and fatal forms append strerror(errno); the x forms do not. */
#define log_debug(...) \
	do { if (log_enabled(LOG_LEVEL_DEBUG)) \
		log_emit(LOG_LEVEL_DEBUG, -1, __func__, __VA_ARGS__); } while (0)
#define log_info(...)	log_emit(LOG_LEVEL_INFO, -1, __func__, __VA_ARGS__)
#define log_warn(...)	log_emit(LOG_LEVEL_WARN, errno, __func__, __VA_ARGS__)
#define log_warnx(...)	log_emit(LOG_LEVEL_WARN, -1, __func__, __VA_ARGS__)
#define log_error(...)	log_emit(LOG_LEVEL_ERROR, errno, __func__, __VA_ARGS__)
#define fatal(...)	log_exit(errno, __func__, __VA_ARGS__)
#define fatalx(...)	log_exit(-1, __func__, __VA_ARGS__)

#endif
