#!/usr/bin/env bash
# Installs Debian's chromium for the report's browser test and the drill's screenshot.
# A fast no-op when it is already there. Needs root (or sudo) for apt-get.
set -euo pipefail

if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "[install-chromium] already installed: $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null || echo chromium)"
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[install-chromium] ERROR: run as root (or install sudo)" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
  # Fresh machines start with empty or stale package lists.
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "[install-chromium] $(/usr/bin/chromium --version) installed in $(( $(date +%s) - start )) s"
