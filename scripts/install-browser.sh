#!/usr/bin/env bash
# What the browser test needs: Debian's chromium and chromium-driver, and a local copy of
# MathJax 3 (the book loads it from a CDN; the test serves this copy in its place, so that
# it can check that equations are typeset without the internet).
# Chromium needs root (or password-less sudo); MathJax comes from the npm registry. Where
# either cannot be had, this says so and the browser test skips what depends on it
# (under CI=1 it fails instead).
set -euo pipefail

MATHJAX_VERSION=3.2.2
MATHJAX_SHA256=1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
MATHJAX_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/seq2seq_attention/mathjax-$MATHJAX_VERSION"

install_chromium() {
    if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" = 0 ]; then
        SUDO=
    elif sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        echo "install-browser: not root and no sudo; install chromium and chromium-driver" \
             "yourself to run the browser test (it is skipped until then)" >&2
        return 0
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver \
        >/dev/null
}

install_mathjax() {
    if [ -f "$MATHJAX_DIR/es5/tex-mml-chtml.js" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null; then
        echo "install-browser: no npm to fetch MathJax $MATHJAX_VERSION; the browser test" \
             "will not check equations" >&2
        return 0
    fi
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    if ! (cd "$tmp" && npm pack --silent "mathjax@$MATHJAX_VERSION" >/dev/null); then
        echo "install-browser: could not fetch MathJax $MATHJAX_VERSION from the npm" \
             "registry; the browser test will not check equations" >&2
        return 0
    fi
    echo "$MATHJAX_SHA256  $tmp/mathjax-$MATHJAX_VERSION.tgz" | sha256sum -c --quiet
    tar xzf "$tmp/mathjax-$MATHJAX_VERSION.tgz" -C "$tmp" package/es5 package/LICENSE
    mkdir -p "$(dirname "$MATHJAX_DIR")"
    rm -rf "$MATHJAX_DIR.part"
    mv "$tmp/package" "$MATHJAX_DIR.part"
    mv "$MATHJAX_DIR.part" "$MATHJAX_DIR"  # complete, or not there at all
}

install_chromium
install_mathjax
