#!/usr/bin/env bash
# Beyond one machine, on loopback: the compose profile "replicas" as processes. Two service replicas that only serve
# and one training worker (Release build) on a PostgreSQL cluster of its own (common.sh), each with a home of
# its own but one shared Data Protection key folder (as the compose volume), behind Debian's nginx with the
# repository's own load-balancer template. An admin signs in through nginx and uses that cookie on every process;
# feeds go through nginx while the admin trains a new model through nginx, which routes it to the worker. The script
# shows that both replicas serve the new version within seconds and that requests were spread over both. Figures
# are JSON lines on stdout.
#   tests/reliability/replicas.sh [SECONDS]     SECONDS: the most to wait for the switch (default 90)
# Loopback only, at most 2 clients in flight, stops by itself and removes what it made. Exit status 1 if a check failed.
source "$(dirname "$0")/common.sh"
limit=${1:-90}
base=${REPLICAS_PORT:-5291}            # nginx on base, replicas on base+1 and base+2, the worker on base+3
clients=2
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx from Debian's packages…" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for p in $((base)) $((base + 1)) $((base + 2)) $((base + 3)); do
  port_busy "$p" && { echo "port $p is in use; set REPLICAS_PORT to another base" >&2; exit 2; }
done

rel_build
rel_cluster

# One database: the demo catalog and a first model, as the compose profile's migrate step and a first training would leave it.
cli import movietweetings "$rel_root/../shared/data/movietweetings-100k" >&2
rel_train
key=$(cli keys create --name replicas --scope feeds --quiet)
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" | cli users create --login replicas-admin --role admin --quiet >/dev/null
first=$(rel_sql "select version from models where is_active")
mapfile -t users < <(rel_sql "select external_id from users where external_id is not null order by id limit 500")

# The processes, configured as in docker-compose.yml: replicas serve only; the worker trains (here only on demand).
# Each has its own home, whose default Data Protection folder is the shared one. The worker starts first, as compose
# starts it, so that one key is made and the others find it.
mkdir -p "$rel_tmp/keys"
start_service() { # name port training-enabled; sets $rel_spawned
  mkdir -p "$rel_tmp/home-$1/.aspnet" && ln -s "$rel_tmp/keys" "$rel_tmp/home-$1/.aspnet/DataProtection-Keys"
  rel_spawn "$1" "$2" HOME="$rel_tmp/home-$1" ASPNETCORE_FORWARDEDHEADERS_ENABLED=true Recommender__TrainingEnabled="$3" \
    Logging__LogLevel__Recommender=Information
}
start_service trainer $((base + 3)) true; trainer=$rel_spawned
rel_await_healthy trainer "$trainer" $((base + 3))
start_service replica-1 $((base + 1)) false; replica_1=$rel_spawned
start_service replica-2 $((base + 2)) false; replica_2=$rel_spawned
rel_await_healthy replica-1 "$replica_1" $((base + 1)); rel_await_healthy replica-2 "$replica_2" $((base + 2))

# nginx with the repository's template, filled in for loopback, inside a minimal main configuration of its own. This
# copy also names the replica that answered in X-Upstream, so the script can attribute each response.
REPLICA_1=127.0.0.1:$((base + 1)) REPLICA_2=127.0.0.1:$((base + 2)) TRAINER=127.0.0.1:$((base + 3)) LISTEN_PORT=127.0.0.1:$base \
  envsubst '${REPLICA_1} ${REPLICA_2} ${TRAINER} ${LISTEN_PORT}' <"$rel_root/src/Recommender.Service/nginx.conf.template" >"$rel_tmp/recommender.conf"
cat >"$rel_tmp/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $rel_tmp/nginx.pid;
error_log $rel_tmp/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $rel_tmp/client-body;
    proxy_temp_path $rel_tmp/proxy;
    fastcgi_temp_path $rel_tmp/fastcgi;
    uwsgi_temp_path $rel_tmp/uwsgi;
    scgi_temp_path $rel_tmp/scgi;
    add_header X-Upstream \$upstream_addr always;
    include $rel_tmp/recommender.conf;
}
EOF
# nginx's workers drop root and need to reach their temp folders there: common.sh makes the folder world-readable.
rel_bg "$nginx_bin" -p "$rel_tmp" -e "$rel_tmp/nginx-error.log" -c "$rel_tmp/nginx.conf"
rel_logs+=("$rel_tmp/nginx-error.log")
lb="http://127.0.0.1:$base"
for _ in $(seq 20); do curl -s -o /dev/null "$lb/health" && break; sleep 0.25; done

# Feeds through nginx until told to stop or the deadline passes. One line per request: time, status, replica, model.
deadline=$(( EPOCHSECONDS + limit + 10 ))
client() {
  while [ ! -e "$rel_tmp/stop" ] && [ "$EPOCHSECONDS" -lt "$deadline" ]; do
    local user=${users[RANDOM % ${#users[@]}]} t=$EPOCHREALTIME out version=-
    out=$(curl -s --max-time 5 -H "X-Api-Key: $key" -w '\n%{http_code} %header{x-upstream}' "$lb/api/platform/users/$user/feed?k=20") || true
    [[ $out =~ \"modelVersion\":\"([^\"]+)\" ]] && version=${BASH_REMATCH[1]}
    local last=${out##*$'\n'}
    last=${last//, /,} # a request retried on the other replica names both
    echo "$t ${last:-000} ${version}" >>"$rel_tmp/requests.$1"
  done
}
clients_pids=()
for c in $(seq $clients); do rel_bg client "$c"; clients_pids+=("$rel_bg_pid"); done

# The admin signs in through nginx, and the cookie is honoured by whichever replica gets the next requests.
signed_in_via=$(curl -s -o /dev/null -c "$rel_tmp/cookies" -H 'Content-Type: application/json' -w '%{http_code} %header{x-upstream}' \
  -d "{\"login\":\"replicas-admin\",\"password\":\"$password\"}" "$lb/api/auth/sign-in")
for _ in $(seq 6); do
  curl -s -o /dev/null -b "$rel_tmp/cookies" -w '%{http_code} %header{x-upstream}\n' "$lb/api/admin/models" >>"$rel_tmp/session"
done
session=$(awk -v via="$signed_in_via" '$1 == 200 { ok[$2]++; next } { refused++ }
  END { split(via, v, " "); printf "{\"replicas\":\"session\",\"sign_in\":%s,\"signed_in_via\":\"%s\",\"accepted_by\":{", v[1], v[2]
        sep = ""; for (r in ok) { printf "%s\"%s\":%d", sep, r, ok[r]; sep = "," } printf "},\"refused\":%d,\"keys_in_ring\":%d}\n", refused, keys }' keys="$(find "$rel_tmp/keys" -name 'key-*.xml' | wc -l)" "$rel_tmp/session")
echo "$session"
# Signed in, and honoured by both replicas with no refusal.
session_ok=$(awk -v via="$signed_in_via" '$1 == 200 { r[$2] = 1; next } { bad = 1 } END { print (via ~ /^200 / && !bad && length(r) == 2) ? 1 : 0 }' "$rel_tmp/session")

# After some feeds with the first model, the admin trains through nginx with the same cookie; nginx sends it to the
# worker, which answers when the new model is trained and, past the quality gate, activated.
sleep 2
train=$(curl -s --max-time "$limit" -b "$rel_tmp/cookies" -X POST -w '\n%{http_code} %header{x-upstream}' "$lb/api/admin/models/train" || true)
train_route=${train##*$'\n'}

# Then wait for a response from each replica carrying the new version, and two more seconds of traffic, in which a
# replica that switched must never answer with the old model again.
read -r version activated < <(rel_sql "select version, extract(epoch from activated_at) from models where is_active and version <> $first" | tr '|' ' ') || true
end=$(( EPOCHSECONDS + limit ))
while [ -n "$activated" ] && [ "$EPOCHSECONDS" -lt "$end" ]; do
  sleep 0.5
  switched=$(cat "$rel_tmp"/requests.* 2>/dev/null | awk -v v="$version" '$4 == v { s[$3] = 1 } END { print length(s) }' || echo 0)
  [ "$switched" -ge 2 ] && { sleep 2; break; }
done
touch "$rel_tmp/stop"
for pid in "${clients_pids[@]}"; do rel_wait "$pid" || true; done

# Every feed served is in the audit log, whichever replica served it (the writers flush in the background).
served=$(cat "$rel_tmp"/requests.* | awk '$2 == 200 { n++ } END { print n + 0 }')
for _ in $(seq 40); do
  recorded=$(rel_sql "select count(*) from served_lists")
  [ "$recorded" -ge "$served" ] && break
  sleep 0.25
done
echo "{\"replicas\":\"audit\",\"feeds_served\":$served,\"audit_records\":$recorded}"

# What one event, one audit record and one model cost here, and what each process holds in memory: the inputs of the
# capacity arithmetic in the README. Sizes include indexes and TOAST.
rss() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo null; }
rel_sql "select json_build_object('replicas', 'storage',
    'events', (select count(*) from events), 'bytes_per_event', pg_total_relation_size('events') / greatest((select count(*) from events), 1),
    'served_lists', (select count(*) from served_lists), 'bytes_per_served_list', pg_total_relation_size('served_lists') / greatest((select count(*) from served_lists), 1),
    'items', (select count(*) from items), 'users', (select count(*) from users),
    'model_payload_bytes', (select octet_length(payload) from models where is_active))"
echo "{\"replicas\":\"memory\",\"rss_mb\":{\"replica-1\":$(rss "$replica_1"),\"replica-2\":$(rss "$replica_2"),\"trainer\":$(rss "$trainer")}}"

trained_by=$( (grep -l "Training run" "$rel_tmp"/replica-*.log "$rel_tmp"/trainer.log || true) | xargs -r -n1 basename | sed 's/\.log$//' | paste -sd, -)

cat "$rel_tmp"/requests.* | sort -n | awk -v first="$first" -v version="${version:-none}" -v activated="${activated:-0}" \
  -v r1="127.0.0.1:$((base + 1))" -v r2="127.0.0.1:$((base + 2))" -v trainer="127.0.0.1:$((base + 3))" \
  -v route="$train_route" -v load="$(cut -d' ' -f1 /proc/loadavg)" -v trained_by="$trained_by" -v audited="$([ "$recorded" -eq "$served" ] && echo 1 || echo 0)" \
  -v session_ok="$session_ok" '
  {
    n++; status[$2]++
    if ($2 != 200) { errors++; next }
    per[$3]++
    if ($4 == version) { if (!($3 in on)) on[$3] = $1 }
    else if ($4 == first) { if ($3 in on) stale[$3]++; else last_old[$3] = $1 }
  }
  END {
    ok = audited == 1 && session_ok == 1
    printf "{\"replicas\":\"activation\",\"previous_version\":%s,\"new_version\":%s,\"trained_by\":\"%s\",\"load_average_1m\":%s}\n", first, version == "none" ? "null" : version, trained_by, load
    if (version == "none" || trained_by != "trainer") ok = 0
    split(r1 " " r2, rs, " ")
    for (i = 1; i <= 2; i++) {
      r = rs[i]
      if (r in on)
        printf "{\"replicas\":\"switch\",\"replica\":\"%s\",\"seconds_after_activation\":%.3f,\"last_old_response_after\":%.3f,\"old_model_after_switch\":%d}\n", r, on[r] - activated, (r in last_old) ? last_old[r] - activated : -1, stale[r]
      else { printf "{\"replicas\":\"switch\",\"replica\":\"%s\",\"seconds_after_activation\":null}\n", r; ok = 0 }
      if (stale[r] > 0 || per[r] == 0) ok = 0
    }
    codes = ""; for (s in status) codes = codes (codes == "" ? "" : ",") "\"" s "\":" status[s]
    printf "{\"replicas\":\"requests\",\"total\":%d,\"per_replica\":{\"%s\":%d,\"%s\":%d},\"errors\":%d,\"status\":{%s}}\n", n, r1, per[r1], r2, per[r2], errors, codes
    if (errors > 0) ok = 0
    split(route, rt, " ")
    printf "{\"replicas\":\"train\",\"status\":%s,\"answered_by\":\"%s\",\"worker\":\"%s\"}\n", rt[1] == "" ? "null" : rt[1], rt[2], trainer
    if (rt[1] != 200 || rt[2] != trainer) ok = 0
    printf "{\"replicas\":\"result\",\"ok\":%s}\n", ok ? "true" : "false"
    exit ok ? 0 : 1
  }'
