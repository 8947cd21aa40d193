#!/usr/bin/env bash
# Tools the tests use beside Node: xmlsec1 and openssl (independent checks of the gateway's
# XML and JWS signatures, certificates, CRLs and PKCS#12 files).
# Installed here when missing and this is a root shell with apt-get (CI, the dev machines); otherwise it says how.
set -euo pipefail
if command -v xmlsec1 >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing xmlsec1 and openssl for the signature interop tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends xmlsec1 openssl >/dev/null
  exit 0
fi
echo "the tests need xmlsec1 and openssl: install them (Debian/Ubuntu: sudo apt-get install -y xmlsec1 openssl) and run npm test again" >&2
exit 1
