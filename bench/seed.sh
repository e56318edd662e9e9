# shellcheck shell=bash
# Sourced by the bench scripts. seed_users PORT DB WORK: 1,000 users in the
# starter spec's service listening on PORT (database DB), an admin among
# them whose access token is left in $token, and WORK/get.lua, a wrk script
# that reads them back by id at random (fixed seed). The starter spec has
# auth: every request carries the token, verified and checked for
# revocation on the way in.
seed_users() {
  local port=$1 db=$2 work=$3
  curl -sf -X POST "127.0.0.1:$port/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email": "bench@example.com", "name": "Bench", "password": "bench password 123"}' >/dev/null
  psql -h 127.0.0.1 -U postgres -d "$db" -qc "UPDATE users SET role = 'admin'"
  # shellcheck disable=SC2034 # read by the sourcing script
  token=$(curl -sf -X POST "127.0.0.1:$port/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email": "bench@example.com", "password": "bench password 123"}' |
    sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  psql -h 127.0.0.1 -U postgres -d "$db" -qc \
    "INSERT INTO users (email, name, password_hash) SELECT 'u' || g || '@example.com', 'User ' || g, 'x' FROM generate_series(2, 1000) g"
  cat >"$work/get.lua" <<'LUA'
math.randomseed(42)
request = function()
  return wrk.format("GET", "/v1/users/" .. math.random(1, 1000))
end
LUA
}
