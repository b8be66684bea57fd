#!/usr/bin/env bash
# Install Request Tracker 5 (Debian bookworm packages) for Backline's sync tests.
#
# Idempotent: when request-tracker5, rt5-db-sqlite and rt5-standalone are all installed it
# exits 0 at once.  Otherwise it needs root and installs them unattended (no stdin needed):
#   - debconf is preseeded so dbconfig-common creates no database and no cron jobs are added;
#   - dma (a tiny daemon-less MTA) is added when /usr/sbin/sendmail is missing, because
#     request-tracker5 depends on "default-mta | mail-transport-agent" and apt would otherwise
#     choose exim4.
# Apache is never pulled in (rt5-standalone runs RT under Starlet).
set -euo pipefail

PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone)

is_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
    [[ $status == ii* ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

say() { printf '[rt-install] %s\n' "$*" >&2; }

# Cannot install here: an error under CI (the RT tests are required there), a warning
# elsewhere (the RT tests then skip themselves).
cannot_install() {
    say "$1"
    say "missing packages: ${missing[*]}"
    if [ -n "${CI:-}" ]; then
        exit 1
    fi
    say "continuing without Request Tracker: the tests marked 'rt' will be skipped"
    exit 0
}

command -v apt-get >/dev/null \
    || cannot_install "apt-get not found: installing RT needs Debian bookworm (or a derivative)"

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n env CI="${CI:-}" bash "$0" "$@"
    fi
    cannot_install "not root: run once as root (e.g. sudo bash scripts/rt-install.sh)"
fi

start=$(date +%s)
say "installing ${PACKAGES[*]}"

debconf-set-selections <<'SELECTIONS'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/rtname string rt.localhost
request-tracker5 request-tracker5/correspondaddress string rt@localhost
request-tracker5 request-tracker5/commentaddress string rt-comment@localhost
dma dma/mailname string localhost
dma dma/relayhost string
SELECTIONS

to_install=("${PACKAGES[@]}")
if [ ! -e /usr/sbin/sendmail ]; then
    to_install+=(dma)
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null >&2
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${to_install[@]}" </dev/null >&2

for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || { say "$pkg is still not installed"; exit 1; }
done
say "done in $(( $(date +%s) - start )) s"
