#!/bin/sh
# Installs, with apt-get, the Debian packages portico needs to build and test.
# Only what is missing is installed; nothing happens when all are present.
set -e
PKGS="build-essential pkg-config libyaml-dev libc-ares-dev libpcre2-dev libcriterion-dev python3-pytest curl dnsmasq-base"
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
