#!/usr/bin/env bash
# Shared by the reliability scripts and the serve-load benchmark; source it, do not run it.
# It builds the solution (Release), runs a PostgreSQL cluster of its own in a temporary folder (never the project's
# or anyone else's, so a script may stop it), imports synthetic data, trains, starts the REST service on a loopback
# port (RELIABILITY_PORT, default 5190) and waits for it, and removes everything it started when the script exits.
#   rel_setup DATA_DIR           rel_build, rel_cluster and rel_import DATA_DIR
#   rel_build                    Release build of the solution
#   rel_cluster                  start the cluster and migrate; sets $conn
#   rel_import DATA_DIR          import DATA_DIR (items.csv, sources.csv, ratings.csv) and make an API key;
#                                sets $key, $users, $items
#   rel_train [ARGS…]            recommender train on the cluster
#   rel_start_service [VAR=V…]   start the service (extra environment as arguments) and wait for it; sets $service and $url
#   rel_spawn NAME PORT [VAR=V…] start the service as NAME on 127.0.0.1:PORT without waiting, logging to $rel_tmp/NAME.log;
#                                sets $rel_spawned, and stops it on exit as a rel_bg job
#   rel_await_healthy NAME PID PORT  wait until the service on PORT answers /health; gives up at once if PID exits
#   rel_kill_service             SIGKILL the service
#   rel_bg CMD…                  run CMD in the background (redirections apply); sets $rel_bg_pid. On exit the job and its
#                                child processes are stopped before the cluster is
#   rel_wait PID                 wait for a rel_bg or rel_spawn job; returns its status
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
rel_logs=()   # shown when the script fails
rel_tmp=$(mktemp -d -t recommender-reliability-XXXXXX)
# The server runs as the postgres account when the script runs as root, so it must be able to enter the folder.
chmod 755 "$rel_tmp"

rel_cli_dll="$rel_root/src/Recommender.Cli/bin/Release/net10.0/recommender.dll"
cli() { RECOMMENDER_DATA="$rel_tmp" RECOMMENDER_DB="${conn:-}" dotnet "$rel_cli_dll" "$@"; }
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
  local rc=$? pid log all=()
  set +e
  if [ "$rc" != 0 ]; then
    for log in "${rel_logs[@]}"; do
      [ -s "$log" ] || continue
      echo "failed (exit $rc); the end of $(basename "$log" .log)'s log:" >&2
      tail -n "$(( ${#rel_logs[@]} > 1 ? 20 : 60 ))" "$log" >&2
    done
  fi
  # Jobs and services first, with their children (a pending `db start` among them), so that nothing starts the
  # cluster again or uses it once it is stopped.
  for pid in "${rel_bg_pids[@]}"; do
    all+=("$pid")
    mapfile -t -O "${#all[@]}" all < <(rel_descendants "$pid")
  done
  [ ${#all[@]} -eq 0 ] || kill "${all[@]}" 2>/dev/null
  for pid in "${rel_bg_pids[@]}"; do wait "$pid" 2>/dev/null; done
  RECOMMENDER_DATA="$rel_tmp" dotnet "$rel_cli_dll" db stop >/dev/null 2>&1
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

rel_build() {
  rel_log "build"
  dotnet build "$rel_root/Recommender.sln" -c Release -nologo -v quiet "-clp:ErrorsOnly;NoSummary" >&2
}

rel_cluster() {
  rel_log "cluster in $rel_tmp"
  conn=$(RECOMMENDER_DATA="$rel_tmp" dotnet "$rel_cli_dll" db start --print-connection-string)
  cli db migrate >/dev/null
}

rel_import() {
  local data=${1:?data folder}
  rel_log "import $data"
  cli import synthetic "$data" >&2
  key=$(cli keys create --name reliability --scope feeds --scope events --scope catalog --quiet)
  users=$(awk -F, 'NR > 1 { if ($1 > m) m = $1 } END { print m }' "$data/ratings.csv")
  items=$(awk -F, 'NR > 1 { n++ } END { print n }' "$data/items.csv")
}

rel_setup() {
  local data=${1:?data folder}
  rel_build
  rel_cluster
  rel_import "$data"
}

# A model that fails its quality gate exits 1 and leaves the active one serving, which is all these scripts need.
rel_train() {
  rel_log "train $*"
  local rc=0
  cli train "$@" >&2 || rc=$?
  if [ "$rc" -eq 1 ]; then rel_log "train: the new model was rejected by its gate; the active one keeps serving"; return 0; fi
  return "$rc"
}

rel_spawn() {
  local name=${1:?name} port=${2:?port} log
  shift 2
  log="$rel_tmp/$name.log"
  rel_log "start $name on http://127.0.0.1:$port"
  env ConnectionStrings__Recommender="$conn" Recommender__TrainingInterval=00:00:00 Recommender__MigrateOnStart=false \
    ASPNETCORE_URLS="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning "$@" \
    dotnet "$rel_root/src/Recommender.Service/bin/Release/net10.0/Recommender.Service.dll" >>"$log" 2>&1 &
  rel_spawned=$!
  rel_bg_pids+=("$rel_spawned")
  [[ " ${rel_logs[*]} " == *" $log "* ]] || rel_logs+=("$log")
}

rel_await_healthy() {
  local name=$1 pid=$2 port=$3
  for _ in $(seq 120); do
    if curl -sf --max-time 5 "http://127.0.0.1:$port/health" >/dev/null; then rel_log "$name $pid is healthy"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "$name did not become healthy; its log:" >&2
  tail -50 "$rel_tmp/$name.log" >&2
  return 1
}

rel_start_service() {
  rel_spawn service "$rel_port" "$@"
  service=$rel_spawned
  rel_await_healthy service "$service" "$rel_port"
}

rel_kill_service() {
  rel_log "SIGKILL service $service"
  kill -KILL "$service"
  rel_wait "$service" || true
  service=""
}

rel_db_stop() { cli db stop >/dev/null; }
rel_db_start() { cli db start >/dev/null; }
