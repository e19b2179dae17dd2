#!/bin/sh
# Installs, with apt-get, the Debian packages portico needs to build and test
# (`install-deps.sh bench`: also what `make bench` runs: the other proxies,
# the load generators, valgrind and strace).
# Only what is missing is installed; nothing happens when all are present.
set -e
# build and libraries; tests (pytest, curl, dnsmasq for DNS discovery, the
# openssl command for test certificates, nghttp2's clients, Python WebSockets);
# analysis and fuzzing (clang with its sanitizer runtimes, clang-tidy, cppcheck)
PKGS="build-essential pkg-config libyaml-dev libc-ares-dev libpcre2-dev libssl-dev
libnghttp2-dev libcriterion-dev python3-pytest curl dnsmasq-base openssl nghttp2-client
python3-websockets python3-h2 clang libclang-rt-14-dev clang-tidy cppcheck"
[ "${1:-}" = bench ] && PKGS="$PKGS nginx haproxy wrk apache2-utils valgrind strace procps"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
