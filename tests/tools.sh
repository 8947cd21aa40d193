#!/usr/bin/env bash
# Tools the tests use beside Node: xmlsec1 (an independent check of the gateway's XML signatures).
# Installed here when missing and this is a root shell with apt-get (CI, the dev machines); otherwise it says how.
set -euo pipefail
if command -v xmlsec1 >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing xmlsec1 for the signature interop tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends xmlsec1 >/dev/null
  exit 0
fi
echo "the tests need xmlsec1: install it (Debian/Ubuntu: sudo apt-get install -y xmlsec1) and run npm test again" >&2
exit 1
