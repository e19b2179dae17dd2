#!/usr/bin/python3
"""
matrix: `make bench` — portico, nginx and HAProxy side by side on the same
machine, the same backend and the same worker count, in one run.

For each worker count (W=1, W=2) and scenario, every proxy is started fresh
from its own config in a temp dir (never a system service), measured with
wrk / h2load / ab, and stopped; proxies take turns in a rotating order over
ROUNDS rounds, and the medians are reported with each proxy's ratio to nginx.
A "direct" row (the backend alone) is the limit, and a "floor" row
(byte_relay.c: bytes copied between one-to-one connections, no HTTP) is the
least any proxy costs on this machine.

Per run: requests/s, p50 and p99 latency, the proxy's CPU seconds per 10k
requests (utime+stime of its processes from /proc, before and after) and its
peak RSS (VmHWM). The idle scenario holds IDLE_CONNS keep-alive connections
and reports the RSS each costs. The machine has 2 cores shared by load
generator, backend and proxy: ratios and CPU per request are what count.

Then, unaffected by noise: instructions per proxied keep-alive 1 KiB request
(valgrind --tool=callgrind over N sequential requests after a warm-up, minus
a run with the warm-up only) and system calls per request (strace -c -f over
N requests), for portico (1 worker) and nginx (master_process off).

Writes a Markdown report to bench/results/ and prints it.

    bench/matrix.py [--rounds 3] [--seconds 8] [--workers 1,2] [--only SCENARIO,...]
                    [--no-pathlength] [--portico build/release/portico]
"""

import argparse
import contextlib
import datetime
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PORTS = {"backend": 18201, "direct": 18201, "portico": 18202, "nginx": 18203,
         "haproxy": 18204, "floor": 18205}
TLS_PORTS = {"portico": 18212, "nginx": 18213}
IDLE_CONNS = 8000
PATH_REQUESTS = 2000
PATH_WARMUP = 200

# name: (tool, path, connections, proxies, note)
SCENARIOS = {
    "ka-1k": ("wrk", "/1k", 64, "all", "keep-alive, 1 KiB, 64 connections"),
    "ka-1k-c1000": ("wrk", "/1k", 1000, "all", "keep-alive, 1 KiB, 1,000 connections"),
    "new-conn": ("wrk-close", "/1k", 64, "all", "a new connection per request, 1 KiB"),
    "ka-64k": ("wrk", "/64k", 64, "all", "keep-alive, 64 KiB"),
    "ka-1m": ("wrk", "/1m", 16, "all", "keep-alive, 1 MiB, 16 connections"),
    "https-ka": ("wrk-tls", "/1k", 64, "tls", "HTTPS keep-alive, 1 KiB"),
    "tls-hs": ("ab-tls", "/1k", 50, "tls", "new TLS connection (full handshake) per request"),
    "h2": ("h2load", "/1k", 10, "tls", "HTTP/2 over TLS, -c 10 -m 32, 1 KiB"),
    "idle": ("idle", "/1k", IDLE_CONNS, "proxies", "idle keep-alive connections held open"),
}


# --- processes -----------------------------------------------------------------

def pids_of(proc):
    """The process and its children (nginx workers)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True,
                         text=True).stdout.split()
    return [proc.pid] + [int(p) for p in out]


def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def status_kib(pids, key):
    total = 0
    for pid in pids:
        try:
            for line in Path("/proc/%d/status" % pid).read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, argv, port, log):
        self.argv, self.port, self.log = argv, port, log
        self.proc = None

    def __enter__(self):
        if wait_port(self.port, timeout=0.2):  # never measure someone else's server
            raise RuntimeError("port %d is already in use" % self.port)
        self.proc = subprocess.Popen(self.argv, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_port(self.port):
            self.stop()
            raise RuntimeError("%s did not start; see %s" % (self.argv[0], self.log))
        time.sleep(0.2)  # nginx workers up
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT if "nginx" in self.argv[0] else signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __exit__(self, *exc):
        self.stop()


# --- configurations -------------------------------------------------------------

def backend(d):
    """The backend every proxy forwards to: nginx serving static files."""
    (d / "backend.conf").write_text(f"""
worker_processes 1; daemon off; pid {d}/backend.pid; error_log {d}/backend.err;
worker_rlimit_nofile 16384;
events {{ worker_connections 16384; }}
http {{ access_log off; server {{ listen {HOST}:{PORTS["backend"]} backlog=4096;
        keepalive_requests 100000000; location / {{ root {d}/www; }} }} }}
""")
    return Server(["nginx", "-c", str(d / "backend.conf")], PORTS["backend"], d / "backend.log")


def write_configs(d, workers, portico_bin):
    """Each proxy's config for this worker count; returns their command lines."""
    be, po, ng, ha = (PORTS[k] for k in ("backend", "portico", "nginx", "haproxy"))
    tpo, tng = TLS_PORTS["portico"], TLS_PORTS["nginx"]
    (d / f"nginx-{workers}.conf").write_text(f"""
worker_processes {workers}; daemon off; pid {d}/nginx.pid; error_log {d}/nginx.err;
worker_rlimit_nofile 16384;
events {{ worker_connections 16384; }}
http {{ access_log off;
        upstream be {{ server {HOST}:{be}; keepalive 64; }}
        ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m;
        server {{ listen {HOST}:{ng} backlog=4096; listen {HOST}:{tng} ssl http2 backlog=4096;
                  keepalive_requests 100000000;
          location / {{ proxy_pass http://be; proxy_http_version 1.1;
                       proxy_set_header Connection ""; }} }} }}
""")
    (d / f"portico-{workers}.yaml").write_text(f"""
workers: {workers}
limits: {{ max_connections: 100000 }}
listeners:
  - {{ name: plain, address: "{HOST}:{po}" }}
  - name: tls
    address: "{HOST}:{tpo}"
    http2: true
    tls: {{ certificates: [{{ cert: {d}/cert.pem, key: {d}/key.pem }}] }}
upstreams: {{ be: {{ keepalive: 64, servers: [{{ address: "{HOST}:{be}" }}] }} }}
routes: [{{ upstream: be }}]
access_log: null
""")
    (d / f"haproxy-{workers}.cfg").write_text(f"""
global
	nbthread {workers}
	maxconn 9000
defaults
	mode http
	option http-keep-alive
	timeout connect 3s
	timeout client 60s
	timeout server 60s
	maxconn 9000
frontend bench
	bind {HOST}:{ha} backlog 4096
	default_backend be
backend be
	http-reuse always
	server be {HOST}:{be} maxconn 1000
""")
    return {
        "floor": [str(d / "byte_relay"), str(PORTS["floor"]), str(be), str(workers)],
        "portico": [str(portico_bin), "-c", str(d / f"portico-{workers}.yaml")],
        "nginx": ["nginx", "-c", str(d / f"nginx-{workers}.conf")],
        "haproxy": ["haproxy", "-f", str(d / f"haproxy-{workers}.cfg"), "-db"],
    }


# --- load generators ------------------------------------------------------------

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def run_wrk(url, conns, seconds, close=False):
    threads = 2 if conns >= 1000 else 1
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency", url]
    if close:
        argv[1:1] = ["-H", "Connection: close"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": requests,
        "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errs.groups())) if errs else 0),
    }


def run_h2load(url, conns, seconds):
    out = subprocess.run(["h2load", "-t1", "-c%d" % conns, "-m32", "-D", str(seconds), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    lat = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
    return {"rps": float(re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out).group(1)),
            "p50": ms(lat.group(3)) if lat else None, "p99": None,
            "requests": int(m.group(2)), "errors": int(m.group(3))}


def run_ab(url, conns, seconds):
    out = subprocess.run(["ab", "-q", "-c", str(conns), "-t", str(seconds), "-n", "10000000", url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    pct = dict(re.findall(r"^\s+(\d+)%\s+(\d+)", out, re.M))
    return {"rps": float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1)),
            "p50": float(pct.get("50", 0)), "p99": float(pct.get("99", 0)),
            "requests": int(re.search(r"Complete requests:\s+(\d+)", out).group(1)),
            "errors": int(re.search(r"Failed requests:\s+(\d+)", out).group(1))}


def hold_idle(port, n):
    """Opens n keep-alive connections, one request each, one after the
    other (what stays is the idle cost, not a burst's); returns them open."""
    conns = []
    req = b"GET /1k HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(req)
        got = b""
        while not got.endswith(b"x" * 16):  # the 1 KiB body is all "x"
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("idle connection closed")
            got += chunk
        conns.append(s)
    return conns


# --- one measurement --------------------------------------------------------------

def measure(name, proxy, argv, d, seconds):
    tool, path, conns, _, _ = SCENARIOS[name]
    tls = tool in ("wrk-tls", "ab-tls", "h2load")
    port = TLS_PORTS[proxy] if tls else PORTS[proxy]
    scheme = "https" if tls else "http"
    url = "%s://%s:%d%s" % (scheme, HOST, port, path)
    server = Server(argv, port, d / ("%s.log" % proxy)) if argv else None
    with server or contextlib.nullcontext():
        pids = pids_of(server.proc) if server else []
        if tool == "idle":
            time.sleep(0.5)
            before = status_kib(pids, "VmRSS")
            held = hold_idle(port, conns)
            time.sleep(1)
            after = status_kib(pids, "VmRSS")
            for s in held:
                s.close()
            return {"bytes_per_conn": (after - before) * 1024 / conns}
        cpu0 = cpu_seconds(pids)
        if tool in ("wrk", "wrk-close", "wrk-tls"):
            res = run_wrk(url, conns, seconds, close=tool == "wrk-close")
        elif tool == "h2load":
            res = run_h2load(url, conns, seconds)
        else:
            res = run_ab(url, conns, seconds)
        cpu = cpu_seconds(pids) - cpu0
        res["cpu10k"] = cpu / res["requests"] * 10000 if server and res["requests"] else None
        res["rss_mib"] = status_kib(pids, "VmHWM") / 1024 if server else None
        return res



def proxies_for(name):
    kind = SCENARIOS[name][3]
    if kind == "tls":
        return ["portico", "nginx"]
    if kind == "proxies":
        return ["portico", "nginx", "haproxy"]
    # the floor relays keep-alive connections one to one; it does not close
    # a client's connection after a response, as "new-conn" needs
    floor = ["floor"] if SCENARIOS[name][0] == "wrk" else []
    return ["direct"] + floor + ["portico", "nginx", "haproxy"]


# --- path length and system calls ------------------------------------------------

def sequential_requests(port, n):
    s = socket.create_connection((HOST, port), timeout=30)
    req = b"GET /1k HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(n):
        s.sendall(req)
        got = b""
        while not got.endswith(b"x" * 16):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("closed")
            got += chunk
    return s


def callgrind_total(argv, port, n, d, tag):
    out = d / ("callgrind-%s.out" % tag)
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out] + argv
    with Server(vg, port, d / ("valgrind-%s.log" % tag)) as srv:
        time.sleep(1)
        sequential_requests(port, PATH_WARMUP).close()
        if n:
            sequential_requests(port, n).close()
        time.sleep(0.5)
        srv.stop()
    total = 0
    for f in d.glob("callgrind-%s.out*" % tag):
        m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read_text(errors="replace"), re.M)
        total += int(m.group(1)) if m else 0
    return total


def syscalls_per_request(argv, port, n, d, tag):
    with Server(argv, port, d / ("strace-%s.log" % tag)) as srv:
        sequential_requests(port, PATH_WARMUP).close()
        out = d / ("strace-%s.txt" % tag)
        st = subprocess.Popen(["strace", "-c", "-f", "-o", str(out), "-p", str(srv.proc.pid)],
                              stderr=subprocess.DEVNULL)
        time.sleep(1)
        sequential_requests(port, n).close()
        time.sleep(0.3)
        st.send_signal(signal.SIGINT)
        st.wait(10)
    m = re.search(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?total$", out.read_text(), re.M)
    calls = int(m.group(1)) if m else 0
    return calls / n, out.read_text()


def pathlength(d, portico_bin):
    port_po, port_ng = PORTS["portico"], PORTS["nginx"]
    (d / "nginx-single.conf").write_text(
        (d / "nginx-1.conf").read_text().replace("daemon off;", "daemon off; master_process off;"))
    argv = {"portico": [str(portico_bin), "-c", str(d / "portico-1.yaml")],
            "nginx": ["nginx", "-c", str(d / "nginx-single.conf")]}
    ports = {"portico": port_po, "nginx": port_ng}
    rows = {}
    for p in ("portico", "nginx"):
        with_n = callgrind_total(argv[p], ports[p], PATH_REQUESTS, d, p + "-n")
        without = callgrind_total(argv[p], ports[p], 0, d, p + "-0")
        per_req, table = syscalls_per_request(argv[p], ports[p], PATH_REQUESTS, d, p)
        rows[p] = {"instructions": (with_n - without) / PATH_REQUESTS, "syscalls": per_req,
                   "table": table}
    return rows


# --- report --------------------------------------------------------------------------

def fmt(v, digits=0):
    if v is None:
        return "–"
    return "{:,.{}f}".format(v, digits)


def ratio(a, b):
    return "%.2f×" % (a / b) if a and b else "–"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(results, workers_list, rounds, seconds, paths):
    lines = ["# portico benchmark — %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
             "",
             "Machine: %d cores (`nproc`), shared by the load generator, the backend (nginx, 1 "
             "worker, static files) and the proxy. Proxies: portico %s, %s, %s. %d rounds of "
             "%d s per scenario, proxies in rotating order, medians; ratios are to nginx in "
             "the same run. CPU is the proxy's user+system seconds per 10k requests; RSS its "
             "peak (VmHWM) in MiB. \"floor\" is bench/byte_relay.c, bytes copied between "
             "one-to-one connections with no HTTP: the least a proxy costs here."
             % (os.cpu_count(), versions()["portico"], versions()["nginx"],
                versions()["haproxy"], rounds, seconds),
             ""]
    for w in workers_list:
        lines += ["## %d worker%s" % (w, "s" if w > 1 else ""), "",
                  "| scenario | proxy | req/s | ×nginx | p50 ms | p99 ms | CPU s/10k | ×nginx | RSS MiB | errors |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name in SCENARIOS:
            if name == "idle" or (w, name) not in results:
                continue
            per = results[(w, name)]
            med = {p: {k: median([r.get(k) for r in runs]) for k in
                       ("rps", "p50", "p99", "cpu10k", "rss_mib", "errors")}
                   for p, runs in per.items()}
            ng = med.get("nginx", {})
            for p, m in med.items():
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    name, p, fmt(m["rps"]), ratio(m["rps"], ng.get("rps")), fmt(m["p50"], 2),
                    fmt(m["p99"], 2), fmt(m["cpu10k"], 3), ratio(m["cpu10k"], ng.get("cpu10k")),
                    fmt(m["rss_mib"], 1), fmt(m["errors"])))
        if (w, "idle") in results:
            per = results[(w, "idle")]
            lines += ["", "Idle keep-alive connections (%s held open after one request each): "
                      % fmt(IDLE_CONNS) + ", ".join(
                          "%s %s bytes each" % (p, fmt(median([r["bytes_per_conn"] for r in runs])))
                          for p, runs in per.items())]
        lines.append("")
    if paths:
        lines += ["## Path length and system calls", "",
                  "One worker (nginx: `master_process off`), %s sequential keep-alive 1 KiB "
                  "requests on one connection after %d of warm-up. Instructions: callgrind's "
                  "total minus a run with the warm-up only, per request. System calls: "
                  "`strace -c -f`, per request." % (fmt(PATH_REQUESTS), PATH_WARMUP), "",
                  "| proxy | instructions/request | system calls/request |", "| --- | ---: | ---: |"]
        for p, r in paths.items():
            lines.append("| %s | %s | %.2f |" % (p, fmt(r["instructions"]), r["syscalls"]))
        lines.append("")
        for p, r in paths.items():
            lines += ["<details><summary>strace -c, %s</summary>" % p, "", "```",
                      r["table"].strip(), "```", "", "</details>", ""]
    return "\n".join(lines)


def versions():
    def first(argv, pattern):
        try:
            r = subprocess.run(argv, capture_output=True, text=True)
            m = re.search(pattern, r.stdout + r.stderr)
            return m.group(0) if m else "?"
        except OSError:
            return "?"
    return {"portico": first([str(ARGS.portico), "--version"], r"portico \S+"),
            "nginx": first(["nginx", "-v"], r"nginx/\S+"),
            "haproxy": first(["haproxy", "-v"], r"HAProxy version \S+")}


# Every program the bench runs, and the Debian package it comes from
# (`make bench` installs them; run by hand, the bench says what is missing).
TOOLS = {"nginx": "nginx", "haproxy": "haproxy", "wrk": "wrk", "h2load": "nghttp2-client",
         "ab": "apache2-utils", "openssl": "openssl", "valgrind": "valgrind",
         "strace": "strace", "ps": "procps", "pkill": "procps", "cc": "build-essential"}


def missing_tools():
    return ["%s (Debian package %s)" % (t, pkg) for t, pkg in TOOLS.items()
            if shutil.which(t) is None]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SECONDS_PER_RUN", 8)))
    ap.add_argument("--workers", default=os.environ.get("WORKERS", "1,2"))
    ap.add_argument("--only", default=os.environ.get("ONLY", ""))
    ap.add_argument("--no-pathlength", action="store_true")
    ap.add_argument("--portico", default=str(REPO / "build/release/portico"))
    ARGS = ap.parse_args()
    missing = missing_tools()
    if missing:
        sys.exit("bench needs " + ", ".join(missing) + ": make bench installs them")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))  # the proxies inherit it
    workers_list = [int(w) for w in ARGS.workers.split(",")]
    names = [n for n in SCENARIOS if not ARGS.only or n in ARGS.only.split(",")]
    d = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    os.chmod(d, 0o755)  # nginx workers run as nobody when started as root
    (d / "www").mkdir(mode=0o755)
    for name, size in (("1k", 1024), ("64k", 65536), ("1m", 1 << 20)):
        (d / "www" / name).write_bytes(b"x" * size)
    portico_bin = d / "portico"
    shutil.copy(ARGS.portico, portico_bin)  # a rebuild meanwhile changes nothing
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(d / "byte_relay"),
                    str(REPO / "bench" / "byte_relay.c")], check=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    results = {}
    paths = None
    try:
        with backend(d):
            for w in workers_list:
                argvs = write_configs(d, w, portico_bin)
                argvs["direct"] = None
                for name in names:
                    per = results.setdefault((w, name), {})
                    order = proxies_for(name)
                    for r in range(ARGS.rounds):
                        k = r % len(order)
                        for p in order[k:] + order[:k]:
                            res = measure(name, p, argvs[p], d, ARGS.seconds)
                            per.setdefault(p, []).append(res)
                            print("W=%d %s round %d %s: %s" % (w, name, r + 1, p, res),
                                  flush=True)
                    per_sorted = {p: per[p] for p in order}
                    results[(w, name)] = per_sorted
            if not ARGS.no_pathlength:
                write_configs(d, 1, portico_bin)
            paths = None if ARGS.no_pathlength else pathlength(d, portico_bin)
    finally:
        subprocess.run(["pkill", "-f", str(d)], capture_output=True)
    text = report(results, workers_list, ARGS.rounds, ARGS.seconds, paths)
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / ("%s.md" % datetime.datetime.now().strftime("%Y-%m-%d-%H%M"))
    out.write_text(text + "\n")
    print(text)
    print("\nwritten to %s" % out.relative_to(REPO))
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
