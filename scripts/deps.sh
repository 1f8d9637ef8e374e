#!/bin/sh
# Installs the Debian packages DeeTune's build, tests and demo need.
# Idempotent and quiet when everything is already installed.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
libzstd-dev libjansson-dev libcmocka-dev libclang-rt-14-dev pkg-config
redis-server redis-tools mariadb-server mariadb-client hyperfine
libmariadb-dev libhiredis-dev libcurl4-openssl-dev libpcap-dev libxml2-utils
nginx curl wrk python3 jq groff-base tshark tcpdump valgrind procps iproute2 uthash-dev
libmicrohttpd-dev graphviz prometheus zstd passwd util-linux libnghttp2-dev
nghttp2-server nghttp2-client nghttp2-proxy python3-grpcio openssl
protobuf-compiler"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
