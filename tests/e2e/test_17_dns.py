"""DNS discovery (PRODUCT.md §2 `dns:`, `dns_ttl`): servers come from
resolving a name, asked here of a dnsmasq of the test's own on a loopback
port (top-level `resolver:`); addresses that appear join, addresses that go
away are dropped, and no request fails while that happens."""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from backend import Backend
from helpers import free_port, get, make_config

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


@pytest.fixture
def dns(tmp_path):
    if not os.path.exists(DNSMASQ):
        pytest.fail("dnsmasq is missing (apt-get install dnsmasq-base)")
    hosts = tmp_path / "hosts"
    hosts.write_text("")
    port = free_port()
    proc = subprocess.Popen(
        [DNSMASQ, "--keep-in-foreground", "--port=%d" % port, "--listen-address=127.0.0.1",
         "--bind-interfaces", "--no-resolv", "--no-hosts", "--addn-hosts=%s" % hosts,
         "--local-ttl=1", "--pid-file=%s" % (tmp_path / "dnsmasq.pid"), "--user=root",
         "--log-facility=%s" % (tmp_path / "dnsmasq.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)

    class Dns:
        address = "127.0.0.1:%d" % port

        def set(self, *ips):
            hosts.write_text("".join("%s app.test\n" % ip for ip in ips))
            proc.send_signal(signal.SIGHUP)   # dnsmasq reads its hosts files again

    d = Dns()
    yield d
    proc.terminate()
    proc.wait(5)


def test_servers_follow_the_name(start_portico, dns):
    bport = free_port()
    b2 = Backend("b2", host="127.0.0.2", port=bport).start()
    b3 = Backend("b3", host="127.0.0.3", port=bport).start()
    dns.set("127.0.0.2")
    time.sleep(0.2)
    port = free_port()
    cfg = make_config(port, {"app": {"dns": "app.test:%d" % bport, "dns_ttl": "200ms"}},
                      resolver=dns.address, workers=2)
    start_portico(cfg)
    assert {get(port, "/").header("X-Backend") for _ in range(6)} == {"b2"}

    failures, seen, done = [], set(), threading.Event()

    def client():
        while not done.is_set():
            try:
                r = get(port, "/")
                if r.status != 200:
                    failures.append(r.status)
                seen.add(r.header("X-Backend"))
            except Exception as e:  # noqa: BLE001 - any failure counts
                failures.append(repr(e))

    t = threading.Thread(target=client)
    t.start()
    dns.set("127.0.0.2", "127.0.0.3")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "b3" not in seen:
        time.sleep(0.05)
    assert "b3" in seen, "an address added to the name did not join"
    dns.set("127.0.0.3")
    time.sleep(1.0)
    seen.clear()
    time.sleep(0.5)
    done.set()
    t.join(5)
    assert seen == {"b3"}, "an address removed from the name still gets requests"
    assert failures == []
    b2.stop(), b3.stop()


def test_unresolvable_name_is_a_config_error(tmp_path, dns):
    from helpers import run_portico, yaml_dump
    cfg = make_config(free_port(), {"app": {"dns": "nope.test:80"}}, resolver=dns.address)
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 1 and "cannot resolve" in r.stderr and "p.yaml:" in r.stderr
