#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (idempotent; skips what is there).
set -euo pipefail
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v git >/dev/null 2>&1 || need+=(git)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "missing system packages: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
fi
