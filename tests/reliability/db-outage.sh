#!/usr/bin/env bash
# PostgreSQL outage under feed + event load, on loopback, bounded in time and traffic.
#   tests/reliability/db-outage.sh DATA_DIR [OUTAGE_SECONDS] [FEEDS_PER_SECOND] [EVENT_BATCHES_PER_SECOND]
# DATA_DIR is synthetic data (items.csv, sources.csv, ratings.csv). On a cluster of its own the script imports it,
# trains, starts the service, and runs `recommender bench mixed` (feeds and batches of 10 events through the platform
# API) for 10 s + OUTAGE_SECONDS (default 10) + 15 s; 10 s in it stops PostgreSQL and starts it again OUTAGE_SECONDS
# later. Then it counts: feeds answered 200 inside the outage, event batches answered 503 (and with Retry-After),
# the time from PostgreSQL accepting connections again to the first acknowledged write, served lists in the audit
# log against feeds answered 200, and acknowledged events against events stored. The last line is one JSON object.
source "$(dirname "$0")/common.sh"
data=${1:?usage: db-outage.sh DATA_DIR [OUTAGE_SECONDS] [FEEDS_PER_SECOND] [EVENT_BATCHES_PER_SECOND]}
outage=${2:-10}
feed_rate=${3:-50}
event_rate=${4:-20}
before=10
after=15

rel_setup "$data"
rel_train --rank 32
rel_start_service
timeline="$rel_tmp/timeline.csv"
rel_bg cli bench mixed --url "$url" --api-key "$key" --users "$users" --items "$items" --batch 10 \
  --feed-rate "$feed_rate" --event-rate "$event_rate" --concurrency 64 --duration $((before + outage + after)) \
  --timeline "$timeline" >"$rel_tmp/mixed.jsonl"
load=$rel_bg_pid

sleep "$before"
rel_log "stop PostgreSQL"
rel_db_stop
down_ms=$(rel_now_ms)
rel_log "PostgreSQL is down"
sleep $((outage / 2))
health_during=$(curl -s --max-time 10 "$url/health" || echo '{"error":"no answer from /health"}')
sleep $((outage - outage / 2))
start_ms=$(rel_now_ms)
rel_log "start PostgreSQL"
rel_bg rel_db_start
starting=$rel_bg_pid
# Bounded: a start that fails or hangs ends the run (the start itself waits at most 60 s for the server).
db_port=$(rel_db_port)
ready_by=$((SECONDS + 90))
until pg_isready -q -h 127.0.0.1 -p "$db_port"; do
  if ! kill -0 "$starting" 2>/dev/null && ! pg_isready -q -h 127.0.0.1 -p "$db_port"; then
    echo "PostgreSQL did not start" >&2; exit 1
  fi
  [ "$SECONDS" -lt "$ready_by" ] || { echo "PostgreSQL did not accept connections within 90 s" >&2; exit 1; }
  sleep 0.02
done
up_ms=$(rel_now_ms)
rel_wait "$starting"
rel_log "PostgreSQL accepts connections"
rel_wait "$load"
cat "$rel_tmp/mixed.jsonl" >&2
summary=$(tail -1 "$rel_tmp/mixed.jsonl")

# The audit log drains its buffer once the database is back; wait (bounded) until nothing is pending.
for _ in $(seq 60); do
  pending=$(rel_json_num pending "$(curl -s --max-time 5 "$url/health" || true)")
  [ "${pending:-1}" = 0 ] && break
  sleep 0.5
done

# window KIND STATUS [!=]: responses of KIND inside the outage with that status (with "!=": with any other).
window() {
  awk -F, -v a="$down_ms" -v b="$start_ms" -v k="$1" -v s="$2" -v op="${3:-==}" \
    '$2 == k && (op == "!=" ? $3 != s : $3 == s) && $1 >= a && $1 < b { n++ } END { print n + 0 }' "$timeline"
}
total() { awk -F, -v k="$1" -v s="$2" '$2 == k && $3 == s { n++ } END { print n + 0 }' "$timeline"; }
first_write=$(awk -F, -v t="$up_ms" '$2 == "events" && $3 == 200 && $1 >= t { print $1; exit }' <(sort -t, -k1,1n "$timeline"))
recovery_ms=null   # no write acknowledged after the restart
if [ -n "$first_write" ]; then recovery_ms=$((first_write - up_ms)); fi
feeds_ok=$(total feed 200)
served=$(rel_sql "select count(*) from served_lists")
acknowledged=$(rel_json_num acknowledged "$summary")
stored=$(rel_count_back "$summary")
without_db=$(rel_json_num feedsWithoutDatabase "$health_during")
buffered=$(rel_json_num pending "$health_during")
echo "health during the outage: $health_during" >&2
alive=$(kill -0 "$service" 2>/dev/null && echo true || echo false)
cat <<JSON
{"script":"db-outage","serviceStayedUp":$alive,"outageSeconds":$(( (start_ms - down_ms) / 1000 )),"feedsOkDuringOutage":$(window feed 200),"feedsFailedDuringOutage":$(window feed 200 '!='),"eventBatches503DuringOutage":$(window events 503),"eventBatchesOkDuringOutage":$(window events 200),"unavailableWithRetryAfter":"$(rel_json_num unavailableWithRetryAfter "$summary")/$(rel_json_num unavailable "$summary")","healthDuringOutage":{"feedsWithoutDatabase":${without_db:-null},"auditBuffered":${buffered:-null}},"recoveryMs":$recovery_ms,"feedsOk":$feeds_ok,"servedListsStored":$served,"auditPendingAfter":${pending:-null},"eventsAcknowledged":${acknowledged:-null},"eventsStored":$stored}
JSON
