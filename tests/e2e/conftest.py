"""
Fixtures for the end-to-end tests: scripted backends (in-process threads) and
portico processes started from a configuration written into tmp_path.

    def test_x(backends, start_portico):
        b1, b2, b3 = backends                      # three backends, names b1..b3
        p = start_portico(make_config(free_port(), {"app": backends}))
        r = get(p.port, "/")

start_portico(config, port=None, args=(), wait=True) accepts a dict (rendered
with yaml_dump) or YAML text; port defaults to the first listener's port.
At teardown every portico still running gets SIGTERM (SIGKILL after 10 s) and
the test errors if a portico crashed, needed SIGKILL or exited non-zero; its
stdout/stderr are printed (pytest shows them for failing tests).

The raw-socket client (Conn, exchange, get, parse_responses), curl(),
run_portico() and make_config()/yaml_dump() live in helpers.py; backend.py's
docstring lists the backend endpoints.

PORTICO_BIN selects the binary (default build/release/portico, relative to
the repository root).
"""

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend import Backend  # noqa: E402
from helpers import Portico, free_port, yaml_dump  # noqa: E402


@pytest.fixture
def start_backend():
    """start_backend(name) -> a started Backend, stopped at teardown."""
    started = []

    def start(name="b1"):
        b = Backend(name).start()
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()


@pytest.fixture
def backends(start_backend):
    """Three started backends named b1, b2, b3."""
    return [start_backend("b%d" % i) for i in (1, 2, 3)]


@pytest.fixture
def backend(start_backend):
    return start_backend("b1")


@pytest.fixture
def start_portico(tmp_path):
    started = []

    def start(config, port=None, args=(), wait=True, name="portico.yaml"):
        text = config if isinstance(config, str) else yaml_dump(config) + "\n"
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if port is None and not isinstance(config, str):
            port = int(config["listeners"][0]["address"].rsplit(":", 1)[1])
        p = Portico(["-c", path] + list(args), tmp_path, port)
        p.config_path = path
        started.append(p)
        return p.start(wait=wait)

    yield start

    problems = []
    for p in started:
        if p.proc is None:
            continue
        expected = p.expect_exit
        crashed = p.proc.poll() is not None and not expected
        rc, killed = p.stop(signal.SIGTERM, timeout=10)
        p.close_files()
        print("=== portico %s: exit %r%s" % (" ".join(p.args), rc,
                                             " (SIGKILLed)" if killed else ""))
        print("--- stderr ---\n" + p.stderr()[-20000:])
        print("--- stdout ---\n" + p.stdout()[-20000:])
        if crashed:
            problems.append("portico exited during the test with code %r" % rc)
        elif not expected and killed:
            problems.append("portico did not stop within 10 s of SIGTERM")
        elif not expected and rc != 0:
            problems.append("portico exited %r after SIGTERM (expected 0)" % rc)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def port():
    return free_port()
