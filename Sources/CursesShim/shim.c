#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include "CursesShim.h"
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <signal.h>
#include <unistd.h>
#include <poll.h>
#include <ncursesw/curses.h>

static int active = 0;
static int colors = 0;

int ls_curses_start(int use_color) {
    if (active) return 0;
    setlocale(LC_ALL, "");
    if (newterm(NULL, stdout, stdin) == NULL) return -1;
    active = 1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    colors = 0;
    if (use_color && has_colors()) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_GREEN, -1);
        init_pair(2, COLOR_YELLOW, -1);
        init_pair(3, COLOR_RED, -1);
        init_pair(4, COLOR_CYAN, -1);
        init_pair(5, COLOR_BLACK, COLOR_YELLOW);
        init_pair(6, COLOR_WHITE, COLOR_RED);
        init_pair(7, COLOR_BLUE, -1);
        init_pair(8, COLOR_MAGENTA, -1);
        colors = 1;
    }
    return 0;
}

void ls_curses_stop(void) {
    if (!active) return;
    curs_set(1);
    endwin();
    active = 0;
}

int ls_curses_active(void) { return active; }

void ls_curses_size(int *rows, int *cols) {
    int r, c;
    getmaxyx(stdscr, r, c);
    *rows = r;
    *cols = c;
}

int ls_curses_has_colors(void) { return colors; }

void ls_curses_draw(int row, int col, const char *utf8, int style) {
    attr_t attrs = A_NORMAL;
    int pair = style & 15;
    if (style & 16) attrs |= A_BOLD;
    if (style & 32) attrs |= A_REVERSE;
    if (style & 64) attrs |= A_DIM;
    if (style & 128) attrs |= A_UNDERLINE;
    if (colors && pair) attrs |= COLOR_PAIR(pair);
    attrset(attrs);
    size_t n = strlen(utf8) + 1;
    wchar_t stackbuf[512];
    wchar_t *w = n <= 512 ? stackbuf : malloc(n * sizeof(wchar_t));
    if (!w) return;
    size_t len = mbstowcs(w, utf8, n);
    if (len == (size_t)-1) {
        mvaddstr(row, col, utf8);
    } else {
        mvaddnwstr(row, col, w, (int)len);
    }
    if (w != stackbuf) free(w);
    attrset(A_NORMAL);
}

void ls_curses_refresh(void) {
    move(0, 0);
    refresh();
}

void ls_curses_clear(void) { clearok(stdscr, TRUE); }

int ls_curses_key(int timeout_ms, int32_t *code) {
    timeout(timeout_ms);
    wint_t ch = 0;
    int r = get_wch(&ch);
    if (r == ERR) return 0;
    *code = (int32_t)ch;
    return r == KEY_CODE_YES ? 2 : 1;
}

int ls_key_up(void) { return KEY_UP; }
int ls_key_down(void) { return KEY_DOWN; }
int ls_key_left(void) { return KEY_LEFT; }
int ls_key_right(void) { return KEY_RIGHT; }
int ls_key_resize(void) { return KEY_RESIZE; }
int ls_key_home(void) { return KEY_HOME; }
int ls_key_end(void) { return KEY_END; }
int ls_key_npage(void) { return KEY_NPAGE; }
int ls_key_ppage(void) { return KEY_PPAGE; }
int ls_key_backspace(void) { return KEY_BACKSPACE; }
int ls_key_enter(void) { return KEY_ENTER; }
int ls_key_btab(void) { return KEY_BTAB; }

static void crash_handler(int sig) {
    if (active) { endwin(); active = 0; }
    signal(sig, SIG_DFL);
    raise(sig);
}

void ls_curses_install_crash_handlers(void) {
    int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], crash_handler);
    atexit(ls_curses_stop);
}

int ls_terminal_gone(void) {
    struct pollfd p = { .fd = 0, .events = POLLIN, .revents = 0 };
    if (poll(&p, 1, 0) < 0) return 0;
    return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}
