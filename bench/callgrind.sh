#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: deterministic
# where wall-clock figures on a shared 2-core machine are not. Each server
# runs under callgrind with instrumentation off; after a warm-up, counting is
# switched on, a fixed number of requests is sent over one keep-alive
# connection (curl's URL globbing), and the counts are dumped. The client,
# the kernel and PostgreSQL are not counted: only the server process's own
# user-space work (every thread, the pool's background tasks included).
#
#   bench/callgrind.sh GENERATED_BINARY REFERENCE_BINARY [requests, default 1000] [label]
#
# GENERATED_BINARY is a release build of the `library` service of
# bench/run.sh (an `author` resource, limiter on); REFERENCE_BINARY the
# hand-written reference (../shared/bench/reference-axum-sqlx). Both connect
# with the same DATABASE_URL, whose `sslmode` is $BENCH_SSLMODE (default
# `disable`: loopback, as the reference is built without TLS; `prefer` is
# sqlx's default and negotiates TLS when the server offers it). Cases: the
# public GET by id (ids 1..N over 1,000 rows) and `/livez`, for each binary.
# Prints a table of instructions per request and leaves the callgrind files
# (for callgrind_annotate) in $BENCH_CALLGRIND_OUT (default target/callgrind).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. bench/lib.sh
gen_bin=${1:?usage: bench/callgrind.sh GENERATED_BINARY REFERENCE_BINARY [requests] [label]}
ref_bin=${2:?usage: bench/callgrind.sh GENERATED_BINARY REFERENCE_BINARY [requests] [label]}
N=${3:-1000}
label=${4:-run}
SSLMODE=${BENCH_SSLMODE:-disable}
OUT=${BENCH_CALLGRIND_OUT:-target/callgrind}
work=$OUT         # where wait_ready sends the reader for the services' logs
READY_TRIES=1200  # a service starting under valgrind: up to 2 minutes
DB=scaffold_bench_callgrind
PORT=18291
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=$SSLMODE"
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
for tool in valgrind callgrind_control curl psql; do
  command -v "$tool" >/dev/null || { echo "bench/callgrind.sh needs $tool" >&2; exit 1; }
done
mkdir -p "$OUT"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
}
trap cleanup EXIT

# requests PATH-WITH-GLOB: sends them over one connection; every answer must be 200.
requests() {
  local codes
  codes=$(curl -s "http://127.0.0.1:$PORT$1" -w '%{stderr}%{http_code}\n' 2>&1 >/dev/null | sort | uniq -c)
  [ "$(awk '{ print $2 }' <<<"$codes")" = 200 ] || { echo "non-200 answers for $1: $codes" >&2; exit 1; }
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
# The generated service migrates on start; then the rows both binaries read.
env DATABASE_URL="$URL" BIND_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$gen_bin" >/dev/null 2>&1 &
pid=$!
wait_ready "$PORT" /readyz
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
"${PSQL[@]}" -d "$DB" -c "INSERT INTO authors (name, born_on, website, bio)
  SELECT 'Author ' || g, date '1900-01-01' + g, 'https://example.com/' || g, repeat('bio ', 20)
  FROM generate_series(1, 1000) g" -c "ANALYZE authors"

declare -A result=()
# profile NAME BINARY GET-PREFIX: the GET and /livez cases of one binary.
profile() {
  local name=$1 bin=$2 prefix=$3 case path
  env DATABASE_URL="$URL" BIND_ADDR="127.0.0.1:$PORT" RUST_LOG=warn DATABASE_MAX_CONNECTIONS=8 POOL=8 \
    RATE_LIMIT_ENABLED=true \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/$label-$name.%p" \
    "$bin" >"$OUT/$label-$name.log" 2>&1 &
  pid=$!
  wait_ready "$PORT" /livez
  for case in get livez; do
    if [ "$case" = get ]; then path="$prefix/[1-$N]"; else path="/livez?[1-$N]"; fi
    requests "${path/\[1-$N\]/[1-200]}" # warm: statements prepared, pool filled
    result[$name-$case]=$(callgrind_count "$pid" "$OUT/$label-$name" "$OUT/$label-$name-$case.out" "$path")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$OUT/$label-$name.$pid"*
  pid=
}
profile generated "$gen_bin" /v1/authors
profile reference "$ref_bin" /authors

printf '\n%s: %s requests per case, sslmode=%s, instructions per request (callgrind Ir)\n\n' "$label" "$N" "$SSLMODE"
printf '| case | generated | reference | generated / reference |\n| --- | ---: | ---: | ---: |\n'
for case in get livez; do
  g=${result[generated-$case]} r=${result[reference-$case]}
  printf '| %s | %s | %s | %s |\n' "$case" "$(per "$g")" "$(per "$r")" "$(ratio "$g" "$r")"
done
