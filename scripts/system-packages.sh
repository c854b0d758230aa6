#!/usr/bin/env bash
# The Debian packages Chuangwei needs beside its Python dependencies, installed when
# missing (as root: `apt-get update` first). Without root it names what is missing and
# stops: nothing is skipped. Arguments add packages only some targets need
# (`make test` adds chromium for the console's browser tests).
set -euo pipefail

PACKAGES=(
    fonts-dejavu-core     # the bulletin's text font (Latin letters and digits)
    fonts-droid-fallback  # the bulletin's Chinese glyphs (TrueType, embedded in the PDF)
    "$@"
)

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
