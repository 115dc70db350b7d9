#!/usr/bin/env bash
# Starts a private, throw-away redis-server for tests and benchmarks.
#
#   scripts/redis-server.sh [--port N] [--dir DIR]
#
# Listens on 127.0.0.1 only, keeps nothing on disk (--save '' --appendonly no),
# runs in the background (--daemonize no, detached from this shell) and prints
# one line on stdout when it answers PING:
#
#   port=<port> pid=<pid> dir=<dir>
#
# Stop it with `kill <pid>` and remove <dir>. Without --port a free port is
# picked. When redis-server is missing and we run as root, it is installed from
# the distribution once (apt-get update + install, quietly). Every failure is
# reported LOUDLY on stderr and ends with a non-zero status.
set -uo pipefail

port=""
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:-}"; shift 2 ;;
    --dir) dir="${2:-}"; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "redis-server.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

loud() {
  {
    echo "################################################################"
    echo "## REDIS NOT AVAILABLE: $*"
    echo "################################################################"
  } >&2
}

install_redis() {
  if [[ "$(id -u)" != "0" ]]; then
    loud "redis-server is not installed and this is not root, so it cannot be installed here (apt-get install redis-server)."
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    loud "redis-server is not installed and there is no apt-get to install it with."
    return 1
  fi
  # Keep the package's maintainer scripts from starting a system-wide daemon on
  # 6379: we only want the binary. policy-rc.d exit 101 means "action forbidden".
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
  fi
  local status=0 log
  log="$(mktemp "${TMPDIR:-/tmp}/vesper-redis-install.XXXXXX")"
  (
    # One installer at a time, even if several test runs start together.
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    command -v redis-server >/dev/null 2>&1 && exit 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends redis-server
  ) 9>/tmp/vesper-redis-install.lock >"$log" 2>&1 || status=$?
  if [[ $created_policy == 1 ]]; then rm -f "$policy"; fi
  if [[ $status != 0 ]] || ! command -v redis-server >/dev/null 2>&1; then
    loud "apt-get could not install redis-server (status $status)."
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Answers 0 when a Redis on 127.0.0.1:$1 says PONG, without needing redis-cli.
pong() {
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 1 reply <&3 || true
  exec 3>&- 3<&-
  [[ "$reply" == "+PONG"* ]]
}

if ! command -v redis-server >/dev/null 2>&1; then
  install_redis || exit 1
fi

if [[ -z "$dir" ]]; then
  dir="$(mktemp -d "${TMPDIR:-/tmp}/vesper-redis.XXXXXX")" || {
    loud "could not create a temporary directory."
    exit 1
  }
fi
mkdir -p "$dir" && chmod 700 "$dir"

attempts=3
[[ -n "$port" ]] && attempts=1
for ((attempt = 1; attempt <= attempts; attempt++)); do
  p="${port:-$(free_port)}"
  # setsid + redirections: the server shares no terminal, pipe or process group
  # with whoever ran this script, so a caller waiting for our output returns.
  setsid redis-server --bind 127.0.0.1 --port "$p" --protected-mode yes \
    --save '' --appendonly no --daemonize no --dir "$dir" \
    --logfile "$dir/redis.log" --loglevel warning \
    </dev/null >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if pong "$p"; then
      echo "port=$p pid=$pid dir=$dir"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$pid" 2>/dev/null
done

loud "redis-server did not start on 127.0.0.1 (log: $dir/redis.log)."
[[ -f "$dir/redis.log" ]] && tail -n 5 "$dir/redis.log" >&2
exit 1
