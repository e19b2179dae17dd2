#!/usr/bin/python3
"""soak: mixed traffic through portico for a while, then a verdict.

    /usr/bin/python3 tools/soak.py [--seconds 600] [--bin build/release/portico]

Starts three scripted backends (tests/e2e/backend.py) and portico (2 workers)
in a temp dir, then runs client threads doing, at random: keep-alive GETs,
a new connection per request, 1-8 MiB downloads and uploads (hash-checked),
malformed requests (must get 400 and a close), requests to a route whose
upstream is down (must get 502, or 503 once the server is ejected), and
slow responses. Every 30 s one backend is killed and restarted (the others
keep answering: failures then may only be 502s on that server's requests). Reports requests by kind, errors, and
portico's RSS after warm-up and at the end; fails on a crash, an unexpected
answer, a non-zero exit after SIGTERM (the sanitizer build reports leaks
there), or RSS growth beyond 10%.
"""

import argparse
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from backend import pattern  # noqa: E402
from helpers import Conn, free_port, get, rss_kib, wait_port, yaml_dump  # noqa: E402

PY = "/usr/bin/python3"
MIB = 1024 * 1024


class Backends:
    def __init__(self, n):
        self.ports = [free_port() for _ in range(n)]
        self.procs = [None] * n

    def start(self, i):
        self.procs[i] = subprocess.Popen(
            [PY, str(ROOT / "tests/e2e/backend.py"), "--port", str(self.ports[i]),
             "--name", "b%d" % (i + 1)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.ports[i], 10)

    def stop(self, i):
        p = self.procs[i]
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.errors = []

    def ok(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def error(self, kind, what):
        with self.lock:
            self.errors.append("%s: %s" % (kind, what))


def act_keepalive(port, st, rnd):
    with Conn(port) as c:
        for _ in range(rnd.randint(5, 50)):
            r = c.roundtrip("GET", "/bytes/%d" % rnd.randint(0, 4096))
            if r.status == 502:
                st.ok("keepalive-502")  # the restarted backend
                return
            if r.status != 200:
                st.error("keepalive", r.status)
                return
            st.ok("keepalive")


def act_new_conn(port, st, rnd):
    r = get(port, "/")
    st.ok("new-conn") if r.status in (200, 502) else st.error("new-conn", r.status)


def act_download(port, st, rnd):
    n = rnd.randint(1, 8) * MIB
    r = get(port, "/%s/%d" % (rnd.choice(["bytes", "chunked"]), n), timeout=30)
    if r.status == 502:
        st.ok("download-502")
    elif r.status != 200 or r.body != pattern(n):
        st.error("download", "%s %d bytes" % (r.status, len(r.body)))
    else:
        st.ok("download")


def act_upload(port, st, rnd):
    body = os.urandom(rnd.randint(1, 8) * MIB)
    r = get(port, "/upload", method="POST", body=body, timeout=30)
    if r.status == 502:
        st.ok("upload-502")
        return
    want = hashlib.sha256(body).hexdigest().encode()
    if r.status != 200 or want not in r.body:
        st.error("upload", r.status)
    else:
        st.ok("upload")


MALFORMED = [
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    b"\x00\x01\x02 garbage\r\n\r\n",
]


def act_malformed(port, st, rnd):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(rnd.choice(MALFORMED))
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    st.ok("malformed") if data.startswith(b"HTTP/1.1 400") else st.error("malformed", data[:40])


def act_dead_upstream(port, st, rnd):
    # 502 while the dead server is tried, 503 once passive checks ejected it
    r = get(port, "/dead/")
    st.ok("dead-upstream") if r.status in (502, 503) else st.error("dead-upstream", r.status)


def act_slow(port, st, rnd):
    r = get(port, "/slow/%d" % rnd.randint(10, 300))
    st.ok("slow") if r.status in (200, 502) else st.error("slow", r.status)


ACTIONS = [(act_keepalive, 30), (act_new_conn, 30), (act_download, 6), (act_upload, 6),
           (act_malformed, 10), (act_dead_upstream, 8), (act_slow, 10)]


def client(port, st, stop, seed):
    rnd = random.Random(seed)
    funcs, weights = zip(*ACTIONS)
    while not stop.is_set():
        f = rnd.choices(funcs, weights)[0]
        try:
            f(port, st, rnd)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            st.error(f.__name__, repr(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--bin", default=str(ROOT / "build/release/portico"))
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="portico-soak-"))
    backends = Backends(3)
    for i in range(3):
        backends.start(i)
    port = free_port()
    cfg = {
        "workers": 2,
        "listeners": [{"name": "soak", "address": "127.0.0.1:%d" % port}],
        "upstreams": {
            "app": {"servers": [{"address": "127.0.0.1:%d" % p} for p in backends.ports]},
            "dead": {"servers": [{"address": "127.0.0.1:%d" % free_port()}]},
        },
        "routes": [{"match": {"path_prefix": "/dead/"}, "upstream": "dead"},
                   {"match": {"path_prefix": "/"}, "upstream": "app"}],
        "limits": {"max_body_size": "16m"},
        "access_log": {"path": str(tmp / "access.log"), "format": "json"},
    }
    (tmp / "soak.yaml").write_text(yaml_dump(cfg) + "\n")
    err = open(tmp / "portico.err", "wb")
    proc = subprocess.Popen([args.bin, "-c", str(tmp / "soak.yaml")], stdout=subprocess.DEVNULL,
                            stderr=err)
    if not wait_port(port, 10, proc):
        sys.exit("portico did not start")

    st, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=client, args=(port, st, stop, i), daemon=True)
               for i in range(args.clients)]
    for t in threads:
        t.start()
    start = time.monotonic()
    warm = min(30, args.seconds // 10)
    time.sleep(warm)
    rss_start = rss_kib(proc.pid)
    next_kill, victim = time.monotonic() + 30, 0
    while time.monotonic() - start < args.seconds and proc.poll() is None:
        time.sleep(1)
        if time.monotonic() >= next_kill:
            backends.stop(victim)
            time.sleep(1)
            backends.start(victim)
            victim = (victim + 1) % 3
            next_kill = time.monotonic() + 30
    rss_end = rss_kib(proc.pid) if proc.poll() is None else 0
    stop.set()
    for t in threads:
        t.join(60)
    crashed = proc.poll() is not None
    if not crashed:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = "hung after SIGTERM"
    for i in range(3):
        backends.stop(i)
    err.close()

    total = sum(st.counts.values())
    print("soak: %d s, %d clients, %d requests/actions" % (args.seconds, args.clients, total))
    for kind in sorted(st.counts):
        print("  %-16s %d" % (kind, st.counts[kind]))
    print("errors: %d" % len(st.errors))
    for e in st.errors[:20]:
        print("  " + e)
    growth = (rss_end - rss_start) * 100.0 / rss_start if rss_start else 0.0
    print("RSS after %d s warm-up: %d kB; at the end: %d kB (%+.1f%%)"
          % (warm, rss_start, rss_end, growth))
    print("exit after SIGTERM: %s" % code)
    failed = crashed or code != 0 or st.errors or growth > 10.0
    if crashed:
        print("FAIL: portico died during the soak; stderr in %s" % (tmp / "portico.err"))
    print("soak: %s" % ("FAIL" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
