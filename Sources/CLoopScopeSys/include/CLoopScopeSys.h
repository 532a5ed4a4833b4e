#ifndef CLOOPSCOPESYS_H
#define CLOOPSCOPESYS_H
#include <sys/types.h>
#include <stdint.h>
#include <spawn.h>
#include "LoopScopeStacks.h"

/// Asks the kernel to SIGKILL the calling process when its parent thread exits (Linux; no-op elsewhere).
int loopscope_set_parent_death_signal(void);

/// pipe2(fds, O_CLOEXEC). Returns 0 on success, -1 with errno.
int loopscope_pipe_cloexec(int fds[2]);

/// Adds "close every descriptor >= from" to a spawn's file actions (glibc 2.34+:
/// posix_spawn_file_actions_addclosefrom_np), so a child inherits only what the actions before
/// it set up. Sockets NIO accepts are not close-on-exec: without this, a process spawned while
/// connections are open holds them, and a connection the server closes never ends for its
/// client. Returns 0, or an errno (ENOSYS where unavailable).
int loopscope_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// Sets the calling thread's name (at most 15 bytes are kept).
void loopscope_set_thread_name(const char *name);
/// Copies the calling thread's name into buf (size at least 16).
void loopscope_thread_name(char *buf, int size);

/// How long the newest bytes queued on TCP socket `fd` waited before the caller read them,
/// nanoseconds: estimated from TCP_INFO's `tcpi_last_data_recv` (whole kernel ticks: 4 ms at
/// HZ=250) and the time into the current tick (CLOCK_MONOTONIC less CLOCK_MONOTONIC_COARSE).
/// 0 when the data came within the current tick; the time into the tick (a lower bound) when
/// it came in the previous one; otherwise the middle of the possible span (± half a tick).
/// -1 when the socket has no TCP_INFO. Call on the thread that just read the socket.
int64_t loopscope_loop_wait_nanos(int fd);

/// 1 the first time the calling thread calls it with `registry` (non-zero), 0 on later calls
/// with the same value; a thread-local slot remembers the last registry seen.
int loopscope_thread_first_visit(int64_t registry);

/// CPU time used so far by thread `tid` of this process, nanoseconds (one clock_gettime on the
/// thread's CPU clock, as pthread_getcpuclockid makes it); -1 when the thread is gone.
int64_t loopscope_thread_cpu_nanos(int32_t tid);

/// Bytes the allocator has handed out and not had back, process-wide: glibc's `mallinfo2`
/// (arena blocks in use plus mmapped ones). -1 where there is no mallinfo2.
int64_t loopscope_allocated_bytes(void);
#endif
