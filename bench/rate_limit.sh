#!/usr/bin/env bash
# What the rate limiter costs per request, measured against the same service
# with limiting off, in one run on one machine: GET /v1/users/{id} (the
# starter spec, auth on, the row cache-aside) four ways:
#
#   1. limits off, in-process cache        (reference for 2)
#   2. limits on,  in-process buckets
#   3. limits off, cache in Redis           (reference for 4)
#   4. limits on,  buckets in Redis (one Lua script per request)
#
# The spec's limits are raised (1,000,000 tokens, refilled 1,000,000 a second)
# so every request is admitted and the bucket work is all that differs.
# Redis is a private redis-server on a spare port.
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres), wrk and
# redis-server. Usage: bench/rate_limit.sh [seconds per run, default 10]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. bench/seed.sh
for tool in wrk redis-server pg_isready; do
  command -v "$tool" >/dev/null || { echo "bench/rate_limit.sh needs $tool (wrk: apt-get install wrk)" >&2; exit 1; }
done

SECONDS_PER_RUN="${1:-10}"
CLIENTS=8
THREADS=2
PORT=18182
REDIS_PORT=18183
DB=scaffold_bench_limits
work="$(mktemp -d)"
pid=
redis_pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --locked --quiet
sed -e 's/^service: shop$/service: limits/' \
  -e 's/^rate_limit: .*/rate_limit: { capacity: 1000000, refill_per_second: 1000000 }/' \
  specs/shop.yaml >"$work/spec.yaml"
./target/release/scaffold new "$work/limits" --spec "$work/spec.yaml" >/dev/null 2>&1
cargo build --release --locked --quiet --manifest-path "$work/limits/Cargo.toml" --target-dir target/bench
bin=target/bench/release/limits

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
redis_pid=$!
psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $DB"

start() { # limits-enabled redis-url
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" BIND_ADDR="127.0.0.1:$PORT" \
    DATABASE_MAX_CONNECTIONS=$CLIENTS RUST_LOG=warn RATE_LIMIT_ENABLED="$1" REDIS_URL="$2" \
    JWT_SECRET="bench-secret-that-is-long-enough-for-hs256" "$bin" >>"$work/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "the service did not start" >&2
  exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# 1,000 users, read back at random by an admin.
start false ""
seed_users "$PORT" "$DB" "$work"
stop

run() { # name limits-enabled redis-url
  start "$2" "$3"
  wrk -t$THREADS -c$CLIENTS -d"${SECONDS_PER_RUN}s" -s "$work/get.lua" -H "authorization: Bearer $token" \
    "http://127.0.0.1:$PORT" >"$work/$1.txt"
  stop
  if grep -q "Non-2xx" "$work/$1.txt"; then
    cat "$work/$1.txt"
    echo "$1 answered errors; see above" >&2
    exit 1
  fi
  awk '/Requests\/sec/ {print $2}' "$work/$1.txt"
}
redis="redis://127.0.0.1:$REDIS_PORT"
off_local=$(run off-local false "")
on_local=$(run on-local true "")
off_redis=$(run off-redis false "$redis")
on_redis=$(run on-redis true "$redis")
keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'limits:rl:*' | wc -l)
psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"

echo
printf 'limits off, in-process cache   %10.0f req/s\n' "$off_local"
printf 'limits on,  in-process buckets %10.0f req/s\n' "$on_local"
printf 'limits off, Redis cache        %10.0f req/s\n' "$off_redis"
printf 'limits on,  Redis buckets      %10.0f req/s\n' "$on_redis"
awk -v a="$on_local" -v b="$off_local" 'BEGIN { printf "in-process buckets / off      %10.2f\n", a / b }'
awk -v a="$on_redis" -v b="$off_redis" 'BEGIN { printf "Redis buckets / off           %10.2f\n", a / b }'
printf 'bucket keys left in Redis      %10d\n' "$keys"
