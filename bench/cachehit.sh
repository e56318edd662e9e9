#!/usr/bin/env bash
# The authenticated cache hit of the starter spec, before and after a change,
# in one run: two release builds of the `shopbench` service of bench/run.sh
# (specs/shop.yaml with its limits raised), each measured two ways against
# its own `/livez`:
#
#   1. instructions per request (callgrind Ir, as bench/callgrind.sh counts
#      them: the server process's user-space work only): N GET /v1/users/{id}
#      (ids 1..N, every one read once before counting, so all are hits) and
#      N `/livez`, over one keep-alive connection, with the row cache in
#      process and in Redis (a private redis-server, no local tier);
#   2. throughput: wrk -t2 -c8 of the in-process hit (random ids of 1,000,
#      every one read first) and of `/livez`, interleaved repetitions,
#      medians, and their ratio (the issue's target: hit >= 0.8x /livez).
#
#   bench/cachehit.sh BEFORE_BINARY AFTER_BINARY [requests, default 1000] [seconds, default 5] [repetitions, default 3]
#
# Every request carries the admin's access token (bench/seed.sh), verified
# and checked for revocation on the way in. The callgrind files are left in
# $BENCH_CALLGRIND_OUT (default target/callgrind) for callgrind_annotate.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. bench/seed.sh
. bench/lib.sh
usage="usage: bench/cachehit.sh BEFORE_BINARY AFTER_BINARY [requests] [seconds] [repetitions]"
declare -A bin=([before]=${1:?$usage} [after]=${2:?$usage})
N=${3:-1000} SECS=${4:-5} REPS=${5:-3}
((N <= 1000)) || { echo "at most 1000 requests: there are 1,000 users" >&2; exit 2; }
SSLMODE=${BENCH_SSLMODE:-disable}
OUT=${BENCH_CALLGRIND_OUT:-target/callgrind}
DB=scaffold_bench_cachehit
PORT=18401 PORT_REDIS=18402
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=$SSLMODE"
SECRET="bench-secret-that-is-long-enough-for-hs256"
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
for tool in valgrind callgrind_control curl psql wrk redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench/cachehit.sh needs $tool" >&2; exit 1; }
done
mkdir -p "$OUT"
work=$(mktemp -d)
pid= redis_pid=
declare -A port=([before]=18403 [after]=18404) pids=()
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  for name in "${!pids[@]}"; do kill "${pids[$name]}" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

READY_TRIES=1200 # a service starting under valgrind: up to 2 minutes
THREADS=2 CLIENTS=8 SECONDS_PER_RUN=$SECS
# serve PORT [VAR=value...] COMMAND...: the service (or valgrind running it)
# on PORT, in the background; its pid is left in $pid.
serve() {
  local port=$1
  shift
  env DATABASE_URL="$URL" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn DATABASE_MAX_CONNECTIONS=8 \
    RATE_LIMIT_ENABLED=true JWT_SECRET="$SECRET" "$@" >>"$work/service.log" 2>&1 &
  pid=$!
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
# requests PATH-WITH-GLOB: sends them over one connection; every answer must be 200.
requests() {
  local codes
  codes=$(curl -s -H "authorization: Bearer $token" "http://127.0.0.1:$PORT$1" \
    -w '%{stderr}%{http_code}\n' 2>&1 >/dev/null | sort | uniq -c)
  [ "$(awk '{ print $2 }' <<<"$codes")" = 200 ] || { echo "non-200 answers for $1: $codes" >&2; exit 1; }
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
redis_pid=$!
serve "$PORT" "${bin[after]}" # migrates
wait_ready "$PORT" /readyz
seed_users "$PORT" "$DB" "$work" # 1,000 users, $token (admin), $work/get.lua
stop "$pid"
pid=

# ---------------------------------------------------------------- callgrind
declare -A result=()
# profile NAME BACKEND [VAR=value...]: the hit and /livez cases of one binary.
profile() {
  local name=$1 backend=$2 case path label=$1-$2
  shift 2
  # Entries another build stored are read the same way, but each run starts empty.
  redis-cli -p "$PORT_REDIS" flushall >/dev/null
  serve "$PORT" "$@" valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$OUT/$label.%p" "${bin[$name]}"
  wait_ready "$PORT" /livez
  for case in hit livez; do
    if [ "$case" = hit ]; then path="/v1/users/[1-$N]"; else path="/livez?[1-$N]"; fi
    requests "$path" # warm: every row cached, statements prepared, the token verified
    result[$label-$case]=$(callgrind_count "$pid" "$OUT/$label" "$OUT/$label-$case.out" "$path")
  done
  stop "$pid"
  pid=
  rm -f "$OUT/$label."*
}
for name in before after; do
  profile "$name" memory
  profile "$name" redis REDIS_URL="redis://127.0.0.1:$PORT_REDIS"
done

# ---------------------------------------------------------------- wrk
for name in before after; do
  serve "${port[$name]}" "${bin[$name]}"
  pids[$name]=$pid
  pid=
  wait_ready "${port[$name]}" /readyz
  # Every user read once: the runs below are all hits.
  wrk -t2 -c8 -d2s -s "$work/get.lua" -H "authorization: Bearer $token" "http://127.0.0.1:${port[$name]}" >/dev/null
done
auth=(-H "authorization: Bearer $token")
for _ in $(seq 1 "$REPS"); do
  for case in hit livez; do
    for name in before after; do
      if [ "$case" = hit ]; then
        measure "$name-hit" "$name" "http://127.0.0.1:${port[$name]}" -s "$work/get.lua" "${auth[@]}"
      else
        measure "$name-livez" "$name" "http://127.0.0.1:${port[$name]}/livez"
      fi
    done
  done
done

# ---------------------------------------------------------------- report
printf '\n%s, load %s: %s requests per case, sslmode=%s, instructions per request (callgrind Ir)\n\n' \
  "$(date -u +'%Y-%m-%d %H:%M UTC')" "$(cut -d' ' -f1-3 /proc/loadavg)" "$N" "$SSLMODE"
printf '| case | before | after | after / before |\n| --- | ---: | ---: | ---: |\n'
for backend in memory redis; do
  for case in hit livez; do
    b=${result[before-$backend-$case]} a=${result[after-$backend-$case]}
    printf '| %s, %s | %s | %s | %s |\n' "$case" "$backend" "$(per "$b")" "$(per "$a")" "$(ratio "$a" "$b")"
  done
done
printf '\nwrk -t2 -c8 -d%ss, %s interleaved repetitions, medians (runs); the cache in process\n\n' "$SECS" "$REPS"
printf '| build | hit req/s | /livez req/s | hit / livez | CPU µs/req hit, livez |\n| --- | ---: | ---: | ---: | ---: |\n'
for name in before after; do
  h=$(median "$name-hit" rps) l=$(median "$name-livez" rps)
  printf '| %s | %.0f (%s) | %.0f (%s) | %s | %s, %s |\n' "$name" "$h" "$(all "$name-hit")" \
    "$l" "$(all "$name-livez")" "$(ratio "$h" "$l")" "$(median "$name-hit" cpu)" "$(median "$name-livez" cpu)"
done
