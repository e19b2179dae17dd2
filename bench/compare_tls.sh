#!/bin/sh
# TLS side-by-side: portico vs nginx as TLS-terminating proxies, one worker
# each, logs off, the same ECDSA P-256 certificate (made here with the openssl
# CLI), TLS 1.2 and 1.3 allowed, the same plain HTTP/1.1 nginx backend serving
# a 1 KiB file, in one run, alternating the order over ROUNDS rounds.
# Scenarios, each SECONDS_PER_RUN long:
#   full-hs     new connections with full TLS 1.3 handshakes: ab -c 50, one
#               HTTP/1.0 request per connection; ab never offers a session
#               or ticket, so every handshake is a full one (ECDHE + ECDSA).
#   resumed-hs  new connections via wrk -c 50 -H "Connection: close": wrk
#               keeps the last session of each connection slot and offers it
#               on reconnect, so these are TLS 1.3 PSK resumptions (with
#               ECDHE) as long as the server keeps issuing tickets; a server
#               that sends no fresh ticket after a resumption gets a full
#               handshake every other connection. The "ticket check" printed
#               before the runs shows which case each proxy is in.
#   https-ka    HTTPS/1.1 keep-alive: wrk -t1 -c64, with p99.
#   h2          HTTP/2 over TLS (ALPN h2): h2load -t1 -c10 -m32.
# Prints per run: rate, p99 (ms, where the tool gives it), the proxy's CPU
# time per request (user+system of all its processes, from /proc: on a small
# machine the load generator can saturate first, and then CPU per request is
# the comparable figure), and errors (non-2xx, socket errors); then the medians
# and the portico/nginx ratios. Everything runs on loopback in a temp dir
# (KEEP_DIR=1 keeps it, with every tool's raw output under raw/).
set -eu
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
PORTICO_SRC=${PORTICO_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/release/portico}
for tool in nginx wrk h2load ab openssl ps; do
	command -v $tool >/dev/null || {
		echo "needs $tool (apt-get install nginx wrk nghttp2-client apache2-utils openssl procps)"; exit 1; }
done
[ -x "$PORTICO_SRC" ] || { echo "no portico binary at $PORTICO_SRC (set PORTICO_BIN or build it)"; exit 1; }
DIR=$(mktemp -d)
cleanup() {
	# shellcheck disable=SC2046 # one pid per file
	kill $(cat "$DIR"/*.pid 2>/dev/null) 2>/dev/null || true
	if [ -n "${KEEP_DIR:-}" ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir "$DIR/raw" "$DIR/www"
chmod 755 "$DIR" "$DIR/www" # nginx workers run as nobody when started as root
cp "$PORTICO_SRC" "$DIR/portico" # others may rebuild build/release meanwhile
head -c 1024 /dev/zero | tr '\0' 'x' > "$DIR/www/1k"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=localhost -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
chmod 600 "$DIR/key.pem"
BE=127.0.0.1:18121 NG=127.0.0.1:18122 PO=127.0.0.1:18123

cat > "$DIR/backend.conf" <<CONF
worker_processes 1; daemon off; pid $DIR/backend.pid; error_log $DIR/backend.err;
events { worker_connections 4096; }
http { access_log off; server { listen $BE; keepalive_requests 10000000;
       location / { root $DIR/www; } } }
CONF
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $DIR/nginx.pid; error_log $DIR/nginx.err;
events { worker_connections 4096; }
http { access_log off;
       upstream be { server $BE; keepalive 64; }
       server { listen $NG ssl http2; keepalive_requests 10000000;
         ssl_certificate $DIR/cert.pem; ssl_certificate_key $DIR/key.pem;
         ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m;
         location / { proxy_pass http://be; proxy_http_version 1.1;
                      proxy_set_header Connection ""; } } }
CONF
cat > "$DIR/portico.yaml" <<CONF
workers: 1
listeners: [{ name: bench, address: "$PO", http2: true,
              tls: { certificates: [{ cert: "$DIR/cert.pem", key: "$DIR/key.pem" }] } }]
upstreams: { be: { keepalive: 64, servers: [{ address: "$BE" }] } }
routes: [{ upstream: be }]
access_log: null
CONF
nginx -c "$DIR/backend.conf" & nginx -c "$DIR/nginx.conf" &
"$DIR/portico" -c "$DIR/portico.yaml" 2>"$DIR/portico.err" & echo $! > "$DIR/portico.pid"
sleep 1
for f in backend nginx portico; do
	if ! { [ -s "$DIR/$f.pid" ] && kill -0 "$(cat "$DIR/$f.pid")" 2>/dev/null; }; then
		echo "$f did not start:"; cat "$DIR/$f.err" 2>/dev/null; exit 1
	fi
done

addr_of() { case $1 in portico) echo $PO ;; nginx) echo $NG ;; esac; }
alive() { kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }
cpu_ticks() { # user+system clock ticks of the proxy's processes (nginx: master + workers)
	pid=$(cat "$DIR/$1.pid")
	for p in $pid $(ps -o pid= --ppid "$pid"); do cat "/proc/$p/stat" 2>/dev/null; done |
		awk '{ t += $14 + $15 } END { print t + 0 }'
}
HZ=$(getconf CLK_TCK)

# Ticket check: a fresh handshake, then a resumption with the ticket it got,
# then a resumption with the ticket the resumption got (none: a new handshake).
ticket_check() {
	line='' suite=''
	for i in 0 1 2; do
		prev="$DIR/sess-$1-$((i - 1))" in=
		[ "$i" -gt 0 ] && [ -s "$prev" ] && in="-sess_in $prev"
		# shellcheck disable=SC2086 # $in is empty or two words
		printf 'GET /1k HTTP/1.0\r\nHost: localhost\r\n\r\n' |
			openssl s_client -connect "$(addr_of "$1")" -servername localhost -ign_eof \
				-sess_out "$DIR/sess-$1-$i" $in > "$DIR/raw/ticket-$1-$i" 2>&1 || true
		line="$line $(awk '/^(New|Reused),/ { hs = $1; sub(/,$/, "", hs) }
			/New Session Ticket arrived/ { t++ }
			END { printf "%s(%d tickets)", hs ? hs : "FAILED", t }' "$DIR/raw/ticket-$1-$i")"
		[ -n "$suite" ] || suite=$(awk '/^(New|Reused),/ { sub(/,$/, "", $2); print $2, $5; exit }' "$DIR/raw/ticket-$1-$i")
	done
	echo "ticket check $1 ($suite):$line"
}

# run SCENARIO PROXY -> "rate requests p99_ms errors" (p99 "-" when the tool has none)
run() {
	out="$DIR/raw/$1-$2-$r"
	url="https://$(addr_of "$2")/1k"
	case $1 in
	full-hs)
		ab -l -r -q -c 50 -t "$SECONDS_PER_RUN" -n $((SECONDS_PER_RUN * 50000)) "$url" > "$out" 2>&1 || true
		awk '/^Requests per second/ { rps = $4 } /^Complete requests/ { n = $3 }
			/^Failed requests/ { f = $3 } /^Non-2xx/ { e += $3 } /^ +99%/ { p99 = $2 }
			END { printf "%s %s %s %d\n", rps + 0, n + 0, p99 == "" ? "-" : p99, e + f }' "$out" ;;
	resumed-hs|https-ka)
		if [ "$1" = resumed-hs ]; then set -- -c50 -H "Connection: close"; else set -- -c64; fi
		wrk -t1 "$@" -d"${SECONDS_PER_RUN}s" --latency "$url" > "$out" 2>&1 || true
		awk '/Requests\/sec/ { rps = $2 } / requests in / { n = $1 }
			/Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
			/Non-2xx or 3xx/ { e += $NF }
			/ 99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
			         else if (v ~ /ms$/) sub(/ms/, "", v); else { sub(/s/, "", v); v *= 1000 } p99 = v }
			END { printf "%s %s %s %d\n", rps + 0, n + 0, p99 == "" ? "-" : p99, e }' "$out" ;;
	h2)
		h2load -t1 -c10 -m32 -D "$SECONDS_PER_RUN" "$url" > "$out" 2>&1 || true
		awk '/^finished in/ { rps = $4 } /^Application protocol:/ && $3 != "h2" { e++ }
			/^requests:/ { n = $6; e += $10 + $12 + $14 }
			/^status codes:/ { e += $5 + $7 + $9 }
			END { printf "%s %s - %d\n", rps + 0, n + 0, e }' "$out" ;;
	esac
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

SCENARIOS="full-hs resumed-hs https-ka h2"
ticket_check nginx
ticket_check portico
: > "$DIR/results"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="portico nginx"; else order="nginx portico"; fi
	for s in $SCENARIOS; do
		for p in $order; do
			alive "$p" || { echo "round $r $s $p: $p is not running"; tail -5 "$DIR/$p.err" 2>/dev/null; exit 1; }
			c0=$(cpu_ticks "$p")
			# shellcheck disable=SC2046 # four fields
			set -- $(run "$s" "$p")
			c1=$(cpu_ticks "$p")
			cpu=$(awk -v d=$((c1 - c0)) -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", n ? d * 1e6 / hz / n : 0 }')
			echo "round $r $s $p: $1 /s, p99 $3 ms, $cpu us CPU/req, $4 errors"
			echo "$s $p $1 $3 $cpu $4 $r" >> "$DIR/results"
			# ab reports a connection the server closed without a TLS close_notify (a truncation
			# to a strict client) as "unexpected eof"; it still counts the request as complete
			noclose=$(grep -c 'unexpected eof' "$DIR/raw/$s-$p-$r" || true)
			[ "$noclose" = 0 ] || echo "  ($p $s: $noclose connections closed without TLS close_notify)"
			if [ "$4" != 0 ] || [ "$2" = 0 ]; then
				echo "  ($p $s: $(grep -E -i 'error|fail|non-2xx|status codes|socket' "$DIR/raw/$s-$p-$r" | tr '\n' ';' | cut -c1-300))"
			fi
		done
	done
done

echo
printf '%-11s %-8s %12s %9s %13s %7s\n' scenario proxy "median /s" "p99 ms" "CPU us/req" errors
for s in $SCENARIOS; do
	for p in portico nginx; do
		rps=$(awk -v s="$s" -v p="$p" '$1 == s && $2 == p { print $3 }' "$DIR/results" | median)
		p99=$(awk -v s="$s" -v p="$p" '$1 == s && $2 == p && $4 != "-" { print $4 }' "$DIR/results" | median)
		cpu=$(awk -v s="$s" -v p="$p" '$1 == s && $2 == p { print $5 }' "$DIR/results" | median)
		err=$(awk -v s="$s" -v p="$p" '$1 == s && $2 == p { e += $6 } END { print e + 0 }' "$DIR/results")
		printf '%-11s %-8s %12s %9s %13s %7s\n' "$s" "$p" "$rps" "$p99" "$cpu" "$err"
		case $p in portico) rps_portico=$rps cpu_portico=$cpu ;; nginx) rps_nginx=$rps cpu_nginx=$cpu ;; esac
	done
	awk -v s="$s" -v pr="$rps_portico" -v nr="$rps_nginx" -v pc="$cpu_portico" -v nc="$cpu_nginx" 'BEGIN {
		printf "%-11s portico/nginx, ratio of medians:       %.2f x requests/s, %.2f x CPU/request\n", s,
			nr ? pr / nr : 0, nc ? pc / nc : 0 }'
	# the same round's two runs are closest in time: the median of their ratios is the steadier figure
	per_round() { awk -v s="$s" -v f="$1" '$1 == s { v[$7, $2] = $f; r[$7] = 1 }
		END { for (i in r) if (v[i, "nginx"] > 0) printf "%.4f\n", v[i, "portico"] / v[i, "nginx"] }' "$DIR/results" | median; }
	awk -v s="$s" -v rr="$(per_round 3)" -v rc="$(per_round 5)" 'BEGIN {
		printf "%-11s portico/nginx, median of round ratios: %.2f x requests/s, %.2f x CPU/request\n", s, rr, rc }'
done
if grep -v ' info: ' "$DIR/portico.err" | grep -q .; then
	echo; echo "portico stderr (not info):"; grep -v ' info: ' "$DIR/portico.err" | head -20
fi
