#!/usr/bin/env bash
# Run a private Request Tracker 5 on 127.0.0.1 with all of its state in one data directory.
#
#   scripts/rt-server.sh start  DATA_DIR PORT   write config, init + seed the DB (first time only),
#                                               start rt-server detached, wait for REST2, print
#                                               KEY=value lines (also kept in DATA_DIR/rt.env)
#   scripts/rt-server.sh stop   DATA_DIR        SIGTERM the server and wait until it is gone
#   scripts/rt-server.sh status DATA_DIR        exit 0 and print the KEY=value lines if running
#   scripts/rt-server.sh init   DATA_DIR [PORT] config + DB init + seed only, nothing started
#                                               (the test fixture copies such a DB as a template)
#
# Environment: RT_ROOT_PASSWORD (default rootpass1; only used when the DB is created),
# RT_WORKERS (Starlet workers, default 4), RT_START_TIMEOUT (seconds, default 60),
# RT_BCRYPT_COST (default 4, RT's own default is 12: REST2 checks the bcrypt password hash on
# every request, which costs ~0.2 s per request at 12 and ~1 ms at 4; fine for a private
# loopback-only server, raise it for anything else),
# RT_SEED_FILE (default: rt-seed.initialdata next to this script; empty string = no seed).
#
# The packages come from scripts/rt-install.sh.  /etc/request-tracker5 is never read:
# RT_SITE_CONFIG points at DATA_DIR/RT_SiteConfig.pm and RT_SITE_CONFIG_DIR at an empty dir
# (RT reads that dir in place of both of its RT_SiteConfig.d dirs, so it must stay empty).
# Outgoing mail is appended to DATA_DIR/outgoing.mbox; no MTA is used.
# Progress goes to stderr; only the KEY=value lines go to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
RT_SERVER_BIN=/usr/share/request-tracker5/libexec/rt-server
RT_SETUP_DATABASE=/usr/sbin/rt-setup-database-5

usage() { echo "usage: $0 start|stop|status|init DATA_DIR [PORT]" >&2; exit 2; }
note() { printf '[rt-server] %s\n' "$*" >&2; }
fail() { printf '[rt-server] ERROR: %s\n' "$*" >&2; exit 1; }
clock() { date +%s%N; }
since() { echo "$(( ($(clock) - $1) / 1000000 )) ms"; }

[ $# -ge 2 ] || usage
ACTION=$1
DATA_DIR=$2
PORT=${3:-}
case $ACTION in
    start) [[ $PORT =~ ^[0-9]+$ ]] || usage ;;
    init) PORT=${PORT:-8080}; [[ $PORT =~ ^[0-9]+$ ]] || usage ;;
    stop|status) ;;
    *) usage ;;
esac

ROOT_PASSWORD=${RT_ROOT_PASSWORD:-rootpass1}
WORKERS=${RT_WORKERS:-4}
BCRYPT_COST=${RT_BCRYPT_COST:-4}
START_TIMEOUT=${RT_START_TIMEOUT:-60}
SEED_FILE=${RT_SEED_FILE-$HERE/rt-seed.initialdata}

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd -P)
PID_FILE=$DATA_DIR/rt-server.pid
ENV_FILE=$DATA_DIR/rt.env

# The PID in PID_FILE, if that process still exists and is an rt-server.
running_pid() {
    local pid
    [ -s "$PID_FILE" ] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'rt-server' || return 1
    echo "$pid"
}

# ------------------------------------------------------------------ stop / status
# True while $1 exists and is not a zombie.
alive() {
    local fields
    IFS= read -r fields 2>/dev/null <"/proc/$1/stat" || return 1
    fields=${fields##*) }
    [ "${fields:0:1}" != Z ]
}

# PIDs in process group $1 other than $1 itself (from /proc, so procps is not needed).
group_members() {
    local stat fields pid
    for stat in /proc/[0-9]*/stat; do
        IFS= read -r fields 2>/dev/null <"$stat" || continue
        pid=${stat#/proc/}; pid=${pid%/stat}
        fields=${fields##*) }            # after "pid (comm) ": state ppid pgrp ...
        set -- $fields
        [ "${3:-}" = "$GROUP" ] && [ "$pid" != "$GROUP" ] && echo "$pid"
    done
    return 0
}

if [ "$ACTION" = stop ]; then
    if pid=$(running_pid); then
        GROUP=$pid
        # The Starlet master passes SIGTERM on to its workers, which finish their current
        # request and exit.  The master then idles in a 1-second sleep loop before exiting
        # (Parallel::Prefork), so once the workers are gone it is killed rather than awaited.
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do
            alive "$pid" || break
            [ -z "$(group_members)" ] && break
            sleep 0.05
        done
        for _ in $(seq 1 4); do alive "$pid" || break; sleep 0.05; done
        if alive "$pid"; then
            [ -n "$(group_members)" ] && note "workers of PID $pid still alive after 10 s"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.02; done
        fi
        note "stopped PID $pid"
    else
        note "not running"
    fi
    rm -f "$PID_FILE"
    exit 0
fi
if [ "$ACTION" = status ]; then
    if running_pid >/dev/null && [ -s "$ENV_FILE" ]; then
        cat "$ENV_FILE"
        exit 0
    fi
    note "not running"
    exit 1
fi

# ------------------------------------------------------------------ start / init
[ -x "$RT_SERVER_BIN" ] && [ -x "$RT_SETUP_DATABASE" ] \
    || fail "Request Tracker 5 is not installed (run: bash scripts/rt-install.sh as root)"

BASE_URL=http://127.0.0.1:$PORT

if [ "$ACTION" = start ]; then
    if pid=$(running_pid); then
        if grep -qx "RT_URL=$BASE_URL" "$ENV_FILE" 2>/dev/null; then
            note "already running (PID $pid)"
            cat "$ENV_FILE"
            exit 0
        fi
        fail "the RT of $DATA_DIR already runs (PID $pid) on another port; stop it first"
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        fail "port $PORT on 127.0.0.1 is already in use"
    fi
fi

# Configuration: rewritten on every start so that a data dir can move to another port.
mkdir -p "$DATA_DIR/mason" "$DATA_DIR/sessions" "$DATA_DIR/siteconfig.d"
cat >"$DATA_DIR/RT_SiteConfig.pm" <<CONFIG
# Written by scripts/rt-server.sh on each start; edits are lost.
use utf8;
Set(\$rtname, 'backline.test');
Set(\$Organization, 'backline.test');
Set(\$Timezone, 'UTC');
Set(\$BcryptCost, $BCRYPT_COST);
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$BASE_URL');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$DATA_DIR/rt5.sqlite');
Set(\$MasonDataDir, '$DATA_DIR/mason');
Set(\$MasonSessionDir, '$DATA_DIR/sessions');
Set(\$LogDir, '$DATA_DIR');
Set(\$LogToFile, 'info');
Set(\$LogToFileNamed, 'rt.log');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'warning');
Set(\$CorrespondAddress, 'rt\@backline.test');
Set(\$CommentAddress, 'rt-comment\@backline.test');
Set(\$MailCommand, sub {
    my (\$message) = @_;
    open(my \$mbox, '>>', '$DATA_DIR/outgoing.mbox') or return 0;
    print {\$mbox} 'From rt\@backline.test ', scalar(gmtime()), "\\n", \$message->as_string, "\\n";
    close(\$mbox);
    return 1;
});
1;
CONFIG
export RT_SITE_CONFIG=$DATA_DIR/RT_SiteConfig.pm
export RT_SITE_CONFIG_DIR=$DATA_DIR/siteconfig.d

# Database: created once (marker .db-initialized), then seeded once (marker .db-seeded).
if [ ! -e "$DATA_DIR/.db-initialized" ]; then
    t=$(clock)
    rm -f "$DATA_DIR/rt5.sqlite" "$DATA_DIR/.db-seeded"
    [ ${#ROOT_PASSWORD} -ge 5 ] || fail "RT_ROOT_PASSWORD must have at least 5 characters"
    pw_file=$(mktemp)
    printf '%s\n' "$ROOT_PASSWORD" >"$pw_file"
    if ! "$RT_SETUP_DATABASE" --action init --root-password-file "$pw_file" \
            >"$DATA_DIR/db-init.log" 2>&1 </dev/null; then
        rm -f "$pw_file"
        tail -n 20 "$DATA_DIR/db-init.log" >&2
        fail "rt-setup-database --action init failed (see $DATA_DIR/db-init.log)"
    fi
    rm -f "$pw_file"
    (umask 077; printf '%s\n' "$ROOT_PASSWORD" >"$DATA_DIR/.root-password")
    touch "$DATA_DIR/.db-initialized"
    note "database created in $(since "$t")"
fi
if [ -s "$DATA_DIR/.root-password" ]; then
    ROOT_PASSWORD=$(<"$DATA_DIR/.root-password")
fi

if [ -n "$SEED_FILE" ] && [ ! -e "$DATA_DIR/.db-seeded" ]; then
    t=$(clock)
    [ -r "$SEED_FILE" ] || fail "seed file $SEED_FILE not found"
    if ! "$RT_SETUP_DATABASE" --action insert --datafile "$SEED_FILE" \
            >"$DATA_DIR/db-seed.log" 2>&1 </dev/null; then
        tail -n 20 "$DATA_DIR/db-seed.log" >&2
        fail "seeding from $SEED_FILE failed (see $DATA_DIR/db-seed.log)"
    fi
    # rt-setup-database exits 0 even when single objects fail; their errors are logged.
    if grep -h '\[error\]' "$DATA_DIR/db-seed.log" "$DATA_DIR/rt.log" 2>/dev/null | grep -q .; then
        grep -h '\[error\]' "$DATA_DIR/db-seed.log" "$DATA_DIR/rt.log" >&2 || true
        fail "seeding from $SEED_FILE logged errors"
    fi
    touch "$DATA_DIR/.db-seeded"
    note "seeded from $(basename "$SEED_FILE") in $(since "$t")"
fi

[ "$ACTION" = init ] && exit 0

# Start, detached from this shell's session, bound to loopback only.
t=$(clock)
setsid "$RT_SERVER_BIN" --host 127.0.0.1 --port "$PORT" --max-workers "$WORKERS" \
    --access-log "$DATA_DIR/access.log" \
    >"$DATA_DIR/rt-server.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$PID_FILE"

# Wait until REST2 answers 200 (plain bash HTTP, so curl is not needed).
auth=$(printf 'root:%s' "$ROOT_PASSWORD" | base64 -w0)
probe() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /REST/2.0/queues/all HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nAuthorization: Basic %s\r\n\r\n' \
        "$PORT" "$auth" >&3
    IFS= read -r -t 10 line <&3 || line=
    exec 3<&- 3>&-
    [[ $line == "HTTP/1."?" 200"* ]]
}
deadline=$(( $(date +%s) + START_TIMEOUT ))
until probe 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PID_FILE"
        tail -n 20 "$DATA_DIR/rt-server.log" >&2
        fail "rt-server exited while starting (see $DATA_DIR/rt-server.log and $DATA_DIR/rt.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        tail -n 20 "$DATA_DIR/rt-server.log" >&2
        fail "no HTTP 200 from $BASE_URL/REST/2.0/queues/all after $START_TIMEOUT s (PID $pid still running; use: $0 stop $DATA_DIR)"
    fi
    sleep 0.1
done
note "PID $pid answers on $BASE_URL after $(since "$t")"

(
    umask 077
    cat >"$ENV_FILE" <<ENV
RT_URL=$BASE_URL
RT_REST2_URL=$BASE_URL/REST/2.0
RT_USER=root
RT_PASSWORD=$ROOT_PASSWORD
$( [ -e "$DATA_DIR/.db-seeded" ] && echo "RT_AGENTS=alice:alicepw123,bob:bobpw12345" )
RT_PID=$pid
RT_DATA_DIR=$DATA_DIR
RT_LOG=$DATA_DIR/rt.log
ENV
)
cat "$ENV_FILE"
