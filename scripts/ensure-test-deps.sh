#!/usr/bin/env bash
# Runs before `npm test`: the tests start their own redis-server, drive Debian's Chromium and check XML with xmllint.
# Installs them when missing (as root, through apt-get); otherwise says what to install.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Debian's docker-compose 1.29 checks docker-compose.yml in the tests (no Docker engine needed).
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# xmllint checks that --junit writes well-formed XML.
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test setup: installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "test setup: please install ${need[*]} (Debian: sudo apt-get install ${need[*]}); tests that need them will fail or be skipped" >&2
fi
