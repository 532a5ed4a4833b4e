/*
 * stacks.h - sample and symbolise the stack of another thread of this process
 * (LoopScope stall watchdog helper, Linux only).
 *
 * Plain C11, importable from Swift. No caller-side macros are needed.
 * Mechanism: SIGPROF is sent to the target thread with tgkill(); the handler
 * (running on the target thread) records backtrace() into a preallocated
 * buffer and wakes the sampler through a futex. Symbolisation reads the ELF
 * .symtab of the main executable and shared objects (lazily, cached) and falls
 * back to dladdr(); Swift names are demangled through swift_demangle when the
 * Swift runtime is loaded.
 *
 * IMPORTANT: a signal makes a blocking system call such as nanosleep, poll,
 * epoll_wait return early (EINTR), whatever SA_RESTART says. Only sample
 * threads that loopscope_thread_state() reports as 'R' (running/runnable).
 */
#ifndef LOOPSCOPE_STACKS_H
#define LOOPSCOPE_STACKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Installs the SIGPROF handler (SA_SIGINFO | SA_RESTART) and calls
/// backtrace() once so that libgcc_s is loaded and later calls from the
/// signal handler do not allocate.
/// Contract: idempotent; the first successful call wins, later calls return 0.
/// A SIGPROF that is not a sample request is forwarded to the previously
/// installed handler if it was a function, otherwise ignored.
/// Thread: any thread, thread-safe. Not async-signal-safe.
/// Returns 0 on success, -1 with errno set on failure.
int loopscope_stacks_install(void);

/// Returns the calling thread's kernel thread id (gettid(2)), as used by
/// /proc/self/task/TID and by loopscope_stacks_sample().
/// Thread: any thread; async-signal-safe.
int32_t loopscope_gettid(void);

/// Samples the stack of thread `tid` of this process.
/// Sends SIGPROF with tgkill(); the handler on the target thread records
/// backtrace() and wakes the caller (futex wait, no spinning). Waits at most
/// `timeout_us` microseconds (0 = do not wait beyond an immediate check).
/// On success copies up to `max` addresses into `frames`: frames[0] is the
/// exact program counter of the interrupted function, frames[1...] are return
/// addresses (symbolise `frames[i] - 1` for i > 0 to name the call site).
/// The handler's own frames and the signal trampoline are skipped.
/// Samples are serialised by an internal mutex. A handler that runs late
/// (after a timeout, e.g. SIGPROF was blocked) is detected with a
/// generation counter and cannot corrupt a later sample.
/// `handler_nanos`, if non-NULL, receives the time spent inside the signal
/// handler in nanoseconds (CLOCK_MONOTONIC), or 0 when no sample was taken.
/// Only SIGPROF sent by this function (SI_TKILL from this process) is
/// treated as a request; other SIGPROF (setitimer, kill) go to the handler
/// installed before, or are ignored if that was SIG_DFL/SIG_IGN.
/// Calls loopscope_stacks_install() if needed.
/// Thread: any thread other than `tid` (a watchdog thread). Blocks for at
/// most timeout_us plus the wait for a concurrent sample's mutex. Returns 0
/// without signalling if a handler of an earlier timed-out sample is still
/// writing the buffer after timeout_us.
/// Returns the number of frames (> 0), 0 if the thread did not answer in
/// time, -1 with errno on error (EINVAL bad arguments, ESRCH no such thread,
/// EPERM, ...).
int loopscope_stacks_sample(int32_t tid, uintptr_t *frames, int32_t max,
                            int32_t timeout_us, uint64_t *handler_nanos);

/// Reads /proc/self/task/TID/stat and returns the scheduler state letter:
/// 'R' running/runnable, 'S' interruptible sleep, 'D' uninterruptible sleep,
/// 'T'/'t' stopped/traced, 'Z' zombie, ... Returns 0 on failure (e.g. the
/// thread has exited). Does not touch (signal) the thread.
/// Thread: any thread. Cost: one open/read/close of a proc file (~5-10 us).
char loopscope_thread_state(int32_t tid);

/// Reads /proc/self/task/TID/syscall. Returns the number of the system call
/// the thread is blocked in (>= 0), -1 if it is not in a system call (the file
/// says "running", or "-1 ..." for a thread preempted in user space), -2 on
/// failure (thread gone, file unreadable). Does not signal the thread.
/// Thread: any thread.
int64_t loopscope_thread_syscall(int32_t tid);

/// Writes the NUL-terminated name of system call `nr` for the architecture
/// this file was compiled for (x86_64 and aarch64 numbers, taken from
/// <sys/syscall.h>) into `out`, e.g. "futex", "epoll_wait", or "syscall N"
/// when unknown. `outlen` is the size of `out` in bytes (truncates).
/// Thread: any thread; async-signal-safe.
void loopscope_syscall_name(int64_t nr, char *out, int32_t outlen);

/// Symbolises one code address of this process.
/// Writes the function name into `name` (Swift symbols demangled with
/// swift_demangle when available; C++ `_Z` names stay mangled), and the base
/// file name of the containing object (e.g. "libc.so.6") into `object`.
/// Both are NUL-terminated and truncated to `namelen` / `objectlen` bytes;
/// either may be NULL with a length of 0. Unknown parts are written as "".
/// Returns the offset of `addr` from the start of the symbol in bytes, or -1
/// if no symbol is known (the object name may still be filled in).
/// Names come from the object's ELF .symtab, or its .dynsym when stripped
/// (main executable via /proc/self/exe, shared objects by path; read once,
/// cached as sorted arrays of FUNC symbols, bounded to 64 objects, skipped if
/// the GNU build-id differs from the loaded image), otherwise from dladdr()
/// (e.g. the vdso), which only knows exported symbols. Safe on stripped
/// binaries. For frames[i] with i > 0 pass frames[i] - 1 (return address).
/// swift_demangle is found with dlsym, or in the executable's .symtab when
/// the Swift runtime is linked statically (--static-swift-stdlib; the Swift
/// code must then reference swift_demangle so that the linker keeps it).
/// Thread: any thread, thread-safe; NOT async-signal-safe (allocates on the
/// first use of each object). Cost: first address in an object reads its
/// table (~0.1-7 ms, ~1-2 MB heap for libswiftCore); later ~0.2-1 us/frame.
int64_t loopscope_symbolize(uintptr_t addr, char *name, int32_t namelen,
                            char *object, int32_t objectlen);

#ifdef __cplusplus
}
#endif

#endif /* LOOPSCOPE_STACKS_H */
