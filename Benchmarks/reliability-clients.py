#!/usr/bin/env python3
"""Misbehaving HTTP clients for Benchmarks/reliability. Prints one JSON object.

  slowloris HOST PORT N TIMEOUT_S   N connections that send half a request head, then one more
                                    header line each second (a slowloris keeps trickling), and
                                    never finish it; waits up to TIMEOUT_S for the server to
                                    close them and reports when each was closed.
  big-body HOST PORT BYTES TRIES    POSTs declaring a Content-Length of BYTES and starts sending
                                    the body; reports the status and how long the answer took.
"""
import json, selectors, socket, sys, time


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def slowloris(host, port, n, timeout):
    sel = selectors.DefaultSelector()
    opened, failed, refused = {}, 0, 0
    for _ in range(n):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n")
            s.setblocking(False)
            opened[s] = time.monotonic()
            sel.register(s, selectors.EVENT_READ)
        except OSError:
            failed += 1
    connected_at = time.monotonic()
    closed_after = []
    answered = 0
    next_trickle = time.monotonic() + 1
    deadline = connected_at + timeout
    while opened and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                answered += 1  # the server answered instead of closing: counted, then treated as closed
            closed_after.append(time.monotonic() - opened.pop(s))
            sel.unregister(s)
            s.close()
        if time.monotonic() >= next_trickle:
            for s in list(opened):
                try:
                    s.send(b"X-Trickle: 1\r\n")
                except OSError:
                    pass
            next_trickle += 1
    still_open = len(opened)
    for s in opened:
        s.close()
    print(json.dumps({
        "connections": n, "connectFailed": failed, "closedByServer": len(closed_after), "answered": answered,
        "stillOpen": still_open,
        "closedAfterSeconds": {"min": min(closed_after, default=None), "p50": percentile(closed_after, 50),
                               "p99": percentile(closed_after, 99), "max": max(closed_after, default=None)},
    }))


def big_body(host, port, size, tries):
    results = []
    chunk = b"x" * 65536
    for _ in range(tries):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        start = time.monotonic()
        s.sendall(f"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode())
        sent, response = 0, b""
        while time.monotonic() - start < 5:
            try:
                data = s.recv(4096)
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response:
                    break
            except BlockingIOError:
                pass
            if sent < size:
                try:
                    sent += s.send(chunk[: min(len(chunk), size - sent)])
                except (BlockingIOError, OSError):
                    pass
            time.sleep(0.0005)
        elapsed = time.monotonic() - start
        status = response.split(b" ", 2)[1].decode() if response.startswith(b"HTTP/") else None
        results.append({"status": status, "seconds": round(elapsed, 4), "bodyBytesSent": sent})
        s.close()
    print(json.dumps({"tries": results, "maxSeconds": max(r["seconds"] for r in results),
                      "all413": all(r["status"] == "413" for r in results)}))


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "slowloris":
        slowloris(host, port, int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "big-body":
        big_body(host, port, int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")
