#ifndef LOOPSCOPE_CURSES_SHIM_H
#define LOOPSCOPE_CURSES_SHIM_H
#include <stdint.h>

/// Initialises the screen: locale, raw keys, no echo, keypad, hidden cursor, colours if any.
/// Returns 0 on success, -1 when the terminal cannot be used.
int ls_curses_start(int use_color);
/// Restores the terminal. Safe to call more than once.
void ls_curses_stop(void);
/// Whether the screen is started.
int ls_curses_active(void);
/// Current size.
void ls_curses_size(int *rows, int *cols);
/// Whether the terminal has colours (after start).
int ls_curses_has_colors(void);
/// Draws UTF-8 text at (row, col) with a style: bits 0-3 colour pair, bit 4 bold, bit 5 reverse, bit 6 dim, bit 7 underline.
void ls_curses_draw(int row, int col, const char *utf8, int style);
/// Moves the hidden cursor out of the way and refreshes the screen.
void ls_curses_refresh(void);
/// Clears the whole screen on the next refresh.
void ls_curses_clear(void);
/// Waits up to timeout_ms for a key. Returns 0 when none, 1 for a character (in *code), 2 for a function key (in *code).
int ls_curses_key(int timeout_ms, int32_t *code);

/// Restores the terminal if the process crashes (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT), then re-raises.
void ls_curses_install_crash_handlers(void);

/// Whether the terminal has gone away (hang-up or error on standard input).
int ls_terminal_gone(void);

/// Function-key codes, as ls_curses_key reports them.
int ls_key_up(void);
int ls_key_down(void);
int ls_key_left(void);
int ls_key_right(void);
int ls_key_resize(void);
int ls_key_home(void);
int ls_key_end(void);
int ls_key_npage(void);
int ls_key_ppage(void);
int ls_key_backspace(void);
int ls_key_enter(void);
int ls_key_btab(void);
#endif
