#!/bin/sh
# Installs Debian's Chromium when it is missing: the browser test of the HTML
# report (test/report-browser.test.ts) drives /usr/bin/chromium and fails on
# CI without it. Idempotent: does nothing when chromium is already there.
set -eu
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
