#!/usr/bin/env bash
# Load benchmark of the REST service on loopback, bounded in time and requests.
#   tests/Recommender.Benchmarks/serve-load.sh DATA_DIR [RATE] [SECONDS]
# DATA_DIR is synthetic data (items.csv, sources.csv, ratings.csv), e.g. the generator's output for
# "20000 50000 1000000" (50,000 items). On a PostgreSQL cluster of its own (tests/reliability/common.sh) the script
# imports it, trains a k=64 model, starts the service in Release, and runs: saturation, a fixed RATE (default 500/s),
# and event ingestion in batches of 1,000 — each prints one JSON line — then counts the ingested events back.
# The service listens on 127.0.0.1:5190; RELIABILITY_PORT sets another port (as for the reliability scripts).
source "$(dirname "$0")/../reliability/common.sh"
data=${1:?usage: serve-load.sh DATA_DIR [RATE] [SECONDS]}
rate=${2:-500}
seconds=${3:-20}

rel_setup "$data"
rel_train --rank 64
rel_start_service

# Warm-up: the JIT reaches its final tier only after a few thousand calls of each method; before that it measures the compiler.
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration 20 --concurrency 32 >/dev/null
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration "$seconds" --concurrency 64
cli bench serve --url "$url" --api-key "$key" --users "$users" --duration "$seconds" --rate "$rate" --concurrency 256
result=$(cli bench ingest --url "$url" --api-key "$key" --users "$users" --items "$items" --events 200000 --batch 1000 --concurrency 4)
echo "$result"
echo "{\"bench\":\"count-back\",\"run\":\"$(rel_bench_run "$result")\",\"stored\":$(rel_count_back "$result")}"
