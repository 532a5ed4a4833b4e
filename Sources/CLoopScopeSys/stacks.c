/*
 * stacks.c - sample and symbolise the stack of another thread of this process.
 * See stacks.h for the API contract. Linux only (x86_64, aarch64), glibc.
 *
 * Sampling protocol (one request at a time, serialised by g_sample_lock):
 *   g_req  (64-bit atomic) = generation << 32 | target tid, tid 0 = no request
 *   g_done (32-bit futex)  = generation of the last completed sample
 * The sampler publishes g_req, sends SIGPROF with tgkill() and waits on g_done.
 * The handler claims the request with a CAS (only if the tid matches its own
 * and the signal came from tgkill of this process), writes the preallocated
 * buffer, then stores the generation into g_done and wakes the futex. On
 * timeout the sampler cancels with a CAS; if that fails a handler has claimed
 * the request and is still writing, so the buffer is marked in flight and the
 * next sample waits for it before reusing the buffer. A late handler (signal
 * delivered after its request was cancelled) finds no matching request and
 * does nothing, so it cannot corrupt a later sample.
 */
#define _GNU_SOURCE
#include "LoopScopeStacks.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free (used in a signal handler)");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free (used in a signal handler)");

#define LS_RAW_FRAMES 256          /* frames recorded by the handler */
#define LS_MAX_OBJECTS 64          /* symbol-table cache bound */
#define LS_ST_TYPE(info) ((info) & 0xf)   /* same for ELF32 and ELF64 */
#define LS_ST_BIND(info) ((info) >> 4)
#if __ELF_NATIVE_CLASS == 64
#define LS_ELFCLASS ELFCLASS64
#else
#define LS_ELFCLASS ELFCLASS32
#endif

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static uint64_t ls_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void ls_copy(char *out, int32_t outlen, const char *s) {
    if (out == NULL || outlen <= 0) return;
    size_t n = strlen(s);
    if (n >= (size_t)outlen) n = (size_t)outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

int32_t loopscope_gettid(void) {
    static __thread int32_t cached = 0; /* a thread's id never changes */
    if (cached == 0) cached = (int32_t)syscall(SYS_gettid);
    return cached;
}

/* ------------------------------------------------------------------------ */
/* Sampling                                                                  */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_install_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_installed;
static struct sigaction g_old_action;   /* written before our handler exists */
static uintptr_t g_restorer;            /* sa_restorer (x86_64), 0 if unknown */

#ifdef LOOPSCOPE_STACKS_TESTING
/* Test-only counters (not part of the API). */
_Atomic uint64_t loopscope_stacks_test_inflight;  /* claimed request outlived its timeout */
_Atomic uint64_t loopscope_stacks_test_dropped;   /* own signal with no matching request */
#define LS_TEST_INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#else
#define LS_TEST_INC(x) ((void)0)
#endif

static pthread_mutex_t g_sample_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t g_gen;                  /* last issued generation (lock) */
static uint32_t g_inflight;             /* claimed but unfinished gen (lock) */
static _Atomic uint64_t g_req;
static _Atomic uint32_t g_done;

/* Written only by the handler that owns the current request. */
static void *g_raw[LS_RAW_FRAMES];
static int g_raw_n;
static uintptr_t g_raw_pc;
static uint64_t g_raw_ns;

static uintptr_t ls_context_pc(void *uctx) {
    if (uctx == NULL) return 0;
    ucontext_t *uc = (ucontext_t *)uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static void ls_forward(int sig, siginfo_t *si, void *uctx) {
    if (g_old_action.sa_flags & SA_SIGINFO) {
        if (g_old_action.sa_sigaction != NULL) g_old_action.sa_sigaction(sig, si, uctx);
    } else if (g_old_action.sa_handler != SIG_DFL && g_old_action.sa_handler != SIG_IGN &&
               g_old_action.sa_handler != NULL) {
        g_old_action.sa_handler(sig);
    }
    /* SIG_DFL (terminate) and SIG_IGN: ignore. */
}

static void ls_handler(int sig, siginfo_t *si, void *uctx) {
    int saved_errno = errno;
    uint64_t t0 = ls_now_ns();
    bool from_us = si != NULL && si->si_code == SI_TKILL && si->si_pid == getpid();
    if (!from_us) {
        ls_forward(sig, si, uctx);
        errno = saved_errno;
        return;
    }
    int32_t self = (int32_t)syscall(SYS_gettid);
    uint64_t req = atomic_load_explicit(&g_req, memory_order_acquire);
    if ((uint32_t)req == 0 || (int32_t)(uint32_t)req != self ||
        !atomic_compare_exchange_strong_explicit(&g_req, &req, req & 0xffffffff00000000ull,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        /* Late delivery of a cancelled request (or not for this thread): drop. */
        LS_TEST_INC(loopscope_stacks_test_dropped);
        errno = saved_errno;
        return;
    }
    uint32_t gen = (uint32_t)(req >> 32);
    g_raw_n = backtrace(g_raw, LS_RAW_FRAMES);
    g_raw_pc = ls_context_pc(uctx);
    g_raw_ns = ls_now_ns() - t0;
    atomic_store_explicit(&g_done, gen, memory_order_release);
    syscall(SYS_futex, &g_done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved_errno;
}

int loopscope_stacks_install(void) {
    if (atomic_load_explicit(&g_installed, memory_order_acquire)) return 0;
    pthread_mutex_lock(&g_install_lock);
    int rc = 0;
    if (!atomic_load_explicit(&g_installed, memory_order_relaxed)) {
        /* Warm-up: the first backtrace() dlopens libgcc_s (allocates, locks). */
        void *warm[8];
        (void)backtrace(warm, 8);

        struct sigaction old, sa, cur;
        if (sigaction(SIGPROF, NULL, &old) != 0) {
            rc = -1;
        } else {
            g_old_action = old;  /* before our handler can run */
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = ls_handler;
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            if (sigaction(SIGPROF, &sa, NULL) != 0) {
                rc = -1;
            } else {
#if defined(__x86_64__)
                if (sigaction(SIGPROF, NULL, &cur) == 0) g_restorer = (uintptr_t)cur.sa_restorer;
#else
                (void)cur;
#endif
                atomic_store_explicit(&g_installed, 1, memory_order_release);
            }
        }
    }
    int saved = errno;
    pthread_mutex_unlock(&g_install_lock);
    errno = saved;
    return rc;
}

/* Waits until g_done == gen or CLOCK_MONOTONIC passes deadline_ns. */
static bool ls_wait_done(uint32_t gen, uint64_t deadline_ns) {
    for (;;) {
        uint32_t d = atomic_load_explicit(&g_done, memory_order_acquire);
        if (d == gen) return true;
        if (ls_now_ns() >= deadline_ns) return false;
        struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ull),
                              .tv_nsec = (long)(deadline_ns % 1000000000ull)};
        /* FUTEX_WAIT_BITSET: absolute timeout on CLOCK_MONOTONIC. */
        syscall(SYS_futex, &g_done, FUTEX_WAIT_BITSET_PRIVATE, d, &ts, NULL,
                FUTEX_BITSET_MATCH_ANY);
    }
}

int loopscope_stacks_sample(int32_t tid, uintptr_t *frames, int32_t max, int32_t timeout_us,
                            uint64_t *handler_nanos) {
    if (handler_nanos != NULL) *handler_nanos = 0;
    if (tid <= 0 || frames == NULL || max <= 0 || timeout_us < 0) {
        errno = EINVAL;
        return -1;
    }
    if (loopscope_stacks_install() != 0) return -1;

    pthread_mutex_lock(&g_sample_lock);
    uint64_t deadline = ls_now_ns() + (uint64_t)timeout_us * 1000ull;
    int result = 0, err = 0;

    /* A handler that claimed an earlier (timed out) request may still be
       writing the buffer: it must finish before the buffer is reused. */
    if (g_inflight != 0) {
        if (!ls_wait_done(g_inflight, deadline)) goto out;
        g_inflight = 0;
    }

    uint32_t gen = ++g_gen;
    if (gen == 0) gen = ++g_gen;
    uint64_t req = ((uint64_t)gen << 32) | (uint32_t)tid;
    atomic_store_explicit(&g_req, req, memory_order_seq_cst);

    bool sent = syscall(SYS_tgkill, (pid_t)getpid(), (pid_t)tid, SIGPROF) == 0;
    if (!sent) err = errno;
    bool done = sent && ls_wait_done(gen, deadline);
    if (!done) {
        uint64_t expected = req;
        if (!atomic_compare_exchange_strong_explicit(&g_req, &expected, (uint64_t)gen << 32,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            /* Claimed by a handler (possibly a late signal of an earlier
               request that happened to hit the same thread): either done now
               or still writing. */
            if (atomic_load_explicit(&g_done, memory_order_acquire) == gen) {
                done = true;
            } else {
                g_inflight = gen;
                LS_TEST_INC(loopscope_stacks_test_inflight);
            }
        }
        if (!done) {
            if (!sent) result = -1;
            goto out;
        }
    }

    /* Locate the interrupted frame: the entry equal to the context's PC;
       otherwise the entry after the signal trampoline; otherwise PC alone. */
    int n = g_raw_n, start = -1;
    uintptr_t pc = g_raw_pc;
    for (int i = 0; i < n && i < 8 && pc != 0; i++)
        if ((uintptr_t)g_raw[i] == pc) { start = i; break; }
    if (start < 0 && g_restorer != 0)
        for (int i = 0; i < n && i < 8; i++)
            if ((uintptr_t)g_raw[i] == g_restorer) { start = i + 1; break; }
    if (start < 0 || start >= n) {
        if (pc == 0) { result = 0; goto out; }
        frames[0] = pc;
        result = 1;
    } else {
        int count = n - start;
        if (count > max) count = max;
        for (int i = 0; i < count; i++) frames[i] = (uintptr_t)g_raw[start + i];
        result = count;
    }
    if (handler_nanos != NULL) *handler_nanos = g_raw_ns;

out:
    pthread_mutex_unlock(&g_sample_lock);
    if (result < 0) errno = err;
    return result;
}

/* ------------------------------------------------------------------------ */
/* /proc inspection                                                          */
/* ------------------------------------------------------------------------ */

static ssize_t ls_read_proc(int32_t tid, const char *leaf, char *buf, size_t len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, leaf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t total = 0;
    while ((size_t)total < len - 1) {
        ssize_t r = read(fd, buf + total, len - 1 - (size_t)total);
        if (r < 0) {
            if (errno == EINTR) continue;
            total = -1;
            break;
        }
        if (r == 0) break;
        total += r;
    }
    close(fd);
    if (total >= 0) buf[total] = '\0';
    return total;
}

char loopscope_thread_state(int32_t tid) {
    if (tid <= 0) return 0;
    char buf[1024];
    if (ls_read_proc(tid, "stat", buf, sizeof buf) <= 0) return 0;
    /* "pid (comm) S ..." - comm may contain ')' and spaces: use the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == '\0') return 0;
    return p[2];
}

int64_t loopscope_thread_syscall(int32_t tid) {
    if (tid <= 0) return -2;
    char buf[256];
    if (ls_read_proc(tid, "syscall", buf, sizeof buf) <= 0) return -2;
    if (strncmp(buf, "running", 7) == 0) return -1;
    char *end = NULL;
    errno = 0;
    long long nr = strtoll(buf, &end, 10);
    if (end == buf || errno != 0) return -2;
    return nr < 0 ? -1 : (int64_t)nr;  /* "-1 sp pc": not in a system call */
}

/* Numbers come from <sys/syscall.h> so the table is right on each arch
   (aarch64 lacks the legacy calls such as poll, select, nanosleep...). */
#define LS_SC(name) {SYS_##name, #name}
static const struct { long nr; const char *name; } g_syscalls[] = {
#ifdef SYS_read
    LS_SC(read),
#endif
#ifdef SYS_write
    LS_SC(write),
#endif
#ifdef SYS_open
    LS_SC(open),
#endif
#ifdef SYS_openat
    LS_SC(openat),
#endif
#ifdef SYS_close
    LS_SC(close),
#endif
#ifdef SYS_nanosleep
    LS_SC(nanosleep),
#endif
#ifdef SYS_clock_nanosleep
    LS_SC(clock_nanosleep),
#endif
#ifdef SYS_poll
    LS_SC(poll),
#endif
#ifdef SYS_ppoll
    LS_SC(ppoll),
#endif
#ifdef SYS_select
    LS_SC(select),
#endif
#ifdef SYS_pselect6
    LS_SC(pselect6),
#endif
#ifdef SYS_epoll_wait
    LS_SC(epoll_wait),
#endif
#ifdef SYS_epoll_pwait
    LS_SC(epoll_pwait),
#endif
#ifdef SYS_epoll_pwait2
    LS_SC(epoll_pwait2),
#endif
#ifdef SYS_futex
    LS_SC(futex),
#endif
#ifdef SYS_futex_waitv
    LS_SC(futex_waitv),
#endif
#ifdef SYS_recvfrom
    LS_SC(recvfrom),
#endif
#ifdef SYS_sendto
    LS_SC(sendto),
#endif
#ifdef SYS_recvmsg
    LS_SC(recvmsg),
#endif
#ifdef SYS_sendmsg
    LS_SC(sendmsg),
#endif
#ifdef SYS_recvmmsg
    LS_SC(recvmmsg),
#endif
#ifdef SYS_sendmmsg
    LS_SC(sendmmsg),
#endif
#ifdef SYS_accept
    LS_SC(accept),
#endif
#ifdef SYS_accept4
    LS_SC(accept4),
#endif
#ifdef SYS_connect
    LS_SC(connect),
#endif
#ifdef SYS_wait4
    LS_SC(wait4),
#endif
#ifdef SYS_waitid
    LS_SC(waitid),
#endif
#ifdef SYS_fsync
    LS_SC(fsync),
#endif
#ifdef SYS_fdatasync
    LS_SC(fdatasync),
#endif
#ifdef SYS_sync_file_range
    LS_SC(sync_file_range),
#endif
#ifdef SYS_flock
    LS_SC(flock),
#endif
#ifdef SYS_fcntl
    LS_SC(fcntl),
#endif
#ifdef SYS_ioctl
    LS_SC(ioctl),
#endif
#ifdef SYS_pread64
    LS_SC(pread64),
#endif
#ifdef SYS_pwrite64
    LS_SC(pwrite64),
#endif
#ifdef SYS_readv
    LS_SC(readv),
#endif
#ifdef SYS_writev
    LS_SC(writev),
#endif
#ifdef SYS_preadv2
    LS_SC(preadv2),
#endif
#ifdef SYS_pwritev2
    LS_SC(pwritev2),
#endif
#ifdef SYS_sched_yield
    LS_SC(sched_yield),
#endif
#ifdef SYS_pause
    LS_SC(pause),
#endif
#ifdef SYS_rt_sigsuspend
    LS_SC(rt_sigsuspend),
#endif
#ifdef SYS_rt_sigtimedwait
    LS_SC(rt_sigtimedwait),
#endif
#ifdef SYS_io_getevents
    LS_SC(io_getevents),
#endif
#ifdef SYS_io_uring_enter
    LS_SC(io_uring_enter),
#endif
#ifdef SYS_msync
    LS_SC(msync),
#endif
#ifdef SYS_mmap
    LS_SC(mmap),
#endif
#ifdef SYS_munmap
    LS_SC(munmap),
#endif
#ifdef SYS_madvise
    LS_SC(madvise),
#endif
#ifdef SYS_mprotect
    LS_SC(mprotect),
#endif
#ifdef SYS_brk
    LS_SC(brk),
#endif
#ifdef SYS_clone
    LS_SC(clone),
#endif
#ifdef SYS_clone3
    LS_SC(clone3),
#endif
#ifdef SYS_execve
    LS_SC(execve),
#endif
#ifdef SYS_getrandom
    LS_SC(getrandom),
#endif
#ifdef SYS_statx
    LS_SC(statx),
#endif
#ifdef SYS_newfstatat
    LS_SC(newfstatat),
#endif
#ifdef SYS_unlinkat
    LS_SC(unlinkat),
#endif
#ifdef SYS_renameat2
    LS_SC(renameat2),
#endif
#ifdef SYS_splice
    LS_SC(splice),
#endif
#ifdef SYS_sendfile
    LS_SC(sendfile),
#endif
#ifdef SYS_copy_file_range
    LS_SC(copy_file_range),
#endif
#ifdef SYS_fallocate
    LS_SC(fallocate),
#endif
#ifdef SYS_ftruncate
    LS_SC(ftruncate),
#endif
#ifdef SYS_shutdown
    LS_SC(shutdown),
#endif
#ifdef SYS_socket
    LS_SC(socket),
#endif
#ifdef SYS_msgrcv
    LS_SC(msgrcv),
#endif
#ifdef SYS_semtimedop
    LS_SC(semtimedop),
#endif
};
#undef LS_SC

void loopscope_syscall_name(int64_t nr, char *out, int32_t outlen) {
    if (out == NULL || outlen <= 0) return;
    for (size_t i = 0; i < sizeof g_syscalls / sizeof g_syscalls[0]; i++) {
        if (g_syscalls[i].nr == nr) {
            ls_copy(out, outlen, g_syscalls[i].name);
            return;
        }
    }
    /* snprintf is not formally async-signal-safe: format by hand. */
    char tmp[32] = "syscall ";
    char digits[24];
    int nd = 0;
    uint64_t v = nr < 0 ? (uint64_t)0 - (uint64_t)nr : (uint64_t)nr;
    do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v != 0 && nd < 22);
    size_t p = 8;
    if (nr < 0) tmp[p++] = '-';
    while (nd > 0) tmp[p++] = digits[--nd];
    tmp[p] = '\0';
    ls_copy(out, outlen, tmp);
}

/* ------------------------------------------------------------------------ */
/* Symbolisation                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    uintptr_t start;   /* run-time address */
    uint64_t size;
    uint32_t name;     /* offset into names */
    uint8_t global;
} ls_sym;

typedef struct {
    char *path;             /* dlpi_name ("" for the main executable) */
    const char *base;       /* base file name for display */
    uintptr_t bias;         /* dlpi_addr */
    ls_sym *syms;           /* sorted by start, NULL if no .symtab */
    size_t nsyms;
    char *names;
} ls_object;

static pthread_mutex_t g_sym_lock = PTHREAD_MUTEX_INITIALIZER;
static ls_object g_objects[LS_MAX_OBJECTS];
static int g_nobjects;
static char g_exe_path[PATH_MAX];
static const char *g_exe_base = "";

typedef char *(*ls_demangle_fn)(const char *, size_t, char *, size_t *, uint32_t);
static _Atomic(ls_demangle_fn) g_demangle;  /* NULL until found */
static int g_demangle_tried_at = -1;         /* g_nobjects at the last lookup (lock) */
static uintptr_t g_demangle_symtab;          /* swift_demangle seen in a .symtab (lock) */

static const char *ls_basename(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Finds the GNU build-id in a note area. */
static bool ls_note_build_id(const unsigned char *p, size_t len, const unsigned char **id,
                             size_t *idlen) {
    size_t off = 0;
    while (off + sizeof(ElfW(Nhdr)) <= len) {
        ElfW(Nhdr) nh;
        memcpy(&nh, p + off, sizeof nh);
        size_t nsz = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
        size_t dsz = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
        size_t body = off + sizeof nh;
        if (nsz > len || dsz > len || body + nsz + dsz > len) return false;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(p + body, "GNU", 4) == 0) {
            *id = p + body + nsz;
            *idlen = nh.n_descsz;
            return true;
        }
        off = body + nsz + dsz;
    }
    return false;
}

static const char *g_sort_names;   /* names pool during qsort (g_sym_lock held) */

static int ls_sym_cmp(const void *a, const void *b) {
    const ls_sym *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    /* Aliases at one address: prefer global, then fewer leading '_'
       ("printf" over "_IO_printf"), then the shorter name. */
    if (x->global != y->global) return x->global ? -1 : 1;
    const char *nx = g_sort_names + x->name, *ny = g_sort_names + y->name;
    size_t ux = strspn(nx, "_"), uy = strspn(ny, "_");
    if (ux != uy) return ux < uy ? -1 : 1;
    size_t lx = strlen(nx), ly = strlen(ny);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(nx, ny);
}

/* Reads the FUNC symbols of an ELF file's .symtab. The file must match the
   loaded image (same build-id when both have one). Never crashes on
   truncated, stripped or foreign files: every offset is bounds-checked. */
/* The length of a defined function symbol's name in the string table; 0 for any other symbol
   or a name that is empty or runs past the table. */
static size_t ls_function_name_len(const ElfW(Sym) *s, const char *strs, size_t strsz) {
    int type = LS_ST_TYPE(s->st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF || s->st_value == 0 ||
        s->st_name == 0 || s->st_name >= strsz)
        return 0;
    size_t len = strnlen(strs + s->st_name, strsz - s->st_name);
    return s->st_name + len >= strsz ? 0 : len;
}

static void ls_load_symtab(ls_object *o, const char *file, const ElfW(Phdr) *phdr, int phnum) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < sizeof(ElfW(Ehdr))) {
        close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return;

    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)m;
    const ElfW(Shdr) *sh = NULL;
    size_t shnum = 0;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != LS_ELFCLASS ||
        eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) || eh->e_shoff > size ||
        eh->e_shoff % _Alignof(ElfW(Shdr)) != 0)
        goto done;
    sh = (const ElfW(Shdr) *)(m + eh->e_shoff);
    if (size - eh->e_shoff < sizeof(ElfW(Shdr))) goto done;
    shnum = eh->e_shnum ? eh->e_shnum : (size_t)sh[0].sh_size;
    if (shnum == 0 || shnum > (size - eh->e_shoff) / sizeof(ElfW(Shdr))) goto done;

    /* Build-id check: in-memory PT_NOTE vs file SHT_NOTE. */
    const unsigned char *mem_id = NULL, *file_id = NULL;
    size_t mem_len = 0, file_len = 0;
    for (int i = 0; i < phnum && mem_id == NULL; i++)
        if (phdr[i].p_type == PT_NOTE)
            ls_note_build_id((const unsigned char *)(o->bias + phdr[i].p_vaddr), phdr[i].p_memsz,
                             &mem_id, &mem_len);
    for (size_t i = 0; i < shnum && file_id == NULL; i++)
        if (sh[i].sh_type == SHT_NOTE && sh[i].sh_offset <= size && sh[i].sh_size <= size - sh[i].sh_offset)
            ls_note_build_id(m + sh[i].sh_offset, sh[i].sh_size, &file_id, &file_len);
    if (mem_id != NULL && file_id != NULL && (mem_len != file_len || memcmp(mem_id, file_id, mem_len) != 0))
        goto done;   /* file on disk was replaced: do not trust its symbols */

    /* Prefer .symtab (all functions); else .dynsym (exported only, but a
       binary search here is ~50x faster than dladdr's linear scan). */
    const ElfW(Shdr) *symtab = NULL;
    for (size_t i = 0; i < shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB) { symtab = &sh[i]; break; }
    for (size_t i = 0; i < shnum && symtab == NULL; i++)
        if (sh[i].sh_type == SHT_DYNSYM) { symtab = &sh[i]; break; }
    if (symtab == NULL || symtab->sh_link >= shnum || symtab->sh_entsize != sizeof(ElfW(Sym))) goto done;
    const ElfW(Shdr) *strsh = &sh[symtab->sh_link];
    if (strsh->sh_type != SHT_STRTAB || symtab->sh_offset > size ||
        symtab->sh_size > size - symtab->sh_offset || strsh->sh_offset > size ||
        strsh->sh_size > size - strsh->sh_offset || strsh->sh_size == 0 ||
        symtab->sh_offset % _Alignof(ElfW(Sym)) != 0)
        goto done;
    const ElfW(Sym) *syms = (const ElfW(Sym) *)(m + symtab->sh_offset);
    size_t nsym = symtab->sh_size / sizeof(ElfW(Sym));
    const char *strs = (const char *)(m + strsh->sh_offset);
    size_t strsz = strsh->sh_size;

    /* Pass 1: count and measure. */
    size_t count = 0, bytes = 0;
    for (size_t i = 0; i < nsym; i++) {
        size_t len = ls_function_name_len(&syms[i], strs, strsz);
        if (len == 0) continue;
        count++;
        bytes += len + 1;
    }
    if (count == 0 || bytes > UINT32_MAX) goto done;
    ls_sym *out = malloc(count * sizeof *out);
    char *names = malloc(bytes);
    if (out == NULL || names == NULL) {
        free(out);
        free(names);
        goto done;
    }
    /* Pass 2: copy (the file is unmapped afterwards; safe if replaced). */
    size_t k = 0, pos = 0;
    for (size_t i = 0; i < nsym && k < count; i++) {
        const ElfW(Sym) *s = &syms[i];
        size_t len = ls_function_name_len(s, strs, strsz);
        if (len == 0 || pos + len + 1 > bytes) continue;
        memcpy(names + pos, strs + s->st_name, len + 1);
        if (len == 14 && memcmp(names + pos, "swift_demangle", 14) == 0 && g_demangle_symtab == 0)
            g_demangle_symtab = o->bias + (uintptr_t)s->st_value;   /* static stdlib */
        out[k].start = o->bias + (uintptr_t)s->st_value;
        out[k].size = s->st_size;
        out[k].name = (uint32_t)pos;
        out[k].global = LS_ST_BIND(s->st_info) != STB_LOCAL;
        pos += len + 1;
        k++;
    }
    g_sort_names = names;
    qsort(out, k, sizeof *out, ls_sym_cmp);
    /* Keep one symbol per address (the preferred one sorts first). */
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || out[u - 1].start != out[i].start) out[u++] = out[i];
    o->syms = out;
    o->nsyms = u;
    o->names = names;
done:
    munmap((void *)m, size);
}

struct ls_find {
    uintptr_t addr;
    bool found;
    char name[PATH_MAX];
    uintptr_t bias;
    const ElfW(Phdr) *phdr;
    int phnum;
};

static int ls_find_cb(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct ls_find *f = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + p->p_vaddr;
        if (f->addr >= lo && f->addr - lo < p->p_memsz) {
            f->found = true;
            ls_copy(f->name, sizeof f->name, info->dlpi_name ? info->dlpi_name : "");
            f->bias = info->dlpi_addr;
            f->phdr = info->dlpi_phdr;   /* lives as long as the object is loaded */
            f->phnum = info->dlpi_phnum;
            return 1;
        }
    }
    return 0;
}

/* Returns the cached object containing addr (loading its .symtab on first
   use), or NULL if the address is not in any loaded object. */
static ls_object *ls_object_for(uintptr_t addr, const char **base_out) {
    struct ls_find f;
    memset(&f, 0, sizeof f);
    f.addr = addr;
    dl_iterate_phdr(ls_find_cb, &f);
    *base_out = "";
    if (!f.found) return NULL;

    pthread_mutex_lock(&g_sym_lock);
    bool is_exe = f.name[0] == '\0';
    if (is_exe && g_exe_path[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", g_exe_path, sizeof g_exe_path - 1);
        if (n > 0) {
            g_exe_path[n] = '\0';
            g_exe_base = ls_basename(g_exe_path);
        } else {
            g_exe_base = "<main>";
        }
    }
    *base_out = is_exe ? g_exe_base : ls_basename(f.name);

    ls_object *o = NULL;
    for (int i = 0; i < g_nobjects; i++) {
        if (g_objects[i].bias == f.bias && strcmp(g_objects[i].path, f.name) == 0) {
            o = &g_objects[i];
            break;
        }
    }
    if (o == NULL && g_nobjects < LS_MAX_OBJECTS) {
        char *path = strdup(f.name);
        if (path != NULL) {
            o = &g_objects[g_nobjects];
            memset(o, 0, sizeof *o);
            o->path = path;
            o->bias = f.bias;
            o->base = is_exe ? g_exe_base : ls_basename(path);
            /* The main executable is read via /proc/self/exe (works even if
               the file was moved or deleted). Pseudo objects (vdso) fail to
               open and simply get no table. */
            const char *file = is_exe ? "/proc/self/exe" : path;
            if (file[0] == '/') ls_load_symtab(o, file, f.phdr, f.phnum);
            g_nobjects++;
        }
    }
    if (o != NULL) *base_out = o->base;
    pthread_mutex_unlock(&g_sym_lock);
    return o;
}

static bool ls_is_swift_mangled(const char *s) {
    if (s[0] == '_') s++;
    return s[0] == '$' && (s[1] == 's' || s[1] == 'S' || s[1] == 'e');
}

/* Finds swift_demangle: exported by libswiftCore.so (dlsym), or, with
   --static-swift-stdlib, only present in the executable's .symtab. Looked up
   again whenever a new object was cached, so a runtime loaded later is found. */
static ls_demangle_fn ls_demangler(void) {
    ls_demangle_fn f = atomic_load_explicit(&g_demangle, memory_order_acquire);
    if (f != NULL) return f;
    pthread_mutex_lock(&g_sym_lock);
    f = atomic_load_explicit(&g_demangle, memory_order_relaxed);
    if (f == NULL && g_demangle_tried_at != g_nobjects) {
        g_demangle_tried_at = g_nobjects;
        void *p = dlsym(RTLD_DEFAULT, "swift_demangle");
        if (p == NULL) p = (void *)g_demangle_symtab;
        memcpy(&f, &p, sizeof p);   /* POSIX object -> function pointer */
        if (f != NULL) atomic_store_explicit(&g_demangle, f, memory_order_release);
    }
    pthread_mutex_unlock(&g_sym_lock);
    return f;
}

static void ls_write_name(const char *sym, char *name, int32_t namelen) {
    if (name == NULL || namelen <= 0) return;
    ls_demangle_fn demangle = ls_is_swift_mangled(sym) ? ls_demangler() : NULL;
    if (demangle != NULL) {
        size_t sz = (size_t)namelen;
        char *r = demangle(sym, strlen(sym), name, &sz, 0);
        if (r == name) {
            name[namelen - 1] = '\0';
            return;
        }
        if (r != NULL) free(r);   /* not expected with a caller buffer */
    }
    ls_copy(name, namelen, sym);
}

int64_t loopscope_symbolize(uintptr_t addr, char *name, int32_t namelen, char *object,
                            int32_t objectlen) {
    ls_copy(name, namelen, "");
    ls_copy(object, objectlen, "");
    if (addr == 0) return -1;

    const char *base = "";
    ls_object *o = ls_object_for(addr, &base);
    ls_copy(object, objectlen, base);

    /* 1. The object's .symtab (immutable once published). */
    if (o != NULL && o->nsyms > 0) {
        size_t lo = 0, hi = o->nsyms;          /* first start > addr */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (o->syms[mid].start <= addr) lo = mid + 1; else hi = mid;
        }
        if (lo > 0) {
            const ls_sym *s = &o->syms[lo - 1];
            if (addr - s->start < s->size || (s->size == 0 && addr - s->start < 4096)) {
                ls_write_name(o->names + s->name, name, namelen);
                return (int64_t)(addr - s->start);
            }
        }
        /* The table read from the file is a superset of what dladdr knows
           (it reads the same .dynsym from memory): skip its linear scan. */
        return -1;
    }

    /* 2. No table (vdso, unreadable or replaced file): dladdr, which only
          knows exported (dynamic) symbols. */
    Dl_info info;
    if (dladdr((void *)addr, &info) != 0) {
        if (base[0] == '\0' && info.dli_fname != NULL) ls_copy(object, objectlen, ls_basename(info.dli_fname));
        if (info.dli_sname != NULL && info.dli_saddr != NULL && (uintptr_t)info.dli_saddr <= addr) {
            ls_write_name(info.dli_sname, name, namelen);
            return (int64_t)(addr - (uintptr_t)info.dli_saddr);
        }
    }
    return -1;
}
