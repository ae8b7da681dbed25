#!/usr/bin/env bash
# Installs Debian's headless Chromium + ChromeDriver, used by the HTML report's browser test.
# Without root or apt the browser test skips with a reason instead.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: not root or no apt-get; the HTML browser test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
