# shellcheck shell=bash
# Sourced by the bench scripts: starting services, one wrk run with the
# server's CPU per request, one callgrind count, and the report's medians and
# ratios. The sourcing script sets $work (scratch directory), the associative
# array `pids` (name -> process id), SSLMODE, CLIENTS, THREADS,
# SECONDS_PER_RUN and SECRET, as far as the functions it calls use them;
# READY_TRIES (tenths of a second, default 300) bounds wait_ready, for a
# service started under valgrind.

log() { printf '== %s\n' "$*" >&2; }

# sync_tree FROM TO: TO becomes a copy of FROM, rewriting only the files whose
# bytes changed, so cargo's fingerprints (mtimes, paths) survive a rerun and
# an unchanged service is not rebuilt.
sync_tree() {
  local from=$1 to=$2 f
  mkdir -p "$to"
  (cd "$to" && find . -type f) | while read -r f; do [ -e "$from/$f" ] || rm -f "$to/$f"; done
  (cd "$from" && find . -type f) | while read -r f; do
    mkdir -p "$to/$(dirname "$f")"
    cmp -s "$from/$f" "$to/$f" || cp "$from/$f" "$to/$f"
  done
}

wait_ready() { # port path
  for _ in $(seq 1 "${READY_TRIES:-300}"); do curl -sf "127.0.0.1:$1$2" >/dev/null && return; sleep 0.1; done
  echo "nothing answers 127.0.0.1:$1$2; logs in $work" >&2
  exit 1
}

start_service() { # name binary port database [VAR=value...]
  local name=$1 bin=$2 port=$3 db=$4
  shift 4
  env DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=$SSLMODE" BIND_ADDR="127.0.0.1:$port" \
    DATABASE_MAX_CONNECTIONS=$CLIENTS RUST_LOG=warn RATE_LIMIT_ENABLED=true JWT_SECRET="$SECRET" "$@" \
    "$bin" >"$work/$name.log" 2>&1 &
  pids[$name]=$!
  wait_ready "$port" /readyz
}

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# pg_ticks PID: the CPU ticks of the PostgreSQL backends serving process PID,
# matched by its connections' client ports (backends closed during a run are
# lost, those opened are counted whole).
pg_ticks() {
  local ports total=0 b t
  ports=$(ss -tnp | awk -v p="pid=$1," '$5 ~ /:5432$/ && index($0, p) { n = split($4, a, ":"); print a[n] }' | paste -sd, -)
  [ -n "$ports" ] || { echo 0; return; }
  for b in $("${PSQL[@]}" -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE client_port IN ($ports)"); do
    t=$(cpu_ticks "$b" 2>/dev/null) && total=$((total + t))
  done
  echo "$total"
}
# measure KEY PROCESS URL [wrk args]: one wrk run; appends req/s to
# $work/KEY.rps and server CPU microseconds per request to $work/KEY.cpu.
measure() {
  local key=$1 pid=${pids[$2]} url=$3
  shift 3
  local before after pg_before pg_after
  before=$(cpu_ticks "$pid")
  [ -z "${PG_CPU:-}" ] || pg_before=$(pg_ticks "$pid")
  wrk -t$THREADS -c$CLIENTS -d"${SECONDS_PER_RUN}s" "$@" "$url" >"$work/$key.txt"
  after=$(cpu_ticks "$pid")
  [ -z "${PG_CPU:-}" ] || pg_after=$(pg_ticks "$pid")
  if grep -q "Non-2xx\|Socket errors" "$work/$key.txt"; then
    cat "$work/$key.txt" >&2
    echo "$key answered errors; see above" >&2
    exit 1
  fi
  awk '/Requests\/sec/ { print $2 }' "$work/$key.txt" >>"$work/$key.rps"
  awk -v t="$((after - before))" -v hz="$ticks" '/requests in/ { printf "%.1f\n", t / hz * 1e6 / $1 }' \
    "$work/$key.txt" >>"$work/$key.cpu"
  # With PG_CPU set, the PostgreSQL backends' CPU per request too.
  [ -z "${PG_CPU:-}" ] ||
    awk -v t="$((pg_after - pg_before))" -v hz="$ticks" '/requests in/ { printf "%.1f\n", t / hz * 1e6 / $1 }' \
      "$work/$key.txt" >>"$work/$key.pgcpu"
  log "$key: $(tail -1 "$work/$key.rps") req/s, $(tail -1 "$work/$key.cpu") us CPU/request"
}

# callgrind_count PID PREFIX OUT PATH: the instructions process PID (run
# under `valgrind --tool=callgrind --instr-atstart=no
# --callgrind-out-file=PREFIX.%p`) spends on the sourcing script's
# `requests PATH`, counted with instrumentation switched on only meanwhile.
# The profile is left in OUT, for callgrind_annotate.
callgrind_count() {
  local pid=$1 prefix=$2 out=$3 path=$4 file
  callgrind_control -i on "$pid" >/dev/null 2>&1
  callgrind_control -z "$pid" >/dev/null 2>&1
  requests "$path"
  callgrind_control -d "$(basename "$out")" "$pid" >/dev/null 2>&1
  callgrind_control -i off "$pid" >/dev/null 2>&1
  file=$(find "$(dirname "$prefix")" -name "$(basename "$prefix").$pid.*" | head -1)
  mv "$file" "$out"
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# per TOTAL: TOTAL divided among the sourcing script's $N requests.
per() { awk -v t="$1" -v n="$N" 'BEGIN { printf "%.0f", t / n }'; }

hwm() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/${pids[$1]}/status"; }
# rss NAME: the process's resident set now, MiB.
rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/${pids[$1]}/status"; }

b64url_decode() { local s=$1; while (($(printf %s "$s" | wc -c) % 4)); do s="$s="; done; printf %s "$s" | basenc --base64url -d; }

# ---------------------------------------------------------------- report
median() { sort -g "$work/$1.$2" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
all() { paste -sd/ "$work/$1.rps" | sed 's|\.[0-9]*||g'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
row() { # label key reference-label reference-key rss-mib
  local m r
  m=$(median "$2" rps) r=$(median "$4" rps)
  printf '| %s | %s (%s) | %s | %s | %s | %s (%s) | %s |\n' "$1" "$(fmt "$m")" "$(all "$2")" "$(median "$2" cpu)" \
    "$5" "$3" "$(fmt "$r")" "$(all "$4")" "$(ratio "$m" "$r")"
}

# machine_note: the paragraph under a report's heading: the machine, how wrk
# ran, and what the figures are.
machine_note() {
  local mem_kib
  mem_kib=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
  printf 'Machine: %s cores, %.0f GiB, Linux %s; load average before the report %s. ' \
    "$(nproc)" "$((mem_kib / 1024 / 1024))" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'wrk -t%s -c%s -d%ss on loopback, %s interleaved repetitions, medians (each run in brackets). ' \
    "$THREADS" "$CLIENTS" "$SECONDS_PER_RUN" "$REPS"
  printf 'Services, PostgreSQL, Redis and wrk share the same cores; the machine is shared and noisy, '
  printf 'so only ratios within this run count. CPU is the server process'"'"'s (utime+stime) per request; '
  printf 'RSS is its peak (VmHWM) over the whole run. '
  printf 'Every PostgreSQL client connects with sslmode=%s.\n\n' "$SSLMODE"
}
