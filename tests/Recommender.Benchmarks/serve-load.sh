#!/usr/bin/env bash
# Load benchmark of the REST service on loopback, bounded in time and requests.
#   tests/Recommender.Benchmarks/serve-load.sh DATA_DIR [RATE] [SECONDS]
# DATA_DIR is synthetic data (items.csv, sources.csv, ratings.csv), e.g. the generator's output for
# "20000 50000 1000000" (50,000 items). The script imports it into a throwaway database on the project-local
# cluster, trains a k=64 model, starts the service in Release, and runs: saturation, a fixed RATE (default 500/s),
# and event ingestion in batches of 1,000 — each prints one JSON line — then counts the ingested events back.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:?usage: serve-load.sh DATA_DIR [RATE] [SECONDS]}
rate=${2:-500}
seconds=${3:-20}
port=${BENCH_PORT:-5181}
cli() { dotnet "$root/src/Recommender.Cli/bin/Release/net10.0/recommender.dll" "$@"; }

dotnet build "$root/Recommender.sln" -c Release -nologo -v quiet "-clp:ErrorsOnly;NoSummary" >&2
admin=$(cli db start --print-connection-string --admin)
db="bench_serve_$$"
psql "$(echo "$admin" | sed 's/;/ /g; s/Host=/host=/; s/Port=/port=/; s/Username=/user=/; s/Password=/password=/; s/Database=/dbname=/')" -qc "create database $db" >/dev/null
conn="${admin/Database=postgres/Database=$db}"
cleanup() {
  [ -n "${service:-}" ] && kill "$service" 2>/dev/null && wait "$service" 2>/dev/null || true
  psql "$(echo "$admin" | sed 's/;/ /g; s/Host=/host=/; s/Port=/port=/; s/Username=/user=/; s/Password=/password=/; s/Database=/dbname=/')" -qc "drop database if exists $db with (force)" >/dev/null || true
}
trap cleanup EXIT

cli import synthetic "$data" --db "$conn" >&2
cli train --rank 64 --db "$conn" >&2
key=$(cli keys create --name bench --scope feeds --scope events --quiet --db "$conn")
users=$(awk -F, 'NR > 1 { if ($1 > m) m = $1 } END { print m }' "$data/ratings.csv")
items=$(awk -F, 'NR > 1 { n++ } END { print n }' "$data/items.csv")

ConnectionStrings__Recommender="$conn" Recommender__TrainingInterval=00:00:00 ASPNETCORE_URLS="http://127.0.0.1:$port" \
  Logging__LogLevel__Default=Warning dotnet "$root/src/Recommender.Service/bin/Release/net10.0/Recommender.Service.dll" >&2 &
service=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done

url="http://127.0.0.1:$port"
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration 5 --concurrency 16 >/dev/null   # warm-up
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration "$seconds" --concurrency 64
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration "$seconds" --rate "$rate" --concurrency 256
result=$(cli bench ingest --url "$url" --api-key "$key" --users "$users" --items "$items" --events 200000 --batch 1000 --concurrency 4)
echo "$result"
run=$(echo "$result" | sed 's/.*"run":"\([^"]*\)".*/\1/')
pgconn=$(echo "$conn" | sed 's/;/ /g; s/Host=/host=/; s/Port=/port=/; s/Username=/user=/; s/Password=/password=/; s/Database=/dbname=/')
echo "{\"bench\":\"count-back\",\"run\":\"$run\",\"stored\":$(psql "$pgconn" -tAc "select count(*) from events where idempotency_key like 'bench-$run-%'")}"
