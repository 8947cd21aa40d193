#!/usr/bin/env bash
# Tools the tests use beside Node: xmlsec1 and openssl (independent checks of the gateway's
# XML and JWS signatures, certificates, CRLs and PKCS#12 files) and redis-server (the shared
# store's tests run on real Redis servers) and chromium (the console's browser tests drive Debian's
# chromium with playwright-core).
# Installed here when missing and this is a root shell with apt-get (CI, the dev machines); otherwise it says how.
set -euo pipefail
missing=()
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} for the tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "the tests need ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}) and run npm test again" >&2
exit 1
