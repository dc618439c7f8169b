#!/usr/bin/env bash
# Shared by the reliability scripts and the serve-load benchmark; source it, do not run it.
# It builds the solution (Release), runs a PostgreSQL cluster of its own in a temporary folder (never the project's
# or anyone else's, so a script may stop it), imports synthetic data, trains, starts the REST service on a loopback
# port and waits for it, and removes everything it started when the script exits.
#   rel_setup DATA_DIR           build, cluster, migrate, import DATA_DIR (items.csv, sources.csv, ratings.csv), API key
#   rel_train [ARGS…]            recommender train on the cluster
#   rel_start_service [VAR=V…]   start the service (extra environment as arguments); sets $service and $url
#   rel_kill_service             SIGKILL the service
#   rel_bg CMD…                  run CMD in the background (redirections apply); sets $rel_bg_pid. On exit the job and its
#                                child processes are stopped before the cluster is
#   rel_wait PID                 wait for a rel_bg job; returns its status
#   rel_db_stop / rel_db_start   stop or start the cluster
#   rel_sql SQL                  one value from the application database
#   rel_json_num KEY [JSON]      the first numeric field KEY in JSON (or standard input); empty when absent, never fails
#   rel_bench_run RESULT_JSON    the run id of a `bench ingest` or `bench mixed` result line; empty without one
#   rel_count_back RESULT_JSON   events stored for that run; null without a run
#   rel_now_ms                   Unix time in milliseconds
set -euo pipefail
rel_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rel_port=${RELIABILITY_PORT:-5190}
url="http://127.0.0.1:$rel_port"
service=""
rel_bg_pids=()
rel_tmp=$(mktemp -d -t recommender-reliability-XXXXXX)
# The server runs as the postgres account when the script runs as root, so it must be able to enter the folder.
chmod 755 "$rel_tmp"

cli() { RECOMMENDER_DATA="$rel_tmp" RECOMMENDER_DB="${conn:-}" dotnet "$rel_root/src/Recommender.Cli/bin/Release/net10.0/recommender.dll" "$@"; }
rel_now_ms() { date +%s%3N; }
rel_log() { echo "[$(date +%T.%3N)] $*" >&2; }

rel_bg() {
  "$@" &
  rel_bg_pid=$!
  rel_bg_pids+=("$rel_bg_pid")
}

rel_wait() {
  local rc=0 pid kept=()
  wait "$1" || rc=$?
  for pid in "${rel_bg_pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  rel_bg_pids=("${kept[@]}")
  return "$rc"
}

# Every process below PID: a job that runs a shell function is a subshell whose commands are its children.
rel_descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
    echo "$child"
    rel_descendants "$child"
  done
}

rel_cleanup() {
  local rc=$? pid all=()
  set +e
  if [ "$rc" != 0 ] && [ -s "$rel_tmp/service.log" ]; then
    echo "failed (exit $rc); the end of the service's log:" >&2
    tail -60 "$rel_tmp/service.log" >&2
  fi
  # Jobs first, with their children (a pending `db start` among them), so that nothing starts the cluster again or
  # uses it once it is stopped.
  for pid in "${rel_bg_pids[@]}"; do
    all+=("$pid")
    mapfile -t -O "${#all[@]}" all < <(rel_descendants "$pid")
  done
  [ ${#all[@]} -eq 0 ] || kill "${all[@]}" 2>/dev/null
  for pid in "${rel_bg_pids[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "$service" ]; then kill "$service" 2>/dev/null && wait "$service" 2>/dev/null; fi
  RECOMMENDER_DATA="$rel_tmp" dotnet "$rel_root/src/Recommender.Cli/bin/Release/net10.0/recommender.dll" db stop >/dev/null 2>&1
  rm -rf "$rel_tmp"
}
trap rel_cleanup EXIT

# libpq form of the Npgsql connection string, for psql.
rel_pg() { echo "$conn" | sed 's/;/ /g; s/Host=/host=/; s/Port=/port=/; s/Username=/user=/; s/Password=/password=/; s/Database=/dbname=/'; }
rel_sql() { psql "$(rel_pg)" -tAqc "$1"; }
rel_db_port() { echo "$conn" | sed 's/.*Port=\([0-9]*\).*/\1/'; }

rel_json_num() {
  local json
  if [ $# -ge 2 ]; then json=$2; else json=$(cat); fi
  if [[ $json =~ "\"$1\":"(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?) ]]; then echo "${BASH_REMATCH[1]}"; fi
  return 0
}

# The run id prefixes the idempotency keys of the run's events ('bench-RUN-…'); only a plain id goes into the query.
rel_bench_run() {
  if [[ $1 =~ \"run\":\"([A-Za-z0-9_-]+)\" ]]; then echo "${BASH_REMATCH[1]}"; fi
  return 0
}

rel_count_back() {
  local run
  run=$(rel_bench_run "$1")
  if [ -z "$run" ]; then echo null; return 0; fi
  rel_sql "select count(*) from events where idempotency_key like 'bench-$run-%'"
}

rel_setup() {
  local data=${1:?data folder}
  rel_log "build"
  dotnet build "$rel_root/Recommender.sln" -c Release -nologo -v quiet "-clp:ErrorsOnly;NoSummary" >&2
  rel_log "cluster in $rel_tmp"
  conn=$(RECOMMENDER_DATA="$rel_tmp" dotnet "$rel_root/src/Recommender.Cli/bin/Release/net10.0/recommender.dll" db start --print-connection-string)
  cli db migrate >/dev/null
  rel_log "import $data"
  cli import synthetic "$data" >&2
  key=$(cli keys create --name reliability --scope feeds --scope events --scope catalog --quiet)
  users=$(awk -F, 'NR > 1 { if ($1 > m) m = $1 } END { print m }' "$data/ratings.csv")
  items=$(awk -F, 'NR > 1 { n++ } END { print n }' "$data/items.csv")
}

rel_train() { rel_log "train $*"; cli train "$@" >&2; }

rel_start_service() {
  rel_log "start the service on $url"
  env ConnectionStrings__Recommender="$conn" Recommender__TrainingInterval=00:00:00 Recommender__MigrateOnStart=false \
    ASPNETCORE_URLS="$url" Logging__LogLevel__Default=Warning "$@" \
    dotnet "$rel_root/src/Recommender.Service/bin/Release/net10.0/Recommender.Service.dll" >>"$rel_tmp/service.log" 2>&1 &
  service=$!
  for _ in $(seq 120); do
    if curl -sf "$url/health" >/dev/null; then rel_log "service $service is healthy"; return 0; fi
    kill -0 "$service" 2>/dev/null || break
    sleep 0.5
  done
  echo "the service did not become healthy; its log:" >&2
  tail -50 "$rel_tmp/service.log" >&2
  return 1
}

rel_kill_service() {
  rel_log "SIGKILL service $service"
  kill -KILL "$service"
  wait "$service" 2>/dev/null || true
  service=""
}

rel_db_stop() { cli db stop >/dev/null; }
rel_db_start() { cli db start >/dev/null; }
