#!/usr/bin/env bash
# The console's browser tests drive Debian's chromium (Playwright cannot download a
# browser here). Install it when missing: as root with apt-get, otherwise say what
# to install and fail — the browser tests are part of `make test`, never skipped.
set -euo pipefail
CHROMIUM="${CW_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium for the console's browser tests (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "missing: $CHROMIUM — install Debian's 'chromium' package as root" \
     "(apt-get install chromium), or point CW_CHROMIUM at a Chromium binary" >&2
exit 1
