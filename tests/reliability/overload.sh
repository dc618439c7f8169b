#!/usr/bin/env bash
# Overload: the REST service offered twice its measured saturation rate, then half of it.
#   tests/reliability/overload.sh DATA_DIR [SECONDS]
# DATA_DIR is synthetic data (the generator's output for "20000 50000 1000000" gives 50,000 items). On a cluster of its
# own (common.sh) it trains a k=64 model, starts the service in Release, warms it up, measures saturation (64 in
# flight), then offers 2× that rate open-loop for SECONDS (default 60) and ½× for 15 s right after. Each phase prints
# one JSON line; a last line says whether the process stayed up, its memory, and whether every check held. Loopback
# only, bounded in time; exits 1 when a check fails.
source "$(dirname "$0")/common.sh"
data=${1:?usage: overload.sh DATA_DIR [SECONDS]}
seconds=${2:-60}

rel_setup "$data"
rel_train --rank 64
rel_start_service
serve() { cli bench serve --url "$url" --api-key "$key" --users "$users" "$@"; }
rss_mb() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$service/status"; }

# The JIT's final tier needs a few thousand calls of each method; figures before that measure the compiler.
rel_log "warm-up"
serve --duration 20 --concurrency 32 >/dev/null
saturation=$(serve --duration 20 --concurrency 64)
echo "$saturation"
rate=$(rel_json_num PerSecond "$saturation" | awk '{ printf "%d", $1 }')
[ "${rate:-0}" -gt 0 ] || { echo "no saturation rate in: $saturation" >&2; exit 1; }
rss_before=$(rss_mb)

rel_log "overload: $((2 * rate))/s for ${seconds} s"
overload=$(serve --duration "$seconds" --rate $((2 * rate)) --concurrency 2048 | sed 's/"bench":"serve"/"bench":"overload"/')
echo "$overload"
alive=true; kill -0 "$service" 2>/dev/null || alive=false
health=$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)
rss_after=$(rss_mb 2>/dev/null || echo 0)

rel_log "recovery: $((rate / 2))/s for 15 s"
recovery=$(serve --duration 15 --rate $((rate / 2)) --concurrency 256 | sed 's/"bench":"serve"/"bench":"recovery"/')
echo "$recovery"

# The checks: still up and healthy; every overload answer a 200 or a 503 (no transport error, nothing else), and some
# 503s, or it was not overloaded; recovery without a single refusal.
over_errors=$(rel_json_num Errors "$overload"); over_503=$(rel_json_num 503 "$overload"); over_503=${over_503:-0}
ok=true
[ "$alive" = true ] && [ "$health" = 200 ] || ok=false
[ "$over_503" -gt 0 ] && [ "$over_errors" = "$over_503" ] || ok=false
[ "$(rel_json_num Errors "$recovery")" = 0 ] || ok=false
echo "{\"bench\":\"overload-summary\",\"saturationPerSecond\":$rate,\"offeredPerSecond\":$((2 * rate)),\"seconds\":$seconds,\"alive\":$alive,\"health\":$health,\"rssMbBefore\":$rss_before,\"rssMbAfter\":$rss_after,\"refused503\":$over_503,\"otherErrors\":$((over_errors - over_503)),\"ok\":$ok}"
[ "$ok" = true ]
