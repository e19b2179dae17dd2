#!/bin/sh
# Side-by-side comparison: wrk -t1 -c64 on a 1 KiB response through portico,
# nginx (proxy_pass to an upstream block with keepalive) and HAProxy (http
# mode, keep-alive to the server), one worker each, logs off, the same nginx
# backend, in one run, rotating the order over ROUNDS rounds. Prints
# requests/s and p99 per round, the medians, and each proxy's ratio to nginx
# and to HAProxy. Everything runs on loopback in a temp dir.
set -eu
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
PORTICO=${PORTICO_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/release/portico}
for tool in nginx haproxy wrk; do
	command -v $tool >/dev/null || { echo "needs $tool (apt-get install nginx haproxy wrk)"; exit 1; }
done
DIR=$(mktemp -d)
chmod 755 "$DIR" # nginx's workers (nobody when run as root) read the files here
trap 'kill $(cat "$DIR"/*.pid 2>/dev/null) 2>/dev/null; rm -rf "$DIR"' EXIT
head -c 1024 /dev/zero | tr '\0' 'x' > "$DIR/1k"
BE=127.0.0.1:18101 NG=127.0.0.1:18102 PO=127.0.0.1:18103 HA=127.0.0.1:18104

cat > "$DIR/backend.conf" <<CONF
worker_processes 1; daemon off; pid $DIR/backend.pid; error_log $DIR/backend.err;
events { worker_connections 4096; }
http { access_log off; server { listen $BE; keepalive_requests 10000000;
       location / { root $DIR; } } }
CONF
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $DIR/nginx.pid; error_log $DIR/nginx.err;
events { worker_connections 4096; }
http { access_log off;
       upstream be { server $BE; keepalive 64; }
       server { listen $NG; keepalive_requests 10000000;
         location / { proxy_pass http://be; proxy_http_version 1.1;
                      proxy_set_header Connection ""; } } }
CONF
cat > "$DIR/portico.yaml" <<CONF
workers: 1
listeners: [{ name: bench, address: "$PO" }]
upstreams: { be: { keepalive: 64, servers: [{ address: "$BE" }] } }
routes: [{ upstream: be }]
access_log: null
CONF
cat > "$DIR/haproxy.cfg" <<CONF
global
	nbthread 1
	pidfile $DIR/haproxy.pid
defaults
	mode http
	option http-keep-alive
	timeout connect 3s
	timeout client 60s
	timeout server 60s
frontend bench
	bind $HA
	default_backend be
backend be
	http-reuse always
	server be $BE
CONF
nginx -c "$DIR/backend.conf" & nginx -c "$DIR/nginx.conf" &
haproxy -f "$DIR/haproxy.cfg" -db & echo $! > "$DIR/haproxy-fg.pid"
"$PORTICO" -c "$DIR/portico.yaml" 2>"$DIR/portico.err" & echo $! > "$DIR/portico.pid"
sleep 1

run() { # prints "rps p99_ms"
	wrk -t1 -c64 -d"${SECONDS_PER_RUN}s" --latency "http://$1/1k" | awk '
		/Requests\/sec/ { rps = $2 }
		/ 99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
		         else if (v ~ /ms$/) sub(/ms/, "", v); else { sub(/s/, "", v); v *= 1000 } p99 = v }
		END { printf "%s %s\n", rps, p99 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: > "$DIR/results"
for r in $(seq 1 "$ROUNDS"); do
	case $((r % 3)) in
	1) order="portico nginx haproxy" ;;
	2) order="nginx haproxy portico" ;;
	*) order="haproxy portico nginx" ;;
	esac
	for p in $order; do
		case $p in portico) addr=$PO ;; nginx) addr=$NG ;; haproxy) addr=$HA ;; esac
		set -- $(run $addr)
		echo "round $r $p: $1 req/s, p99 $2 ms"
		echo "$p $1 $2" >> "$DIR/results"
	done
done
for p in portico nginx haproxy; do
	rps=$(awk -v p=$p '$1 == p { print $2 }' "$DIR/results" | median)
	p99=$(awk -v p=$p '$1 == p { print $3 }' "$DIR/results" | median)
	echo "median $p: $rps req/s, p99 $p99 ms"
	eval "rps_$p=$rps"
done
awk -v p="$rps_portico" -v n="$rps_nginx" -v h="$rps_haproxy" 'BEGIN {
	printf "ratio portico/nginx requests/s: %.2f\n", p / n
	printf "ratio portico/haproxy requests/s: %.2f\n", p / h
	printf "ratio haproxy/nginx requests/s: %.2f\n", h / n }'
