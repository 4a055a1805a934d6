#!/usr/bin/env bash
# Manage a PostgreSQL cluster for mcreg on loopback, in a folder of your choice,
# using the distribution's PostgreSQL binaries (PostgreSQL 15 or newer).
#
#   deploy/postgres-cluster.sh start DIR [PORT]   initdb if needed, start, print DATABASE_URL
#   deploy/postgres-cluster.sh stop  DIR          stop (a no-op if it is not running)
#   deploy/postgres-cluster.sh url   DIR [PORT]   print DATABASE_URL only
#
# Layout of DIR: data/ (the cluster), run/ (unix socket), postgres.log (server log).
# PORT defaults to the port the cluster was last started on, else 55432.
# Binaries: $PG_BIN if set, else the newest /usr/lib/postgresql/<major>/bin
# (the cluster's own major if DIR already holds one), else `pg_config --bindir`.
#
# Only the URL is written to stdout; everything else goes to stderr, so
#   export MCREG_DATABASE_URL=$(deploy/postgres-cluster.sh start /srv/mcreg-pg)
# works.
set -euo pipefail

readonly DEFAULT_PORT=55432
readonly MIN_MAJOR=15
readonly SUPERUSER=postgres          # cluster superuser; only reachable over the socket
readonly APP_USER=mcreg APP_PASSWORD=mcreg APP_DB=mcreg
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Keep fd 3 for the URL and send everything else (initdb, pg_ctl, psql chatter) to stderr.
exec 3>&1 1>&2

log() { printf 'postgres-cluster: %s\n' "$*"; }
die() { log "error: $*"; exit 1; }
usage() {
    sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

# Settings in the caller's environment (PGHOST, PGSERVICE, PGOPTIONS...) must not
# redirect or alter the connections this script makes.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGSSLMODE PGDATA

[[ $# -ge 2 ]] || usage
cmd=$1 dir=$2 port_arg=${3:-}
case $cmd in start | stop | url) ;; *) usage ;; esac
[[ $# -le 3 ]] || usage
[[ -n $dir ]] || usage
if [[ -n $port_arg ]] && ! [[ $port_arg =~ ^[0-9]+$ && $port_arg -ge 1 && $port_arg -le 65535 ]]; then
    die "invalid port: $port_arg"
fi

dir=$(realpath -m -- "$dir")
[[ $dir != / ]] || die "refusing to use / as the cluster folder"
data=$dir/data
sockdir=$dir/run
logfile=$dir/postgres.log
conf_include=$data/mcreg.conf   # rewritten on every start; included from postgresql.conf

# The port: explicit argument, else the one recorded at the last start, else the default.
recorded_port() {
    [[ -r $conf_include ]] && sed -n 's/^port = \([0-9]\+\).*/\1/p' "$conf_include" | head -n 1
    return 0
}
port=${port_arg:-$(recorded_port)}
port=${port:-$DEFAULT_PORT}
url="postgresql://$APP_USER:$APP_PASSWORD@127.0.0.1:$port/$APP_DB"

if [[ $cmd == url ]]; then
    echo "$url" >&3
    exit 0
fi

# --- binaries --------------------------------------------------------------------------

find_bin() {
    if [[ -n ${PG_BIN:-} ]]; then
        echo "$PG_BIN"
        return
    fi
    # An existing cluster can only be run by its own major version.
    if [[ -r $data/PG_VERSION ]]; then
        local own
        own="/usr/lib/postgresql/$(<"$data/PG_VERSION")/bin"
        if [[ -x $own/postgres ]]; then
            echo "$own"
            return
        fi
    fi
    local newest
    newest=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null |
        sort -V | tail -n 1)
    if [[ -n $newest ]]; then
        dirname "$newest"
        return
    fi
    if command -v pg_config >/dev/null; then
        pg_config --bindir
        return
    fi
    return 1
}

bin=$(find_bin) || die "no PostgreSQL server binaries found; install the 'postgresql' package or set PG_BIN"
for tool in initdb pg_ctl postgres psql; do
    [[ -x $bin/$tool ]] || die "$bin/$tool not found (set PG_BIN to the server's bin folder)"
done
version=$("$bin/postgres" --version | sed -E 's/^[^)]*\) *//')   # e.g. "15.18 (Debian ...)"
major=${version%%[!0-9]*}
[[ -n $major && $major -ge $MIN_MAJOR ]] || die "PostgreSQL $MIN_MAJOR or newer is required; $bin has $version"
if [[ -r $data/PG_VERSION && $(<"$data/PG_VERSION") != "$major" ]]; then
    die "$data was created by PostgreSQL $(<"$data/PG_VERSION") but $bin is PostgreSQL $major"
fi

# --- who runs the server ---------------------------------------------------------------

# initdb, pg_ctl and postgres refuse to run as root, so root runs them as a system user:
# the existing cluster's owner, else `postgres`, else a dedicated `mcreg-pg`.
pg_user=$(id -un)
if [[ $EUID -eq 0 ]]; then
    if [[ -e $data ]] && [[ $(stat -c %u "$data") != 0 ]]; then
        pg_user=$(stat -c %U "$data")
    elif id -u postgres >/dev/null 2>&1; then
        pg_user=postgres
    else
        if ! id -u mcreg-pg >/dev/null 2>&1; then
            [[ $cmd == start ]] || die "no cluster user exists; nothing to do"
            log "creating system user mcreg-pg"
            useradd --system --user-group --home-dir /nonexistent --no-create-home \
                --shell /usr/sbin/nologin mcreg-pg
        fi
        pg_user=mcreg-pg
    fi
fi

# Run a command as the server user. fds 3 (our stdout) and 9 (the DIR lock) are closed,
# so that a server started from here neither holds `$(... start DIR)` open nor the lock.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        # cd / so the tools never trip over a current directory the user cannot read.
        (cd / && runuser -u "$pg_user" -- "$@") 3>&- 9<&-
    else
        "$@" 3>&- 9<&-
    fi
}

is_running() { [[ -r $data/PG_VERSION ]] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# --- stop ------------------------------------------------------------------------------

if [[ $cmd == stop ]]; then
    if [[ ! -r $data/PG_VERSION ]]; then
        log "no cluster in $dir; nothing to stop"
        exit 0
    fi
    exec 9<"$dir" && flock 9    # serialise with a concurrent start/stop on the same DIR
    if ! is_running; then
        log "cluster in $dir is not running"
        exit 0
    fi
    log "stopping cluster in $dir"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 120 stop
    exit 0
fi

# --- start -----------------------------------------------------------------------------

if [[ ! -r $data/PG_VERSION ]]; then
    # First start. DIR gets chowned to the server user, so only accept a folder that is
    # new or empty (bar leftovers of an earlier failed start): never take over other files.
    if [[ -e $dir ]]; then
        [[ -d $dir ]] || die "$dir exists and is not a folder"
        for entry in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
            [[ -e $entry || -L $entry ]] || continue
            case ${entry##*/} in data | run | postgres.log) ;;
            *) die "$dir is not empty and holds no cluster (expected $data)" ;; esac
        done
    fi
fi

# Unix socket paths are limited to 107 bytes.
sock_path="$sockdir/.s.PGSQL.$port"
[[ ${#sock_path} -le 107 ]] || die "socket path $sock_path is too long; use a shorter DIR"

mkdir -p -- "$sockdir"
exec 9<"$dir" && flock 9        # serialise with a concurrent start/stop on the same DIR
# The folder holds a socket that trusts the superuser: keep it private to the server user.
chmod 700 "$dir" "$sockdir"
if [[ $EUID -eq 0 ]]; then
    chown -R "$pg_user:" "$dir"
    as_pg test -w "$dir" -a -x "$dir" ||
        die "user $pg_user cannot reach $dir; a parent folder is not searchable by it" \
            "(mktemp -d makes 0700 folders: chmod 755 the parent, or use another DIR)"
fi
log "PostgreSQL $version from $bin, running as $pg_user"

if [[ ! -r $data/PG_VERSION ]]; then
    log "initialising a new cluster in $data"
    locale=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
    as_pg "$bin/initdb" -D "$data" -U "$SUPERUSER" --encoding=UTF8 --locale="$locale" \
        --data-checksums --auth-local=trust --auth-host=scram-sha-256
    # Written once at initdb; after that it belongs to whoever runs the cluster.
    as_pg tee "$data/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER          ADDRESS        METHOD
# The superuser has no password; it can only log in over the private unix socket.
local   all       $SUPERUSER                     trust
local   all       all                          scram-sha-256
host    all       all           127.0.0.1/32   scram-sha-256
host    all       all           ::1/128        scram-sha-256
EOF
    printf "\n# Settings managed by deploy/postgres-cluster.sh\ninclude_if_exists = 'mcreg.conf'\n" |
        as_pg tee -a "$data/postgresql.conf" >/dev/null
fi

if is_running; then
    running_port=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)
    if [[ -n $running_port && $running_port != "$port" ]]; then
        die "cluster in $dir is already running on port $running_port, not $port"
    fi
    log "cluster in $dir is already running on port $port"
else
    # Rewritten on every start so that PORT and DIR always match the running server.
    sockdir_quoted=${sockdir//\'/\'\'}    # a ' inside a setting is written ''
    as_pg tee "$conf_include" >/dev/null <<EOF
# Managed by deploy/postgres-cluster.sh; rewritten on every start.
# Put your own overrides in postgresql.auto.conf (ALTER SYSTEM), which is read after this.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir_quoted'
password_encryption = 'scram-sha-256'

# Acknowledged writes must survive a crash: keep durability on, even on a CI box.
fsync = on
synchronous_commit = on
full_page_writes = on

max_connections = 200
shared_buffers = 256MB
EOF
    log "starting cluster in $dir on 127.0.0.1:$port (log: $logfile)"
    if ! as_pg "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 120 start; then
        log "server failed to start; last lines of $logfile:"
        tail -n 40 "$logfile" >&2 || true
        exit 1
    fi
fi

# Role and database, idempotently (deploy/app-role.sql). The password is (re)set so that the URL always works.
as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U "$SUPERUSER" -d postgres \
    -v app_user="$APP_USER" -v app_password="$APP_PASSWORD" -v app_db="$APP_DB" -f - <"$here/app-role.sql"

# Prove the URL works the way mcreg will use it: TCP on loopback, password auth.
"$bin/psql" -X -q -At -d "$url" -c 'SELECT 1' >/dev/null ||
    die "cannot log in as $APP_USER with $url (see $logfile)"

log "ready: $url"
echo "$url" >&3
