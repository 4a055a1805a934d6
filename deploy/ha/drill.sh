#!/usr/bin/env bash
# The failover drill: mcreg on a 3-node Patroni cluster (deploy/ha/cluster.sh) loses its primary, again and again.
#
#   deploy/ha/drill.sh [FOLDER]
#
# Starts the cluster in FOLDER (default: a new temporary folder; base port MCREG_FAILOVER_BASE_PORT, 26500),
# `mcreg serve --no-projections` and two leased `mcreg project` on its writer URL; three clients issue credentials,
# singly and in batches, recording every answer; the primary's postmaster is killed (SIGKILL) 3 times
# (MCREG_FAILOVER_KILLS), each time after Patroni has promoted a standby and the old primary has rejoined; then the
# `mcreg project` holding the leases is killed 3 times, the other taking them over, and started again as the
# standby. Prints one line each: acked lost, duplicates, log forks (`mcreg audit verify --against` a checkpoint
# saved before the kills), writer downtime, leases and read models back after a primary kill, worker takeover
# (every lease held by the other worker; read models moving again), `mcreg rebuild --check`; exits 1 if acked
# lost, duplicates or log forks is not 0 or a check failed. Stops everything it started.
#
# Needs the Debian packages patroni, etcd-server, haproxy, postgresql and curl (installed here when run as root
# and missing) and mcreg's virtual environment (.venv, or the Python that MCREG_PYTHON names).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { printf 'ha-drill: error: %s\n' "$*" >&2; exit 1; }

missing=()
for tool in patroni:patroni etcd:etcd-server haproxy:haproxy curl:curl; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
    [[ $EUID -eq 0 ]] || die "missing Debian packages: ${missing[*]} (apt-get install them as root)"
    printf 'ha-drill: installing %s\n' "${missing[*]}" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi

python=${MCREG_PYTHON:-$root/.venv/bin/python}
[[ -x $python ]] || die "no Python at $python: make the venv (python3 -m venv .venv && .venv/bin/pip install -e '.[test]') or set MCREG_PYTHON"
folder=${1:-$(mktemp -d -t mcreg-failover.XXXXXX)}
mkdir -p -- "$folder"
chmod 755 "$folder"   # the cluster runs as postgres when the drill runs as root

cd "$root"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m tests.reliability.failover_drill "$folder"
