#!/usr/bin/env bash
# GET-by-id throughput of a generated service, against a reference measured
# in the same run on the same machine: `pgbench -S -M prepared` (a primary-key
# SELECT with no HTTP in front of it) and a static endpoint of the same
# service (`/livez`: HTTP with no database behind it).
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), wrk and
# pgbench. Usage: bench/http.sh [seconds per run, default 10]
# Results go to stdout; bench/RESULTS.md records the ones we took.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/seed.sh

SECONDS_PER_RUN="${1:-10}"
CLIENTS=8
THREADS=2
PORT=18181
DB=scaffold_bench
work="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --locked --quiet
./target/release/scaffold new "$work/shop" --spec specs/shop.yaml 2>/dev/null
# The service's release build (LTO) goes to target/bench, reused across runs.
cargo build --release --locked --quiet --manifest-path "$work/shop/Cargo.toml" --target-dir target/bench
bin=target/bench/release/shop

psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $DB"

DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" BIND_ADDR="127.0.0.1:$PORT" \
  DATABASE_MAX_CONNECTIONS=$CLIENTS RUST_LOG=warn RATE_LIMIT_ENABLED=false \
  JWT_SECRET="bench-secret-that-is-long-enough-for-hs256" "$bin" >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

# 1,000 users, read back at random by an admin.
seed_users "$PORT" "$DB" "$work"

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "== GET /v1/users/{id} (wrk -t$THREADS -c$CLIENTS -d${SECONDS_PER_RUN}s)"
wrk -t$THREADS -c$CLIENTS -d"${SECONDS_PER_RUN}s" -s "$work/get.lua" -H "authorization: Bearer $token" \
  "http://127.0.0.1:$PORT" >"$work/get.txt"
cat "$work/get.txt"
if grep -q "Non-2xx" "$work/get.txt"; then echo "GET by id answered errors; see above" >&2; exit 1; fi
get=$(rps <"$work/get.txt")
echo "== GET /livez"
wrk -t$THREADS -c$CLIENTS -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$PORT/livez" >"$work/livez.txt"
cat "$work/livez.txt"
livez=$(rps <"$work/livez.txt")
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "== pgbench -S -M prepared -c$CLIENTS -j$THREADS -T$SECONDS_PER_RUN"
pgbench -h 127.0.0.1 -U postgres -i -q -s 1 "$DB" >/dev/null 2>&1
tps=$(pgbench -h 127.0.0.1 -U postgres -S -M prepared -c$CLIENTS -j$THREADS -T"$SECONDS_PER_RUN" "$DB" 2>/dev/null |
  awk '/^tps/ {print $3; exit}')
psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"

echo
printf 'GET by id          %10.0f req/s\n' "$get"
printf '/livez (static)    %10.0f req/s\n' "$livez"
printf 'pgbench -S         %10.0f tps\n' "$tps"
awk -v a="$get" -v b="$tps" 'BEGIN { printf "GET / pgbench      %10.2f\n", a / b }'
awk -v a="$get" -v b="$livez" 'BEGIN { printf "GET / static       %10.2f\n", a / b }'
printf 'service RSS        %10d KiB (after the runs)\n' "$rss_kib"
