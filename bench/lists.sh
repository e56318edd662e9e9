#!/usr/bin/env bash
# What a list costs deep in a big table and with includes, each against the
# cheapest form of the same request in the same run (three interleaved
# repetitions, medians), on the blog example (posts -> author, comments):
#
#   1. a filtered, sorted page (`?published=true&sort=-created_at`)
#      1,000,000 rows deep, reached with a cursor, against page 1 of the same
#      query (target: no worse than 2×);
#   2. a page of 100 with both of its includes (`?include=author,comments`:
#      each post's author and up to 10 comments) against the same page
#      without (target: no worse than 2×), and with the author alone; each
#      include is one statement for the whole page. The response sizes are
#      reported too: three comments a post make the page four times larger.
#
# 1,200,000 posts are seeded with SQL (every tenth unpublished, two posts per
# created_at so the id breaks ties) and three comments for each of the 2,000
# newest. A dated section is appended to bench/RESULTS.md. Needs what
# bench/run.sh needs, without redis-server and pgbench, and `ss` (iproute2).
#
# To compare two generators in one run, set BASELINE_SCAFFOLD to the scaffold
# binary of the other revision (e.g. `git worktree add /tmp/base REV && cargo
# build --release --manifest-path /tmp/base/Cargo.toml --target-dir
# /tmp/base-target`): its blog service is built too, served from the same
# database, and each of the page-of-100 cases is measured on both, one after
# the other, with the PostgreSQL backends' CPU per request as well. BENCH_PORT
# (and BENCH_PORT + 1) and BENCH_DB override the port and database.
#
# Usage: bench/lists.sh [seconds per run, default 10]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. bench/lib.sh

SECONDS_PER_RUN=${1:-10}
case "$SECONDS_PER_RUN" in '' | *[!0-9]*) echo "usage: bench/lists.sh [seconds]" >&2; exit 2 ;; esac
for tool in wrk psql jq curl basenc; do
  command -v "$tool" >/dev/null || { echo "bench/lists.sh needs $tool" >&2; exit 1; }
done
REPS=3 CLIENTS=8 THREADS=2
SSLMODE=${BENCH_SSLMODE:-disable}
export PGSSLMODE=$SSLMODE
SECRET="bench-secret-that-is-long-enough-for-hs256"
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
PORT=${BENCH_PORT:-18292} DB=${BENCH_DB:-scaffold_bench_lists}
BASELINE_SCAFFOLD=${BASELINE_SCAFFOLD:-}
[ -z "$BASELINE_SCAFFOLD" ] || PG_CPU=1
work="$(mktemp -d)"
declare -A pids=()
cleanup() {
  for name in "${!pids[@]}"; do kill "${pids[$name]}" 2>/dev/null || true; done
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log "building scaffold and the blog service (target/bench)"
cargo build --release --locked --quiet
sed 's/^service: blog$/service: blogbench/' specs/blog.yaml >"$work/blogbench.yaml"
target/release/scaffold new "$work/blogbench" --spec "$work/blogbench.yaml" >/dev/null
sync_tree "$work/blogbench" target/bench/src/blogbench
cargo build --release --locked --quiet --manifest-path target/bench/src/blogbench/Cargo.toml --target-dir target/bench
if [ -n "$BASELINE_SCAFFOLD" ]; then
  log "building the baseline's blog service with $BASELINE_SCAFFOLD"
  sed 's/^service: blog$/service: blogbase/' specs/blog.yaml >"$work/blogbase.yaml"
  "$BASELINE_SCAFFOLD" new "$work/blogbase" --spec "$work/blogbase.yaml" >/dev/null
  # Both serve one database, migrated by the service under test.
  diff <(cat "$work/blogbase"/migrations/* | sed 's/blogbase/blogbench/g') <(cat "$work/blogbench"/migrations/*) >/dev/null ||
    { echo "the baseline's migrations differ from this revision's" >&2; exit 1; }
  sync_tree "$work/blogbase" target/bench/src/blogbase
  cargo build --release --locked --quiet --manifest-path target/bench/src/blogbase/Cargo.toml --target-dir target/bench
fi

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
# The limiter is not what this measures: every request is admitted.
start_service blog target/bench/release/blogbench "$PORT" "$DB" RATE_LIMIT_ENABLED=false
[ -z "$BASELINE_SCAFFOLD" ] ||
  start_service base target/bench/release/blogbase "$((PORT + 1))" "$DB" RATE_LIMIT_ENABLED=false MIGRATE_ON_START=false
log "seeding 1,200,000 posts"
"${PSQL[@]}" -d "$DB" \
  -c "INSERT INTO authors (handle, display_name)
      SELECT 'author_' || g, 'Author ' || g FROM generate_series(1, 1000) g" \
  -c "INSERT INTO posts (author_id, title, body, published, created_at)
      SELECT 1 + g % 1000, 'Post ' || g, 'Notes on day ' || g, g % 10 <> 0,
             timestamptz '2026-01-01 00:00:00+00' - (g / 2) * interval '1 second'
      FROM generate_series(1, 1200000) g" \
  -c "INSERT INTO comments (post_id, body, rating)
      SELECT p.id, 'comment ' || c, 1 + c FROM
        (SELECT id FROM posts ORDER BY created_at DESC, id DESC LIMIT 2000) p, generate_series(1, 3) c" \
  -c "VACUUM ANALYZE"

list_path='/v1/posts?published=true&sort=-created_at'
page1=$(curl -sf "127.0.0.1:$PORT$list_path")
decoded=$(b64url_decode "$(jq -r '.next_cursor' <<<"$page1")")
# [fingerprint, [created_at], id]: keep the fingerprint, take the keys of the
# row at depth 1,000,000 in the service's own spelling (its GET by id).
at_depth() {
  "${PSQL[@]}" -d "$DB" -Atc "SELECT id FROM posts WHERE published
    ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1"
}
deep_id=$(at_depth 1000000) next_id=$(at_depth 1000001)
deep_created=$(curl -sf "127.0.0.1:$PORT/v1/posts/$deep_id" | jq -r '.created_at')
deep_cursor=$(jq -c --arg at "$deep_created" --arg id "$deep_id" '[.[0], [$at], $id]' <<<"$decoded" |
  tr -d '\n' | basenc --base64url -w0 | tr -d '=')
deep_path="$list_path&cursor=$deep_cursor"
first=$(curl -sf "127.0.0.1:$PORT$deep_path" | jq -r '.items[0].id')
[ "$first" = "$next_id" ] || { echo "the deep cursor starts at $first, not $next_id (cursor $decoded)" >&2; exit 1; }

none_path="$list_path&limit=100"
author_path="$list_path&limit=100&include=author"
both_path="$list_path&limit=100&include=author,comments"
embedded=$(curl -sf "127.0.0.1:$PORT$both_path" |
  jq '[.items[] | select(.author.id == .author_id and (.comments | length) == 3)] | length')
[ "$embedded" = 100 ] || { echo "?include=author,comments embedded both in $embedded posts of 100" >&2; exit 1; }
if [ -n "$BASELINE_SCAFFOLD" ]; then
  for path in "$none_path" "$author_path" "$both_path" "$both_path&fields=title"; do
    cmp -s <(curl -sf "127.0.0.1:$PORT$path") <(curl -sf "127.0.0.1:$((PORT + 1))$path") ||
      { echo "the baseline answers $path differently" >&2; exit 1; }
  done
fi

for rep in $(seq 1 $REPS); do
  log "repetition $rep of $REPS"
  measure page1 blog "http://127.0.0.1:$PORT$list_path"
  measure deep blog "http://127.0.0.1:$PORT$deep_path"
  for case in none author both; do
    path_var="${case}_path"
    measure "$case" blog "http://127.0.0.1:$PORT${!path_var}"
    [ -z "$BASELINE_SCAFFOLD" ] || measure "base_$case" base "http://127.0.0.1:$((PORT + 1))${!path_var}"
  done
done
size() { curl -sf "127.0.0.1:$PORT$1" | wc -c; }
bytes_none=$(size "$none_path") bytes_author=$(size "$author_path") bytes_both=$(size "$both_path")
rss=$(hwm blog)

{
  printf "\n## %s: \`bench/lists.sh %s\`\n\n" "$(date -u +'%Y-%m-%d %H:%M UTC')" "$*"
  machine_note
  printf '| case | req/s (runs) | CPU µs/req | peak RSS MiB | reference | reference req/s (runs) | ratio |\n'
  printf '| --- | ---: | ---: | ---: | --- | ---: | ---: |\n'
  row 'posts page 1,000,000 rows deep (published, newest first)' deep 'page 1 of the same query' page1 "$rss"
  row 'page of 100 with ?include=author' author 'the same page without' none "$rss"
  row 'page of 100 with ?include=author,comments' both 'the same page without' none "$rss"
  printf '\nResponse sizes: %s bytes without includes, %s with the author, %s with the author and comments.\n' \
    "$bytes_none" "$bytes_author" "$bytes_both"
  printf 'Targets: each case no worse than 2× slower than its reference (ratio ≥ 0.5).\n'
  if [ -n "$BASELINE_SCAFFOLD" ]; then
    printf '\nThe same pages served by the baseline (%s) from the same database, each run right after the one above; CPU is the service'"'"'s, then its PostgreSQL backends'"'"', per request (medians); the ratio is to the same service'"'"'s page without includes.\n\n' \
      "$BASELINE_SCAFFOLD"
    printf '| case | baseline req/s (runs) | baseline CPU µs/req | baseline ratio | this req/s (runs) | this CPU µs/req | this ratio |\n'
    printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    for case in none author both; do
      printf '| %s | %s (%s) | %s + %s | %s | %s (%s) | %s + %s | %s |\n' "$case" \
        "$(fmt "$(median "base_$case" rps)")" "$(all "base_$case")" \
        "$(median "base_$case" cpu)" "$(median "base_$case" pgcpu)" \
        "$(ratio "$(median "base_$case" rps)" "$(median base_none rps)")" \
        "$(fmt "$(median "$case" rps)")" "$(all "$case")" \
        "$(median "$case" cpu)" "$(median "$case" pgcpu)" \
        "$(ratio "$(median "$case" rps)" "$(median none rps)")"
    done
  fi
} >"$work/section.md"
cat "$work/section.md" >>bench/RESULTS.md
cat "$work/section.md"
