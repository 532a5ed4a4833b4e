# Shared by the Benchmarks scripts (sourced from the repository root): the release
# binaries, a private directory, the processes started (stopped on exit), waiting for a port,
# the steady mixed load Benchmarks/run and Benchmarks/soak put on a server, and the Hummingbird demo pair.
BIN=.build/release
DIR=$(mktemp -d /tmp/loopscope-bench.XXXXXX)
PIDS=()
stop_all() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
trap 'stop_all; rm -rf "$DIR"' EXIT

wait_port() { for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$1/hello" >/dev/null && return 0; sleep 0.1; done; echo "port $1 did not answer" >&2; return 1; }

# The mixed load, and the routes that must leave the loop for a 2-core server to sustain it.
MIXED="/hello:30,/hash:4,/sleep:4,/fanout:4,/mixed:2,/db:4,/where:1"
MIXED_OFF_LOOP=(/hash=threads /sleep=threads /db=threads)

# move_routes CONTROL-DIR ROUTE=MODEL...: switches routes of the server announced in CONTROL-DIR.
move_routes() { local dir=$1; shift; for r in "$@"; do $BIN/loopscope ctl route --control-dir "$dir" "${r%%=*}" "${r##*=}" >/dev/null; done; }

# hummingbird_apps PREFIX: the Hummingbird demo with the agent on 18290 (pid WITH) and without it
# on 18291 (pid WITHOUT), each started under PREFIX (e.g. "taskset -c 0"). Benchmarks/agent, agent-threads.
hummingbird_apps() {
  $1 $BIN/loopscope-hummingbird-demo --port 18290 --control-dir "$DIR/hb" --name bench-hb >/dev/null 2>&1 & WITH=$!; PIDS+=($WITH)
  $1 $BIN/loopscope-hummingbird-demo --port 18291 --without-loopscope >/dev/null 2>&1 & WITHOUT=$!; PIDS+=($WITHOUT)
  wait_port 18290; wait_port 18291
}
