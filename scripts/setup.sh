#!/usr/bin/env bash
# Installs everything fxpq and its tests need on a fresh Debian/Ubuntu machine, then builds.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# RTL simulators for co-simulation (Debian packages; there is no npm build of Icarus), and a browser.
missing=()
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
command -v verilator >/dev/null 2>&1 || missing+=(verilator)
# Headless Chromium: the tests open the HTML reports in it and check their plots.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# GNU time: the hostile-input tests measure each run's peak memory with /usr/bin/time -f %M.
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node (the test oracle) would otherwise try to download GPU libraries at install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
echo "setup: done ($(node --version), $(iverilog -V 2>/dev/null | head -n1 | cut -d' ' -f1-4), $(verilator --version 2>/dev/null))"
