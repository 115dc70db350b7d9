#!/usr/bin/env bash
# Prints the path of an nginx binary, for benchmarks that use nginx as the
# reference proxy.
#
#   scripts/nginx.sh
#
# Looks on PATH and in /usr/sbin. When nginx is missing and we run as root, it
# is installed from the distribution once (apt-get update + install of
# nginx-light, or nginx where the distribution has no nginx-light), without
# letting the package start a system-wide nginx. Prints exactly one line on
# stdout, the absolute path of the binary. Every failure is reported LOUDLY on
# stderr and ends with a non-zero status.
set -uo pipefail

case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "nginx.sh: unknown argument '$1'" >&2; exit 2 ;;
esac

loud() {
  {
    echo "################################################################"
    echo "## NGINX NOT AVAILABLE: $*"
    echo "################################################################"
  } >&2
}

find_nginx() {
  local p
  p="$(command -v nginx 2>/dev/null)" && [[ -x "$p" ]] && { echo "$p"; return 0; }
  for p in /usr/sbin/nginx /usr/local/sbin/nginx /usr/local/nginx/sbin/nginx; do
    [[ -x "$p" ]] && { echo "$p"; return 0; }
  done
  return 1
}

install_nginx() {
  if [[ "$(id -u)" != "0" ]]; then
    loud "nginx is not installed and this is not root, so it cannot be installed here (apt-get install nginx-light)."
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    loud "nginx is not installed and there is no apt-get to install it with."
    return 1
  fi
  # Keep the package's maintainer scripts from starting a system-wide nginx on
  # port 80: we only want the binary. policy-rc.d exit 101 means "action forbidden".
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
  fi
  local status=0 log
  log="$(mktemp "${TMPDIR:-/tmp}/vesper-nginx-install.XXXXXX")"
  (
    # One installer at a time, even if several benchmark runs start together.
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    find_nginx >/dev/null && exit 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || exit $?
    # nginx-light (Debian 12 and older) is the smallest build with the proxy
    # and upstream keepalive modules; newer Debian has only nginx.
    if apt-cache show nginx-light >/dev/null 2>&1; then
      apt-get install -y -qq --no-install-recommends nginx-light
    else
      apt-get install -y -qq --no-install-recommends nginx
    fi
  ) 9>/tmp/vesper-nginx-install.lock >"$log" 2>&1 || status=$?
  if [[ $created_policy == 1 ]]; then rm -f "$policy"; fi
  if [[ $status != 0 ]] || ! find_nginx >/dev/null; then
    loud "apt-get could not install nginx (status $status)."
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

if ! find_nginx >/dev/null; then
  install_nginx || exit 1
fi
path="$(find_nginx)"
if ! "$path" -v >/dev/null 2>&1; then
  loud "$path is there but does not run ('$path -v' failed)."
  exit 1
fi
echo "$path"
