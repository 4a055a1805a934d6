#!/usr/bin/env bash
# mcreg's high-availability PostgreSQL on one machine: 3 etcd members, 3 Patroni-managed PostgreSQL
# nodes in synchronous replication and, if asked, HAProxy in front of them, all on 127.0.0.1.
#
#   deploy/ha/cluster.sh start  DIR [BASE_PORT] [--haproxy]   make or start the cluster, print its URLs
#   deploy/ha/cluster.sh stop   DIR                           stop everything start started
#   deploy/ha/cluster.sh status DIR                           the members, their roles and lag
#   deploy/ha/cluster.sh urls   DIR                           print the URLs again
#
# Ports from BASE_PORT (default 26400, below Linux's ephemeral range; recorded in DIR at the first start):
# etcd clients +1..+3, etcd peers +11..+13, PostgreSQL +21..+23, Patroni's REST API +31..+33, HAProxy writer +40, readers +41.
# Debian packages: patroni, etcd-server, haproxy, postgresql (15 or newer).
#
# Only the URLs go to stdout, as shell assignments:
#   MCREG_DATABASE_URL=...        the writer: libpq multi-host, target_session_attrs=read-write
#   MCREG_READ_DATABASE_URL=...   the readers: the same hosts, target_session_attrs=prefer-standby
# (and MCREG_HAPROXY_WRITER_URL / MCREG_HAPROXY_READER_URL with --haproxy), so
#   set -a; eval "$(deploy/ha/cluster.sh start /srv/mcreg-ha)"; set +a
# points mcreg at the cluster.
set -euo pipefail

readonly MEMBERS=(1 2 3)
readonly APP_USER=mcreg APP_PASSWORD=mcreg APP_DB=mcreg
readonly MIN_MAJOR=15
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

exec 3>&1 1>&2
log() { printf 'ha-cluster: %s\n' "$*"; }
die() { log "error: $*"; exit 1; }
usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGSSLMODE PGDATA PGTARGETSESSIONATTRS

[[ $# -ge 2 ]] || usage
cmd=$1 dir=$2
shift 2
base_arg="" haproxy=0
for arg in "$@"; do
    case $arg in
    --haproxy) haproxy=1 ;;
    *) [[ $cmd == start && $arg =~ ^[0-9]+$ && $arg -ge 1024 && $arg -le 65000 ]] || usage; base_arg=$arg ;;
    esac
done
case $cmd in start | stop | status | urls) ;; *) usage ;; esac
dir=$(realpath -m -- "$dir")
[[ $dir != / ]] || die "refusing to use / as the cluster folder"

# --- ports and URLs ------------------------------------------------------------------------

settings=$dir/cluster.env   # BASE_PORT and HAPROXY, fixed at the first start
if [[ -r $settings ]]; then
    # shellcheck source=/dev/null
    source "$settings"
    [[ -z $base_arg || $base_arg == "$BASE_PORT" ]] || die "$dir was made with base port $BASE_PORT, not $base_arg"
    ((haproxy)) && HAPROXY=1
else
    BASE_PORT=${base_arg:-26400} HAPROXY=$haproxy
fi
etcd_client() { echo $((BASE_PORT + $1)); }
etcd_peer() { echo $((BASE_PORT + 10 + $1)); }
pg_port() { echo $((BASE_PORT + 20 + $1)); }
rest_port() { echo $((BASE_PORT + 30 + $1)); }
writer_port=$((BASE_PORT + 40)) reader_port=$((BASE_PORT + 41))

hosts="" ports=""
for m in "${MEMBERS[@]}"; do
    hosts+=${hosts:+,}127.0.0.1 ports+=${ports:+,}$(pg_port "$m")
done
print_urls() {
    local auth="$APP_USER:$APP_PASSWORD"
    {
        echo "MCREG_DATABASE_URL=postgresql://$auth@$(multi_host)/$APP_DB?target_session_attrs=read-write"
        echo "MCREG_READ_DATABASE_URL=postgresql://$auth@$(multi_host)/$APP_DB?target_session_attrs=prefer-standby"
        if ((HAPROXY)); then
            echo "MCREG_HAPROXY_WRITER_URL=postgresql://$auth@127.0.0.1:$writer_port/$APP_DB"
            echo "MCREG_HAPROXY_READER_URL=postgresql://$auth@127.0.0.1:$reader_port/$APP_DB"
        fi
    } >&3
}
multi_host() {
    local out="" m
    for m in "${MEMBERS[@]}"; do out+=${out:+,}127.0.0.1:$(pg_port "$m"); done
    echo "$out"
}
if [[ $cmd == urls ]]; then
    [[ -r $settings ]] || die "no cluster in $dir"
    print_urls
    exit 0
fi

# --- tools and the user that runs them -----------------------------------------------------

pg_bin=${PG_BIN:-$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname)}
[[ -n $pg_bin && -x $pg_bin/postgres ]] || die "no PostgreSQL server binaries; apt-get install postgresql (or set PG_BIN)"
major=$("$pg_bin/postgres" --version | sed -E 's/^[^)]*\) *([0-9]+).*/\1/')
((major >= MIN_MAJOR)) || die "PostgreSQL $MIN_MAJOR or newer is required; $pg_bin is $major"
for tool in patroni patronictl etcd haproxy; do
    command -v "$tool" >/dev/null || die "$tool not found; apt-get install patroni etcd-server haproxy"
done

# Root runs every process as `postgres` (PostgreSQL refuses root); `setpriv` execs, so a pid is the process's own.
run_user=$(id -un)
if [[ $EUID -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "no postgres user; apt-get install postgresql creates it"
    run_user=postgres
fi
as_user() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@") 3>&- 9<&-
    else
        "$@" 3>&- 9<&-
    fi
}

pids=$dir/pids
alive() { [[ -r $pids/$1.pid ]] && kill -0 "$(<"$pids/$1.pid")" 2>/dev/null; }
# Start a long-running process in its own session, its output in DIR/log/NAME.log and its pid in DIR/pids/NAME.pid.
launch() {
    local name=$1
    shift
    if alive "$name"; then
        log "$name is already running (pid $(<"$pids/$name.pid"))"
        return
    fi
    if [[ $EUID -eq 0 ]]; then
        (cd / && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups -- "$@") \
            >>"$dir/log/$name.log" 2>&1 </dev/null 3>&- 9<&- &
    else
        (exec setsid "$@") >>"$dir/log/$name.log" 2>&1 </dev/null 3>&- 9<&- &
    fi
    echo $! >"$pids/$name.pid"
}
# SIGTERM the named processes together, wait up to WAIT_S seconds for them all, then SIGKILL what is left.
stop_processes() {
    local wait_s=$1 name i left
    shift
    local -A pid_of=()
    for name in "$@"; do
        if alive "$name"; then
            pid_of[$name]=$(<"$pids/$name.pid")
            kill -TERM "${pid_of[$name]}" 2>/dev/null || true
        else
            rm -f "$pids/$name.pid"
        fi
    done
    for ((i = 0; i < wait_s * 10; i++)); do
        left=0
        for name in "${!pid_of[@]}"; do kill -0 "${pid_of[$name]}" 2>/dev/null && left=1; done
        ((left)) || break
        sleep 0.1
    done
    for name in "${!pid_of[@]}"; do
        if kill -0 "${pid_of[$name]}" 2>/dev/null; then
            log "$name (pid ${pid_of[$name]}) did not stop in ${wait_s}s; killing it"
            kill -KILL "${pid_of[$name]}" 2>/dev/null || true
        fi
        rm -f "$pids/$name.pid"
    done
}
rest() { curl -fsS -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(rest_port "$1")/$2" 2>/dev/null || true; }
primary_member() {
    local m
    for m in "${MEMBERS[@]}"; do [[ $(rest "$m" primary) == 200 ]] && { echo "$m"; return 0; }; done
    return 1
}

# --- stop ------------------------------------------------------------------------------

if [[ $cmd == stop ]]; then
    [[ -d $pids ]] || { log "no cluster in $dir; nothing to stop"; exit 0; }
    stop_processes 10 haproxy
    stop_processes 60 patroni1 patroni2 patroni3   # each stops its PostgreSQL
    # A postmaster whose Patroni was killed outlives it: stop it by its data folder.
    for m in "${MEMBERS[@]}"; do
        data=$dir/pg$m/data
        if [[ -r $data/postmaster.pid ]] && as_user "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            log "stopping the orphaned postmaster of pg$m"
            as_user "$pg_bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop || true
        fi
    done
    stop_processes 20 etcd1 etcd2 etcd3
    log "stopped"
    exit 0
fi

# --- status ----------------------------------------------------------------------------

if [[ $cmd == status ]]; then
    [[ -r $dir/patroni1.yml ]] || die "no cluster in $dir"
    for name in etcd1 etcd2 etcd3 patroni1 patroni2 patroni3 haproxy; do
        if alive "$name"; then log "$name: running (pid $(<"$pids/$name.pid"))"; else log "$name: not running"; fi
    done
    as_user patronictl -c "$dir/patroni1.yml" list >&3
    exit 0
fi

# --- start -----------------------------------------------------------------------------

command -v curl >/dev/null || die "curl not found; apt-get install curl"
mkdir -p "$dir"/{log,pids}
for m in "${MEMBERS[@]}"; do mkdir -p "$dir/pg$m/run" "$dir/etcd$m"; done
[[ -r $settings ]] || printf 'BASE_PORT=%s\nHAPROXY=%s\n' "$BASE_PORT" "$HAPROXY" >"$settings"
# Passwords of the cluster's own roles, made once; mcreg's role keeps the public loopback password of
# deploy/postgres-cluster.sh.
secrets=$dir/secrets.env
if [[ ! -r $secrets ]]; then
    (umask 077 && printf 'REPLICATION_PASSWORD=%s\nSUPERUSER_PASSWORD=%s\n' \
        "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$secrets")
fi
# shellcheck source=/dev/null
source "$secrets"
chmod 700 "$dir"
[[ $EUID -ne 0 ]] || chown -R postgres: "$dir"
as_user test -w "$dir" || die "user $run_user cannot write to $dir; a parent folder is not searchable by it"

locale=C
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
etcd_cluster="" etcd_hosts=""
for m in "${MEMBERS[@]}"; do
    etcd_cluster+=${etcd_cluster:+,}etcd$m=http://127.0.0.1:$(etcd_peer "$m")
    etcd_hosts+=${etcd_hosts:+,}127.0.0.1:$(etcd_client "$m")
done

for m in "${MEMBERS[@]}"; do
    state=new
    [[ -d $dir/etcd$m/member ]] && state=existing
    launch "etcd$m" etcd --name "etcd$m" --data-dir "$dir/etcd$m" \
        --listen-client-urls "http://127.0.0.1:$(etcd_client "$m")" \
        --advertise-client-urls "http://127.0.0.1:$(etcd_client "$m")" \
        --listen-peer-urls "http://127.0.0.1:$(etcd_peer "$m")" \
        --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer "$m")" \
        --initial-cluster "$etcd_cluster" --initial-cluster-state "$state" --initial-cluster-token mcreg-ha
done
for ((i = 0; ; i++)); do
    healthy=0
    for m in "${MEMBERS[@]}"; do
        curl -fsS -m 2 "http://127.0.0.1:$(etcd_client "$m")/health" 2>/dev/null | grep -q '"health":"true"' && healthy=$((healthy + 1))
    done
    ((healthy == ${#MEMBERS[@]})) && break
    ((i < 60)) || die "etcd did not become healthy in 30 s (see $dir/log/etcd*.log)"
    sleep 0.5
done
log "etcd: 3 members healthy on ports $etcd_hosts"

for m in "${MEMBERS[@]}"; do
    sed -e "s|@NAME@|pg$m|g" -e "s|@REST_PORT@|$(rest_port "$m")|g" -e "s|@PG_PORT@|$(pg_port "$m")|g" \
        -e "s|@ETCD_HOSTS@|$etcd_hosts|g" -e "s|@MEMBER_DIR@|$dir/pg$m|g" -e "s|@PG_BIN@|$pg_bin|g" \
        -e "s|@LOCALE@|$locale|g" -e "s|@REPLICATION_PASSWORD@|$REPLICATION_PASSWORD|g" \
        -e "s|@SUPERUSER_PASSWORD@|$SUPERUSER_PASSWORD|g" "$here/patroni.yml.in" >"$dir/patroni$m.yml"
    chmod 600 "$dir/patroni$m.yml"
    [[ $EUID -ne 0 ]] || chown postgres: "$dir/patroni$m.yml"
done
# On a new cluster the first member starts alone, so that it is the one that bootstraps; the others clone it.
if [[ ! -r $dir/pg1/data/PG_VERSION ]]; then
    launch patroni1 patroni "$dir/patroni1.yml"
    for ((i = 0; ; i++)); do
        primary=$(primary_member) && break
        ((i < 240)) || die "no primary after 120 s (see $dir/log/patroni*.log)"
        sleep 0.5
    done
fi
for m in "${MEMBERS[@]}"; do launch "patroni$m" patroni "$dir/patroni$m.yml"; done
# Ready when there is a primary and every other member is a streaming replica, one of them synchronous.
for ((i = 0; ; i++)); do
    replicas=0 sync=0
    primary=$(primary_member) || primary=""
    for m in "${MEMBERS[@]}"; do
        [[ $(rest "$m" replica) == 200 ]] && replicas=$((replicas + 1))
        [[ $(rest "$m" sync) == 200 ]] && sync=$((sync + 1))
    done
    [[ -n $primary ]] && ((replicas == ${#MEMBERS[@]} - 1 && sync >= 1)) && break
    ((i < 360)) || die "the cluster did not settle in 180 s: primary '${primary}', $replicas replicas, $sync synchronous"
    sleep 0.5
done
log "patroni: pg$primary is the primary; $replicas replicas, $sync synchronous"

if ((HAPROXY)); then
    writer_servers="" reader_servers=""
    for m in "${MEMBERS[@]}"; do
        line="    server pg$m 127.0.0.1:$(pg_port "$m") maxconn 150 check port $(rest_port "$m")"
        writer_servers+=$line$'\n' reader_servers+=$line$'\n'
    done
    awk -v w="$writer_servers" -v r="$reader_servers" -v wp="$writer_port" -v rp="$reader_port" \
        '{ gsub("@WRITER_PORT@", wp); gsub("@READER_PORT@", rp) }
         /^@WRITER_SERVERS@$/ { printf "%s", w; next } /^@READER_SERVERS@$/ { printf "%s", r; next } { print }' \
        "$here/haproxy.cfg.in" >"$dir/haproxy.cfg"
    [[ $EUID -ne 0 ]] || chown postgres: "$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg" || die "HAProxy refuses $dir/haproxy.cfg"
    launch haproxy haproxy -db -f "$dir/haproxy.cfg"
    log "haproxy: writer on 127.0.0.1:$writer_port, readers on 127.0.0.1:$reader_port"
fi

# mcreg's role and database, idempotently, on the primary (the replicas follow): deploy/app-role.sql.
as_user "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/pg$primary/run" -p "$(pg_port "$primary")" -U postgres -d postgres \
    -v app_user="$APP_USER" -v app_password="$APP_PASSWORD" -v app_db="$APP_DB" -f - <"$here/../app-role.sql"
"$pg_bin/psql" -X -q -At -d "postgresql://$APP_USER:$APP_PASSWORD@$(multi_host)/$APP_DB?target_session_attrs=read-write" \
    -c 'SELECT 1' >/dev/null || die "cannot log in as $APP_USER on the writer"
log "ready"
print_urls
