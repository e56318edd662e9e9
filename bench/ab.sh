#!/usr/bin/env bash
# Two builds of the `library` service of bench/run.sh (before and after a
# change) and the hand-written reference, side by side in one run: the public
# GET by id and `/livez`, wrk -t2 -c8, interleaved repetitions, medians, and
# the server's CPU per request. All three read the same table over
# sslmode=$BENCH_SSLMODE (default `disable`: the reference has no TLS).
#
#   bench/ab.sh BEFORE_BINARY AFTER_BINARY REFERENCE_BINARY [seconds, default 10] [repetitions, default 3]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
usage="usage: bench/ab.sh BEFORE_BINARY AFTER_BINARY REFERENCE_BINARY [seconds] [repetitions]"
before_bin=${1:?$usage} after_bin=${2:?$usage} ref_bin=${3:?$usage}
SECS=${4:-10} REPS=${5:-3}
SSLMODE=${BENCH_SSLMODE:-disable}
DB=scaffold_bench_ab
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=$SSLMODE"
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
declare -A port=([before]=18391 [after]=18392 [reference]=18393) pid=()
work=$(mktemp -d)
cleanup() {
  for name in "${!pid[@]}"; do kill "${pid[$name]}" 2>/dev/null || true; done
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_ready() { # port path
  for _ in $(seq 1 300); do curl -sf "127.0.0.1:$1$2" >/dev/null && return; sleep 0.1; done
  echo "nothing answers 127.0.0.1:$1$2" >&2
  exit 1
}
start() { # name binary
  env DATABASE_URL="$URL" BIND_ADDR="127.0.0.1:${port[$1]}" RUST_LOG=warn DATABASE_MAX_CONNECTIONS=8 POOL=8 \
    RATE_LIMIT_ENABLED=true "$2" >"$work/$1.log" 2>&1 &
  pid[$1]=$!
  wait_ready "${port[$1]}" /livez
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
start after "$after_bin" # migrates
"${PSQL[@]}" -d "$DB" -c "INSERT INTO authors (name, born_on, website, bio)
  SELECT 'Author ' || g, date '1900-01-01' + g, 'https://example.com/' || g, repeat('bio ', 20)
  FROM generate_series(1, 1000) g" -c "ANALYZE authors"
start before "$before_bin"
start reference "$ref_bin"
cat >"$work/get.lua" <<'LUA'
math.randomseed(42)
request = function()
  return wrk.format("GET", path_prefix .. math.random(1, 1000))
end
LUA
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
measure() { # name case
  local name=$1 case=$2 p=${port[$1]} prefix c0 c1
  prefix=/v1/authors/
  [ "$name" = reference ] && prefix=/authors/
  c0=$(cpu "${pid[$name]}")
  if [ "$case" = get ]; then
    sed "1i path_prefix = \"$prefix\"" "$work/get.lua" >"$work/get-$name.lua"
    wrk -t2 -c8 -d"${SECS}s" -s "$work/get-$name.lua" "http://127.0.0.1:$p" >"$work/out"
  else
    wrk -t2 -c8 -d"${SECS}s" "http://127.0.0.1:$p/livez" >"$work/out"
  fi
  c1=$(cpu "${pid[$name]}")
  # A wrk timeout (no answer within 2 s on this loaded machine) is counted,
  # not fatal; an error status or a failed connection is.
  if grep -q "Non-2xx\|Socket errors: connect [1-9]\|read [1-9]\|write [1-9]" "$work/out"; then
    cat "$work/out" >&2
    exit 1
  fi
  awk '/Requests\/sec/ { print $2 }' "$work/out" >>"$work/$name-$case.rps"
  awk -v t="$((c1 - c0))" -v hz="$ticks" '/requests in/ { printf "%.1f\n", t / hz * 1e6 / $1 }' "$work/out" >>"$work/$name-$case.cpu"
  printf '== %s %s: %s req/s, %s us CPU/request\n' "$name" "$case" "$(tail -1 "$work/$name-$case.rps")" "$(tail -1 "$work/$name-$case.cpu")" >&2
}
for _ in $(seq 1 "$REPS"); do
  for case in get livez; do
    for name in before after reference; do measure "$name" "$case"; done
  done
done
median() { sort -g "$work/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
runs() { paste -sd/ "$work/$1" | sed 's|\.[0-9]*||g'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '\n%s, load %s: wrk -t2 -c8 -d%ss, %s interleaved repetitions, medians; sslmode=%s\n\n' \
  "$(date -u +'%Y-%m-%d %H:%M UTC')" "$(cut -d' ' -f1-3 /proc/loadavg)" "$SECS" "$REPS" "$SSLMODE"
printf '| case | before req/s (runs) | after req/s (runs) | reference req/s (runs) | before / reference | after / reference | CPU µs/req before, after, reference |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for case in get livez; do
  b=$(median "before-$case.rps") a=$(median "after-$case.rps") r=$(median "reference-$case.rps")
  printf '| %s | %.0f (%s) | %.0f (%s) | %.0f (%s) | %s | %s | %s, %s, %s |\n' "$case" \
    "$b" "$(runs "before-$case.rps")" "$a" "$(runs "after-$case.rps")" "$r" "$(runs "reference-$case.rps")" \
    "$(ratio "$b" "$r")" "$(ratio "$a" "$r")" \
    "$(median "before-$case.cpu")" "$(median "after-$case.cpu")" "$(median "reference-$case.cpu")"
done
