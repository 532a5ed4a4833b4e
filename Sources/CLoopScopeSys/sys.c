#define _GNU_SOURCE
#include "CLoopScopeSys.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <spawn.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <malloc.h>
#endif

int loopscope_set_parent_death_signal(void) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, SIGKILL);
#else
    return 0;
#endif
}

void loopscope_set_thread_name(const char *name) {
#ifdef __linux__
    char buf[16];
    strncpy(buf, name, 15);
    buf[15] = 0;
    pthread_setname_np(pthread_self(), buf);
#endif
}

int loopscope_pipe_cloexec(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

void loopscope_thread_name(char *buf, int size) {
    buf[0] = 0;
#ifdef __linux__
    pthread_getname_np(pthread_self(), buf, (size_t)size);
#endif
}

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#endif

/// The kernel tick, nanoseconds: the coarse clock's resolution (1/HZ).
static int64_t loopscope_tick_nanos(void) {
    static int64_t tick = 0; // every thread computes the same value: a benign race, made atomic
    int64_t t = __atomic_load_n(&tick, __ATOMIC_RELAXED);
    if (t == 0) {
        struct timespec res;
        t = 4000000LL;
        if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0) t = res.tv_nsec;
        __atomic_store_n(&tick, t, __ATOMIC_RELAXED);
    }
    return t;
}

int64_t loopscope_loop_wait_nanos(int fd) {
#ifdef __linux__
    struct timespec fine, coarse;
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
    clock_gettime(CLOCK_MONOTONIC, &fine);
    clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse);
    int64_t tick = loopscope_tick_nanos();
    int64_t since = (int64_t)info.tcpi_last_data_recv * 1000000LL;
    if (since == 0) return 0;
    // Time since the current kernel tick began (the coarse clock moves at ticks), at most one tick.
    int64_t into_tick = (int64_t)(fine.tv_sec - coarse.tv_sec) * 1000000000LL + (fine.tv_nsec - coarse.tv_nsec);
    if (into_tick < 0) into_tick = 0;
    if (into_tick > tick) into_tick = tick;
    if (since <= tick) return into_tick; // the data came in the previous tick: at least this long ago
    int64_t estimate = since + into_tick - tick / 2; // the middle of the possible span
    return estimate < 0 ? 0 : estimate;
#else
    (void)fd;
    return -1;
#endif
}

int loopscope_thread_first_visit(int64_t registry) {
    static __thread int64_t visited = 0;
    if (visited == registry) return 0;
    visited = registry;
    return 1;
}

int64_t loopscope_thread_cpu_nanos(int32_t tid) {
#ifdef __linux__
    /* MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): what glibc's pthread_getcpuclockid returns. */
    clockid_t clock = (clockid_t)(((unsigned)~tid) << 3) | 2 | 4;
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#else
    (void)tid;
    return -1;
#endif
}

int loopscope_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions; (void)from;
    return ENOSYS;
#endif
}

int64_t loopscope_allocated_bytes(void) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return (int64_t)(m.uordblks + m.hblkhd);
#else
    return -1;
#endif
}
