#!/usr/bin/env bash
# The one benchmark runner. Every figure is taken beside a reference measured
# in the same run on the same machine, three interleaved repetitions, medians:
#
#   1. GET by id, public, uncached: a generated `library` service (an `author`
#      resource with the columns the reference reads, no auth, limiter ON and
#      every middleware on) against the hand-written reference service
#      (../shared/bench/reference-axum-sqlx, built into a scratch directory
#      outside the repository) on the same table and rows, and against
#      `pgbench -S -M prepared` with the same clients;
#   2. `/livez` of the generated service against the reference's bare route;
#   3. the starter spec (shop, limits raised so every request is admitted):
#      authenticated GET /v1/users/{id} cache hit, in process and in Redis (a
#      private redis-server), against the same process's `/livez`; create
#      (POST /v1/orders) and list page 1 (/v1/orders?sort=-created_at&status=paid);
#   4. server CPU per request ((utime+stime) of /proc/<pid>/stat over the run's
#      requests) and peak RSS (VmHWM) of every process;
#   5. a filtered, sorted list page 1,000,000 rows deep against page 1 of the
#      same query (1,300,000 orders seeded with SQL, the starter spec with its
#      list cache off so both pages run their statement), and a page of 100
#      with `?include=user` against the same page without;
#   6. generation of specs of 10, 100 and 1,000 resources (hyperfine, best of N;
#      peak RSS from /usr/bin/time), written to disk and into tmpfs;
#   7. memory: the starter's and the reference's resident set idle (just
#      started), after the measured runs, and the starter's after 48 logins
#      (six rounds of eight at once: each is an argon2 hash of 19 MiB);
#   8. with --build: cold release builds of the starter service and of the
#      reference, each in an empty CARGO_TARGET_DIR (slow): wall time and
#      CPU time (user+sys, the steadier figure on a shared machine).
#
# A dated section with the machine, the command and every figure is appended
# to bench/RESULTS.md. Needs PostgreSQL on 127.0.0.1:5432 (trust, user
# postgres), wrk, pgbench, hyperfine, redis-server, jq, curl and GNU time
# (apt-get install wrk postgresql-client hyperfine redis-server jq time).
#
# Every PostgreSQL client (the generated services, the reference, pgbench)
# connects with the same sslmode, $BENCH_SSLMODE (default `disable`): the
# reference is built without a TLS feature and can only talk plaintext, so
# that is the like-for-like pairing; without it the generated services
# (sqlx's default `prefer`, TLS built in) encrypt every round trip and the
# reference does not.
#
# Usage: bench/run.sh [seconds per run, default 10] [--build]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
repo="$PWD"
. bench/seed.sh
. bench/lib.sh

SECONDS_PER_RUN=10
BUILD=false
for arg in "$@"; do
  case "$arg" in
    --build) BUILD=true ;;
    -h | --help) sed -n '2,42p' "$0"; exit 0 ;;
    '' | *[!0-9]*) echo "usage: bench/run.sh [seconds] [--build]" >&2; exit 2 ;;
    *) SECONDS_PER_RUN=$arg ;;
  esac
done
for tool in wrk pgbench psql hyperfine redis-server redis-cli jq curl basenc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (apt-get install wrk postgresql-client hyperfine redis-server jq time)" >&2; exit 1; }
done

REPS=3
SSLMODE=${BENCH_SSLMODE:-disable}
export PGSSLMODE=$SSLMODE # pgbench and psql (libpq)
CLIENTS=8
THREADS=2
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
SECRET="bench-secret-that-is-long-enough-for-hs256"
REFERENCE_SRC="${REFERENCE_SRC:-$repo/../shared/bench/reference-axum-sqlx}"
# The reference is built outside the repository (its code is never committed).
SCRATCH="${BENCH_SCRATCH:-${XDG_CACHE_HOME:-$HOME/.cache}/scaffold-bench}"
PORT_LIB=18191 PORT_REF=18192 PORT_SHOP=18193 PORT_SHOP_REDIS=18194 PORT_DEEP=18195 PORT_REDIS=18196
DB_LIB=scaffold_bench_run_lib DB_SHOP=scaffold_bench_run_shop DB_DEEP=scaffold_bench_run_deep
work="$(mktemp -d)"
declare -A pids=()
cleanup() {
  for name in "${!pids[@]}"; do kill "${pids[$name]}" 2>/dev/null || true; done
  for db in $DB_LIB $DB_SHOP $DB_DEEP; do
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  done
  rm -rf "$work" "${SHM:-}"
}
trap cleanup EXIT

# ---------------------------------------------------------------- builds
log "building scaffold, the services (target/bench) and the reference ($SCRATCH)"
cargo build --release --locked --quiet
scaffold="$repo/target/release/scaffold"
cat >"$work/library.yaml" <<'YAML'
version: 1
service: library
# Limiter on, raised so every request is admitted: only the bucket work counts.
rate_limit: { capacity: 1000000, refill_per_second: 1000000 }
resources:
  author:
    fields:
      name: { type: string, max_length: 100 }
      born_on: { type: date, required: false }
      website: { type: url, required: false }
      bio: { type: text, required: false, max_length: 2000 }
YAML
sed -e 's/^service: shop$/service: shopbench/' \
  -e 's/^rate_limit: { capacity: 100, refill_per_second: 50,/rate_limit: { capacity: 1000000, refill_per_second: 1000000,/' \
  -e 's/create: { capacity: 20, refill_per_second: 5 }/create: { capacity: 1000000, refill_per_second: 1000000 }/' \
  -e 's/login: { capacity: 5, refill_per_second: 0.1 }/login: { capacity: 1000000, refill_per_second: 1000000 }/' \
  specs/shop.yaml >"$work/shopbench.yaml"
grep -q 'capacity: 1000000, refill_per_second: 1000000, login: { capacity: 1000000' "$work/shopbench.yaml" || { echo "shop.yaml's limits moved; fix the sed" >&2; exit 1; }
# The deep-page service: the starter spec with its list cache off, so page 1
# and the deep page both run their statement on every request.
sed -e 's/^service: shopbench$/service: shopdeep/' -e 's/cache: { ttl: 5m, lists: true }/cache: { ttl: 5m }/' \
  "$work/shopbench.yaml" >"$work/shopdeep.yaml"
grep -q 'lists: true' "$work/shopdeep.yaml" && { echo "shop.yaml's list cache moved; fix the sed" >&2; exit 1; }
for svc in library shopbench shopdeep; do
  "$scaffold" new "$work/$svc" --spec "$work/$svc.yaml" >/dev/null 2>&1
  sync_tree "$work/$svc" "target/bench/src/$svc"
  # Cargo hashes a package by name and version, not by directory: after a
  # build of a same-named service elsewhere under target/bench (a before
  # and after comparison, say), its fingerprint points at that directory's
  # files and this build would be reported fresh. Forgetting it costs one
  # compile of the service crate, never of its dependencies.
  rm -rf target/bench/release/.fingerprint/"$svc"-*
  cargo build --release --locked --quiet --manifest-path "target/bench/src/$svc/Cargo.toml" --target-dir target/bench
done
mkdir -p "$SCRATCH"
CARGO_TARGET_DIR="$SCRATCH/reference-target" cargo build --release --quiet \
  --manifest-path "$REFERENCE_SRC/Cargo.toml"
ref_bin="$SCRATCH/reference-target/release/reference-axum-sqlx"

# ---------------------------------------------------------------- processes
for db in $DB_LIB $DB_SHOP $DB_DEEP; do
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
pids[redis]=$!

start_service library target/bench/release/library "$PORT_LIB" "$DB_LIB"
"${PSQL[@]}" -d "$DB_LIB" -c "INSERT INTO authors (name, born_on, website, bio)
  SELECT 'Author ' || g, date '1900-01-01' + g, 'https://example.com/' || g, repeat('bio ', 20)
  FROM generate_series(1, 1000) g" -c "ANALYZE authors"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB_LIB?sslmode=$SSLMODE" BIND_ADDR="127.0.0.1:$PORT_REF" POOL=$CLIENTS \
  "$ref_bin" >"$work/reference.log" 2>&1 &
pids[reference]=$!
wait_ready "$PORT_REF" /livez
idle_reference=$(rss reference)
pgbench -h 127.0.0.1 -U postgres -i -q -s 1 "$DB_LIB" >/dev/null 2>&1

start_service shop target/bench/release/shopbench "$PORT_SHOP" "$DB_SHOP"
idle_shop=$(rss shop)
seed_users "$PORT_SHOP" "$DB_SHOP" "$work" # 1,000 users, $token (admin), $work/get.lua
start_service shop_redis target/bench/release/shopbench "$PORT_SHOP_REDIS" "$DB_SHOP" \
  REDIS_URL="redis://127.0.0.1:$PORT_REDIS"
"${PSQL[@]}" -d "$DB_SHOP" -c "INSERT INTO orders (user_id, total_cents, status, created_at)
  SELECT 1 + g % 1000, g, (CASE WHEN g % 5 = 0 THEN 'shipped' ELSE 'paid' END)::text::order_status,
         now() - g * interval '1 second'
  FROM generate_series(1, 10000) g" -c "ANALYZE orders"

cat >"$work/author.lua" <<'LUA'
math.randomseed(42)
request = function()
  return wrk.format("GET", "/v1/authors/" .. math.random(1, 1000))
end
LUA
sed 's|/v1/authors/|/authors/|' "$work/author.lua" >"$work/reference.lua"
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"total_cents": 1234, "note": "bench"}'
LUA
list_path='/v1/orders?sort=-created_at&status=paid'
curl -sf -H "authorization: Bearer $token" "127.0.0.1:$PORT_SHOP$list_path" | jq -e '.items | length > 0' >/dev/null ||
  { echo "list page 1 is empty or failing" >&2; exit 1; }
curl -sf -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"total_cents": 1234, "note": "bench"}' "127.0.0.1:$PORT_SHOP/v1/orders" >/dev/null ||
  { echo "POST /v1/orders fails" >&2; exit 1; }

# ---------------------------------------------------------------- measuring
pgbench_run() {
  pgbench -h 127.0.0.1 -U postgres -S -M prepared -c$CLIENTS -j$THREADS -T"$SECONDS_PER_RUN" "$DB_LIB" 2>/dev/null |
    awk '/^tps/ { print $3; exit }' >>"$work/pgbench.rps"
  log "pgbench: $(tail -1 "$work/pgbench.rps") tps"
}
auth=(-H "authorization: Bearer $token")
# Warm the row caches (every user read once per process) before the first repetition.
wrk -t$THREADS -c$CLIENTS -d2s -s "$work/get.lua" "${auth[@]}" "http://127.0.0.1:$PORT_SHOP" >/dev/null
wrk -t$THREADS -c$CLIENTS -d2s -s "$work/get.lua" "${auth[@]}" "http://127.0.0.1:$PORT_SHOP_REDIS" >/dev/null
for rep in $(seq 1 $REPS); do
  log "repetition $rep of $REPS"
  measure gen_get library "http://127.0.0.1:$PORT_LIB" -s "$work/author.lua"
  measure ref_get reference "http://127.0.0.1:$PORT_REF" -s "$work/reference.lua"
  pgbench_run
  measure gen_livez library "http://127.0.0.1:$PORT_LIB/livez"
  measure ref_livez reference "http://127.0.0.1:$PORT_REF/livez"
  measure hit_local shop "http://127.0.0.1:$PORT_SHOP" -s "$work/get.lua" "${auth[@]}"
  measure livez_local shop "http://127.0.0.1:$PORT_SHOP/livez"
  measure hit_redis shop_redis "http://127.0.0.1:$PORT_SHOP_REDIS" -s "$work/get.lua" "${auth[@]}"
  measure livez_redis shop_redis "http://127.0.0.1:$PORT_SHOP_REDIS/livez"
  measure create shop "http://127.0.0.1:$PORT_SHOP/v1/orders" -s "$work/post.lua" "${auth[@]}"
  measure list1 shop "http://127.0.0.1:$PORT_SHOP$list_path" "${auth[@]}"
done
hwm_library=$(hwm library) hwm_reference=$(hwm reference) hwm_shop=$(hwm shop) hwm_shop_redis=$(hwm shop_redis)
loaded_reference=$(rss reference) loaded_shop=$(rss shop)
# Logins: each verifies an argon2 hash in 19 MiB of working memory, a few at
# a time (the service's permits); what the process holds afterwards.
login_body='{"email": "bench@example.com", "password": "bench password 123"}'
for _ in 1 2 3 4 5 6; do
  logins=()
  for _ in 1 2 3 4 5 6 7 8; do
    curl -sf -o /dev/null -X POST -H 'content-type: application/json' -d "$login_body" \
      "127.0.0.1:$PORT_SHOP/v1/auth/login" &
    logins+=($!)
  done
  for login in "${logins[@]}"; do wait "$login" || { echo "a login failed" >&2; exit 1; }; done
done
logins_shop=$(rss shop) hwm_shop_logins=$(hwm shop)
for name in library reference shop shop_redis; do kill "${pids[$name]}"; wait "${pids[$name]}" 2>/dev/null || true; unset "pids[$name]"; done

# ---------------------------------------------------------------- deep page
log "deep page: seeding 1,300,000 orders"
start_service deep target/bench/release/shopdeep "$PORT_DEEP" "$DB_DEEP"
seed_users "$PORT_DEEP" "$DB_DEEP" "$work"
auth=(-H "authorization: Bearer $token")
# Every fifth order shipped, the rest paid: 1,040,000 match status=paid. Two
# orders share each created_at, so the id breaks ties.
"${PSQL[@]}" -d "$DB_DEEP" -c "INSERT INTO orders (user_id, total_cents, status, created_at)
  SELECT 1 + g % 1000, g, (CASE WHEN g % 5 = 0 THEN 'shipped' ELSE 'paid' END)::text::order_status,
         timestamptz '2026-01-01 00:00:00+00' - (g / 2) * interval '1 second'
  FROM generate_series(1, 1300000) g" -c "VACUUM ANALYZE orders"
page1=$(curl -sf "${auth[@]}" "127.0.0.1:$PORT_DEEP$list_path")
cursor=$(jq -r '.next_cursor' <<<"$page1")
decoded=$(b64url_decode "$cursor")
# [fingerprint, [created_at], id]: keep the fingerprint, take the keys of the
# row at depth 1,000,000 in the service's own spelling (its GET by id).
deep_id=$("${PSQL[@]}" -d "$DB_DEEP" -Atc "SELECT id FROM orders WHERE status = 'paid'
  ORDER BY created_at DESC, id DESC OFFSET 1000000 LIMIT 1")
next_id=$("${PSQL[@]}" -d "$DB_DEEP" -Atc "SELECT id FROM orders WHERE status = 'paid'
  ORDER BY created_at DESC, id DESC OFFSET 1000001 LIMIT 1")
deep_created=$(curl -sf "${auth[@]}" "127.0.0.1:$PORT_DEEP/v1/orders/$deep_id" | jq -r '.created_at')
# The id keeps the spelling of the real cursor (an i64 id is a JSON string there).
deep_cursor=$(jq -c --arg at "$deep_created" --arg id "$deep_id" \
  '[.[0], [$at], (if (.[2] | type) == "string" then $id else ($id | tonumber) end)]' <<<"$decoded" |
  tr -d '\n' | basenc --base64url -w0 | tr -d '=')
deep_path="$list_path&cursor=$deep_cursor"
first=$(curl -sf "${auth[@]}" "127.0.0.1:$PORT_DEEP$deep_path" | jq -r '.items[0].id')
[ "$first" = "$next_id" ] || { echo "the deep cursor starts at $first, not $next_id (cursor $decoded)" >&2; exit 1; }
# A page of 100 with its users embedded (?include=user: one more statement,
# the users of the page by primary key) against the same page without.
include_none="$list_path&limit=100"
include_user="$list_path&limit=100&include=user"
embedded=$(curl -sf "${auth[@]}" "127.0.0.1:$PORT_DEEP$include_user" | jq '[.items[] | select(.user.id == .user_id)] | length')
[ "$embedded" = 100 ] || { echo "?include=user embedded $embedded users in a page of 100" >&2; exit 1; }
for rep in $(seq 1 $REPS); do
  measure deep_page1 deep "http://127.0.0.1:$PORT_DEEP$list_path" "${auth[@]}"
  measure deep_deep deep "http://127.0.0.1:$PORT_DEEP$deep_path" "${auth[@]}"
  measure include_none deep "http://127.0.0.1:$PORT_DEEP$include_none" "${auth[@]}"
  measure include_user deep "http://127.0.0.1:$PORT_DEEP$include_user" "${auth[@]}"
done
hwm_deep=$(hwm deep)
kill "${pids[deep]}"; wait "${pids[deep]}" 2>/dev/null || true; unset "pids[deep]"

# ---------------------------------------------------------------- generation
# gen_spec N: N resources, each with six fields of five types, a `list` with
# filters and orders, an index, every other one cached; resource i > 0
# belongs to resource (i-1)/2, so the graph is a tree of depth log2(N).
gen_spec() {
  local n=$1 i
  printf 'version: 1\nservice: gen%s\nresources:\n' "$n"
  for ((i = 0; i < n; i++)); do
    printf '  item%04d:\n' "$i"
    ((i > 0)) && printf '    belongs_to: item%04d\n' "$(((i - 1) / 2))"
    ((i % 2 == 0)) && printf '    cache: { ttl: 5m }\n'
    printf '    fields:\n'
    printf '      title: { type: string, min_length: 1, max_length: 200 }\n'
    printf '      body: { type: text, required: false }\n'
    printf '      amount: { type: i64, min: 0 }\n'
    printf '      state: { type: enum, values: [draft, live, gone], default: draft }\n'
    printf '      due_on: { type: date, required: false }\n'
    printf '      link: { type: url, required: false }\n'
    printf '    indexes:\n      - columns: [amount]\n'
    printf '    list:\n      filter:\n        state: [eq, in]\n        title: [prefix]\n'
    printf '      sort: [-created_at, title]\n'
  done
}
gen_runs() { case $1 in 10) echo 20 ;; 100) echo 10 ;; *) echo 3 ;; esac; }
SHM=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
for n in 10 100 1000; do
  gen_spec "$n" >"$work/gen$n.yaml"
  "$scaffold" validate "$work/gen$n.yaml" >/dev/null
  log "generating $n resources"
  hyperfine --style none --warmup 1 --runs "$(gen_runs "$n")" --export-json "$work/gen$n.json" \
    --prepare "rm -rf $work/out$n" "$scaffold new $work/out$n --spec $work/gen$n.yaml" >/dev/null
  rm -rf "$work/out$n"
  # The same into memory (tmpfs): the generator without the disk's file
  # system, whose cost per created file depends on the machine (on ext4 it
  # grows with the inodes deleted shortly before, as by each run's rm -rf).
  hyperfine --style none --warmup 1 --runs "$(gen_runs "$n")" --export-json "$work/gen$n.shm.json" \
    --prepare "rm -rf $SHM/out$n" "$scaffold new $SHM/out$n --spec $work/gen$n.yaml" >/dev/null
  rm -rf "$SHM/out$n"
  /usr/bin/time -f %M -o "$work/gen$n.rss" "$scaffold" new "$work/out$n" --spec "$work/gen$n.yaml" >/dev/null 2>&1
  rm -rf "$work/out$n"
done
gen_ms() { jq '.results[0].min * 1000' "$work/gen$1.json"; }
gen_shm_ms() { jq '.results[0].min * 1000' "$work/gen$1.shm.json"; }
gen_shm_cpu_ms() { jq '(.results[0].user + .results[0].system) * 1000' "$work/gen$1.shm.json"; }
gen_cpu_ms() { jq '(.results[0].user + .results[0].system) * 1000' "$work/gen$1.json"; }
gen_mib() { awk '{ printf "%.0f", $1 / 1024 }' "$work/gen$1.rss"; }

# ---------------------------------------------------------------- cold builds
build_shop=- build_ref=- build_shop_cpu=- build_ref_cpu=-
if $BUILD; then
  log "cold release builds (each in an empty target directory)"
  "$scaffold" new "$work/cold" --spec specs/shop.yaml >/dev/null 2>&1
  cold() { # manifest target-dir: prints "wall cpu" in seconds
    rm -rf "$2"
    CARGO_TARGET_DIR="$2" /usr/bin/time -f '%e %U %S' -o "$work/cold.time" \
      cargo build --release --quiet --manifest-path "$1" >"$work/cold.log" 2>&1 ||
      { cat "$work/cold.log" >&2; echo "the cold build of $1 failed" >&2; exit 1; }
    rm -rf "$2"
    awk '{ printf "%.0f %.0f\n", $1, $2 + $3 }' "$work/cold.time"
  }
  read -r build_ref build_ref_cpu < <(cold "$REFERENCE_SRC/Cargo.toml" "$SCRATCH/cold-target")
  read -r build_shop build_shop_cpu < <(cold "$work/cold/Cargo.toml" "$work/cold-target")
fi

# ---------------------------------------------------------------- report
{
  printf "\n## %s: \`bench/run.sh %s\`\n\n" "$(date -u +'%Y-%m-%d %H:%M UTC')" "$*"
  machine_note
  printf '| case | req/s (runs) | CPU µs/req | peak RSS MiB | reference | reference req/s (runs) | ratio |\n'
  printf '| --- | ---: | ---: | ---: | --- | ---: | ---: |\n'
  row 'generated GET /v1/authors/{id} (public, uncached, limiter on)' gen_get 'reference GET /authors/{id}' ref_get "$hwm_library"
  row 'generated GET /v1/authors/{id}' gen_get 'pgbench -S -M prepared (tps)' pgbench "$hwm_library"
  row 'reference GET /authors/{id}' ref_get 'pgbench -S -M prepared (tps)' pgbench "$hwm_reference"
  row 'generated /livez (library)' gen_livez 'reference bare /livez' ref_livez "$hwm_library"
  row 'shop GET /v1/users/{id}, cache hit in process' hit_local 'its /livez' livez_local "$hwm_shop"
  row 'shop GET /v1/users/{id}, cache hit in Redis' hit_redis 'its /livez' livez_redis "$hwm_shop_redis"
  row 'shop POST /v1/orders' create 'its /livez' livez_local "$hwm_shop"
  row 'shop list page 1 (list cache on: hits)' list1 'its /livez' livez_local "$hwm_shop"
  row 'page 1,000,000 rows deep (list cache off)' deep_deep 'page 1 of the same query' deep_page1 "$hwm_deep"
  row 'page of 100 with ?include=user (list cache off)' include_user 'the same page without' include_none "$hwm_deep"
  printf '\nReference CPU µs/req: GET %s, /livez %s. Targets: generated GET ≥ 1.0× the reference; ' \
    "$(median ref_get cpu)" "$(median ref_livez cpu)"
  printf '/livez ≥ 0.8× the bare route; cache hit ≥ 0.8× /livez; the deep page ≥ 0.5× page 1; a page with an include ≥ 0.5× without.\n\n'
  printf '| generation (scaffold new) | wall, best of N (ms) | N | wall per resource (ms) | CPU user+sys, mean (ms) | into tmpfs: wall, best (ms) | into tmpfs: CPU, mean (ms) | peak RSS MiB |\n'
  printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  for n in 10 100 1000; do
    printf '| %s resources | %.1f | %s | %.3f | %.1f | %.1f | %.1f | %s |\n' "$n" "$(gen_ms "$n")" "$(gen_runs "$n")" \
      "$(awk -v a="$(gen_ms "$n")" -v n="$n" 'BEGIN { print a / n }')" "$(gen_cpu_ms "$n")" \
      "$(gen_shm_ms "$n")" "$(gen_shm_cpu_ms "$n")" "$(gen_mib "$n")"
  done
  printf '\n1,000 / 100 resources: %s× wall, %s× CPU on disk; %s× wall, %s× CPU into tmpfs (target ≤ 11×); ' \
    "$(ratio "$(gen_ms 1000)" "$(gen_ms 100)")" "$(ratio "$(gen_cpu_ms 1000)" "$(gen_cpu_ms 100)")" \
    "$(ratio "$(gen_shm_ms 1000)" "$(gen_shm_ms 100)")" "$(ratio "$(gen_shm_cpu_ms 1000)" "$(gen_shm_cpu_ms 100)")"
  printf '100 resources in %.1f ms on disk, %.1f ms into tmpfs (target < 100 ms).\n' "$(gen_ms 100)" "$(gen_shm_ms 100)"
  printf '\n| resident set, MiB | idle (started) | after the measured runs | after 48 logins, 8 at once | peak |\n'
  printf '| --- | ---: | ---: | ---: | ---: |\n'
  printf '| reference | %s | %s | - | %s |\n' "$idle_reference" "$loaded_reference" "$hwm_reference"
  printf '| starter (shop) | %s | %s | %s | %s |\n' "$idle_shop" "$loaded_shop" "$logins_shop" "$hwm_shop_logins"
  if $BUILD; then
    printf '\nCold release build (empty target directory, crates already downloaded): starter service %s s wall, %s s CPU; ' "$build_shop" "$build_shop_cpu"
    printf 'reference %s s wall, %s s CPU; ratio %s wall, %s CPU (target ≤ 1.5×).\n' "$build_ref" "$build_ref_cpu" \
      "$(ratio "$build_shop" "$build_ref")" "$(ratio "$build_shop_cpu" "$build_ref_cpu")"
  fi
} >"$work/section.md"
cat "$work/section.md" >>bench/RESULTS.md
cat "$work/section.md"
