#!/bin/sh
# Starts three demo backends (b1 b2 b3 on 127.0.0.1:9001-9003), then portico
# in the foreground with examples/demo.yaml; the backends are stopped when
# portico exits (or on Ctrl-C).  PORTICO_BIN overrides the binary.
set -u
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
PORTICO=${PORTICO_BIN:-build/release/portico}
pids=""
[ -x "$PY" ] || { echo "the demo backends need $PY (Debian package python3): make run installs it"; exit 1; }
[ -x "$PORTICO" ] || { echo "no portico binary at $PORTICO: make run builds it"; exit 1; }

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	pids=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

for i in 1 2 3; do
	"$PY" examples/demo-backend.py --port "900$i" --name "b$i" &
	pids="$pids $!"
done

# Wait (at most ~5 s) until the three backends accept connections.
"$PY" - <<'PYEOF'
import socket, sys, time
deadline = time.monotonic() + 5
for port in (9001, 9002, 9003):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("demo backend on port %d did not start" % port)
            time.sleep(0.05)
PYEOF
[ $? -eq 0 ] || exit 1

echo "portico demo: http://127.0.0.1:8080/ (Ctrl-C to stop)"
"$PORTICO" -c examples/demo.yaml
status=$?
exit $status
