#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver for the browser test, if they are missing.
# Needs root (or password-less sudo); otherwise it says so and the browser test is skipped.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=
elif sudo -n true 2>/dev/null; then
    SUDO=sudo
else
    echo "install-browser: not root and no sudo; install chromium and chromium-driver" \
         "yourself to run the browser test (it is skipped until then)" >&2
    exit 0
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
