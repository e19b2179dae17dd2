#!/bin/sh
# Installs, with apt-get, the Debian packages a make goal needs; only what is
# missing, nothing at all when everything is there. The Makefile runs it
# before it asks pkg-config for anything (pkg-config itself is in `build`).
#
#   install-deps.sh GROUP...
#     build   compiler, pkg-config, the libraries, Python for the demo backends
#     test    + Criterion, pytest, curl, dnsmasq (DNS discovery), the openssl
#             command (test certificates), nghttp2's clients, Python
#             WebSockets and h2, clang with its sanitizer runtimes,
#             clang-tidy, cppcheck
#     fuzz    + clang and its libFuzzer runtime
#     bench   + the other proxies and load generators, valgrind, strace
#
# A package apt-get cannot provide stops the script with one line naming it.
set -eu

build="build-essential pkg-config libyaml-dev libc-ares-dev libpcre2-dev libssl-dev
libnghttp2-dev python3"
test="libcriterion-dev python3-pytest curl dnsmasq-base openssl nghttp2-client
python3-websockets python3-h2 clang libclang-rt-14-dev clang-tidy cppcheck"
fuzz="clang libclang-rt-14-dev"
bench="nginx haproxy wrk nghttp2-client apache2-utils openssl valgrind strace procps"

wanted="$build"
for group in "$@"; do
	case "$group" in
	build) ;;
	test) wanted="$wanted $test" ;;
	fuzz) wanted="$wanted $fuzz" ;;
	bench) wanted="$wanted $bench" ;;
	*) echo "install-deps.sh: unknown group \"$group\" (build, test, fuzz or bench)" >&2; exit 2 ;;
	esac
done

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

missing() {
	out=""
	for p in $wanted; do
		case " $out " in *" $p "*) continue ;; esac
		installed "$p" || out="$out $p"
	done
	echo "$out"
}

todo=$(missing)
[ -z "$todo" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$todo"
$SUDO apt-get update -qq
# One apt-get for all; if it refuses, one per package, so that the one
# apt cannot provide is named below rather than lost in apt's output.
# shellcheck disable=SC2086 # a list of package names
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $todo >/dev/null; then
	for p in $todo; do
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$p" >/dev/null 2>&1 || true
	done
fi
left=$(missing)
if [ -n "$left" ]; then
	for p in $left; do
		echo "install-deps.sh: apt-get could not install $p; install it by hand, then run make again" >&2
	done
	exit 1
fi
