#ifndef CLOOPSCOPESYS_H
#define CLOOPSCOPESYS_H
#include <sys/types.h>

/// Asks the kernel to SIGKILL the calling process when its parent thread exits (Linux; no-op elsewhere).
int loopscope_set_parent_death_signal(void);

/// pipe2(fds, O_CLOEXEC). Returns 0 on success, -1 with errno.
int loopscope_pipe_cloexec(int fds[2]);

/// Sets the calling thread's name (at most 15 bytes are kept).
void loopscope_set_thread_name(const char *name);
/// Copies the calling thread's name into buf (size at least 16).
void loopscope_thread_name(char *buf, int size);
#endif
