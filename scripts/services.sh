#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and Chromium are installed, and the machine's PostgreSQL and Redis
# running (the benchmarks and a development server use them). With --install-only nothing is
# started: the tests run servers of their own.
set -euo pipefail
install_only=0
if [ "${1:-}" = --install-only ]; then install_only=1; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
if [ "$install_only" = 1 ]; then exit 0; fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
