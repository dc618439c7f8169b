#!/usr/bin/env bash
# Process faults, on loopback, bounded in time and traffic.
#   tests/reliability/process-kill.sh DATA_DIR [EVENTS]
# DATA_DIR is synthetic data (items.csv, sources.csv, ratings.csv). On a cluster of its own the script imports it,
# trains model A, starts the service, and then:
#  1. sends EVENTS (default 300,000) events in batches of 1,000 and SIGKILLs the service 3 s in; after a restart it
#     counts the events stored against the events the client saw acknowledged;
#  2. starts the service with a 5 s training schedule (training runs inside the service process) and SIGKILLs it
#     while a training run is under way; after a restart the interrupted version must not be active and model A serves,
#     and the next training run marks the interrupted one failed;
#  3. trains model B (activated), rolls back to A, flips one byte of B's stored payload and activates B: the service
#     must refuse B and keep serving A, and so must a service started afresh.
# The last line is one JSON object with the figures.
source "$(dirname "$0")/common.sh"
data=${1:?usage: process-kill.sh DATA_DIR [EVENTS]}
events=${2:-300000}

# Empty when the service does not answer, so that a failure is reported rather than ending the run.
feed_model() { curl -sf --max-time 10 -H "X-Api-Key: $key" "$url/api/platform/users/1/feed?k=5" | grep -o '"modelVersion":"[^"]*"' | cut -d'"' -f4 || true; }
health_of() { curl -s --max-time 10 "$url/health" || true; }
wait_for_model() {
  for _ in $(seq 300); do [ "$(feed_model)" = "$1" ] && return 0; sleep 0.2; done
  echo "the service did not switch to model $1 (feeds from model $(feed_model)); health: $(health_of); its log:" >&2
  tail -40 "$rel_tmp/service.log" >&2
  return 1
}

rel_setup "$data"
rel_train --rank 32
model_a=$(rel_sql "select version from models where is_active")

# 1. SIGKILL during event ingestion.
rel_start_service
rel_bg cli bench ingest --url "$url" --api-key "$key" --users "$users" --items "$items" --events "$events" --batch 1000 \
  --concurrency 4 >"$rel_tmp/ingest.json"
ingest=$rel_bg_pid
sleep 3
stored_at_kill=$(rel_sql "select count(*) from events where idempotency_key like 'bench-%'")
rel_kill_service
rel_wait "$ingest" || true
ingest_result=$(tail -1 "$rel_tmp/ingest.json")
echo "$ingest_result" >&2
acknowledged=$(rel_json_num acknowledged "$ingest_result")
rel_start_service
stored=$(rel_count_back "$ingest_result")
rel_log "ingestion: $acknowledged acknowledged, $stored stored after restart ($stored_at_kill rows when killed)"

# 2. SIGKILL during training. The service trains in its own process (TrainingScheduler), on schedule or on demand.
rel_kill_service
rel_start_service Recommender__TrainingInterval=00:00:05
training=""
for _ in $(seq 300); do
  training=$(rel_sql "select version from models where status = 'training'")
  [ -n "$training" ] && break
  sleep 0.1
done
[ -n "$training" ] || { echo "no training run started" >&2; exit 1; }
# The run reads the ratings and trains for about a second on a quiet machine: kill it well inside that.
sleep 0.2
rel_log "training run $training is under way"
still_training=$(rel_sql "select status from models where version = $training")
[ "$still_training" = training ] || { echo "run $training ended ($still_training) before the kill; nothing was interrupted" >&2; exit 1; }
rel_kill_service
rel_start_service
interrupted=$(rel_sql "select status || ', payload ' || coalesce(length(payload)::text, 'none') || ', active ' || is_active from models where version = $training")
active_after_training_kill=$(rel_sql "select version from models where is_active")
serving_after_training_kill=$(feed_model)
rel_log "interrupted run $training: $interrupted; active $active_after_training_kill; feeds from model $serving_after_training_kill"

# 3. A damaged payload is refused.
rel_train --rank 32
model_b=$(rel_sql "select version from models where is_active")
# The next run, in any process, holds the training lock and so knows the interrupted one is not running any more.
interrupted_after_next_run=$(rel_sql "select status || ': ' || coalesce(metrics->>'error', '') from models where version = $training")
wait_for_model "$model_b"
cli models activate "$model_a" >&2
wait_for_model "$model_a"
rel_sql "update models set payload = set_byte(payload, 1000, get_byte(payload, 1000) # 255) where version = $model_b" >/dev/null
cli models activate "$model_b" >&2
sleep 3   # NOTIFY reaches the service at once; the poll backstop is 10 s
serving_after_corrupt=$(feed_model)
health_after_corrupt=$(health_of)
echo "health with the damaged model active: $health_after_corrupt" >&2
rel_kill_service
rel_start_service
serving_after_restart=$(feed_model)
health_after_restart=$(health_of)
echo "health after a restart with the damaged model active: $health_after_restart" >&2
status_of() { echo "$1" | grep -o '"serving":{"status":"[A-Za-z]*"' | sed 's/.*"status":"//; s/"//'; }

cat <<JSON
{"script":"process-kill","ingestion":{"acknowledged":${acknowledged:-null},"stored":$stored,"storedWhenKilled":$stored_at_kill},"training":{"modelA":$model_a,"interruptedVersion":$training,"statusWhenKilled":"$still_training","afterRestart":"$interrupted","afterNextRun":"$interrupted_after_next_run","active":$active_after_training_kill,"feedsFromModel":"$serving_after_training_kill"},"corruptModel":{"damagedVersion":$model_b,"feedsFromModel":"$serving_after_corrupt","servingHealth":"$(status_of "$health_after_corrupt")","afterRestartFeedsFromModel":"$serving_after_restart","afterRestartServingHealth":"$(status_of "$health_after_restart")"}}
JSON
