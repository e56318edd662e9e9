//! Scale-out: several processes of one generated service (the starter spec)
//! on their own ports, sharing one PostgreSQL database and one Redis (a
//! private `redis-server`, so a test can pause it).
//!
//! - A write through one replica is never served stale by another: by id
//!   and in lists, through Redis alone and through the local tier
//!   (`CACHE_LOCAL_TTL`), within and past the tier's TTL; with Redis paused
//!   the tier stops answering within its trust window, and once Redis is
//!   back the writer's unsent invalidations reach the other replicas. A
//!   load that read a row before a write does not store it after the write.
//! - The rate limit is one bucket for every replica.
//! - On a three-node Redis Cluster (`REDIS_CLUSTER`): the cache, list
//!   generations, invalidation, the local tiers and the shared limit, through
//!   a restart of the node holding the cache's keys. Over `rediss://` with a
//!   private CA (`REDIS_CA_CERT`).
//! - A token logged out through one replica is refused by another within
//!   the revocation set's staleness bound, from memory (no statement), and
//!   also while that replica's listener is disconnected (it asks the
//!   database then) and after it has reconnected and reloaded its set.
//! - SIGKILL in the middle of a write load loses no acknowledged write.
//! - A SIGTERM'd replica fails readiness, drains its in-flight request and
//!   exits 0 while the other keeps serving.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user `postgres`, database
//! `test`), `redis-server`/`redis-cli` (built with TLS, as Debian's 7.x is)
//! and `openssl`; ports 19300-19302 (and their cluster buses, 29300-29302)
//! and 19350 free. The service builds into
//! `SCAFFOLD_E2E_TARGET_DIR` (default `target/e2e`), like tests/e2e.rs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{Redis, StatementCounter, free_port, psql, redis_cli, target_dir};

const PACKAGE: &str = "scale-shop";
const JWT_SECRET: &str = "scale-secret-that-is-long-enough-for-hs256";
const PASSWORD: &str = "correct horse battery staple";

/// The tests run one at a time: they time the service's windows and kill
/// processes, and two of them at once on a small machine would blur both.
/// The build comes first, so that the time a test reports (on stderr) is
/// its own.
fn serial(test: &'static str) -> Serial {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    binary();
    Serial {
        _guard: guard,
        test,
        started: Instant::now(),
    }
}

struct Serial {
    _guard: MutexGuard<'static, ()>,
    test: &'static str,
    started: Instant,
}

impl Drop for Serial {
    fn drop(&mut self) {
        eprintln!("{} took {:?}", self.test, self.started.elapsed());
    }
}

/// The starter spec as `scale-shop`, generated and built once per run: its
/// binary.
fn binary() -> &'static Path {
    static BUILT: OnceLock<(PathBuf, tempfile::TempDir)> = OnceLock::new();
    let (bin, _dir) = BUILT.get_or_init(|| {
        let started = Instant::now();
        let starter =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/shop.yaml"))
                .unwrap();
        // The login bucket refills one token per 100 s instead of 10 s, so
        // the shared-limit test counts tokens however slowly the machine
        // hashes the passwords it checks.
        let login = "login: { capacity: 5, refill_per_second: 0.1 }";
        assert!(starter.contains(login), "the starter's login bucket");
        let spec = starter
            .replace("service: shop", &format!("service: {PACKAGE}"))
            .replace(login, "login: { capacity: 5, refill_per_second: 0.01 }");
        let files = scaffold::compile(&spec).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(PACKAGE);
        scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();
        let out = Command::new(env!("CARGO"))
            .args(["build", "--locked"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{PACKAGE} built in {:?}", started.elapsed());
        (target_dir().join("debug").join(PACKAGE), tmp)
    });
    bin
}

/// A fresh database, dropped at the end of the test.
struct Database(String);

impl Database {
    fn create(name: &str) -> Database {
        let db = format!("scaffold_scale_{name}_{}", std::process::id());
        psql(
            "test",
            &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
        );
        psql("test", &format!("CREATE DATABASE \"{db}\""));
        Database(db)
    }

    fn sql(&self, sql: &str) -> String {
        psql(&self.0, sql)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.0
            ))
            .output();
    }
}

/// SIGSTOP / SIGCONT: Redis stops answering without closing a socket.
fn pause(redis: &Redis, sig: &str) {
    signal(redis.child.id(), sig);
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// One replica; killed on drop if the test did not stop it.
struct Replica {
    name: &'static str,
    child: Child,
    base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    /// Starts a replica on a port of its own against `db` and `redis`, with
    /// the limiter off unless `env` turns it on, and waits for `/readyz`.
    fn start(name: &'static str, db: &Database, redis: &Redis, env: &[(&str, &str)]) -> Replica {
        Replica::start_on(name, db, &redis.url(), env)
    }

    /// Like [`Replica::start`], against the Redis at `redis_url` (`env` may
    /// add `REDIS_CLUSTER`, `REDIS_CA_CERT`).
    fn start_on(
        name: &'static str,
        db: &Database,
        redis_url: &str,
        env: &[(&str, &str)],
    ) -> Replica {
        let port = free_port();
        let mut child = Command::new(binary())
            .env(
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:5432/{}", db.0),
            )
            .env("REDIS_URL", redis_url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("SHUTDOWN_DELAY", "0")
            .env("RATE_LIMIT_ENABLED", "false")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let replica = Replica {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            logs,
        };
        replica.until("ready", Duration::from_secs(30), || {
            try_call(None, "GET", &replica.url("/readyz"), None).is_ok_and(|r| r.status == 200)
        });
        replica
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    fn get(&self, token: Option<&str>, path: &str) -> Resp {
        call(token, "GET", &self.url(path), None)
    }

    fn send(&self, token: Option<&str>, method: &str, path: &str, body: &Value) -> Resp {
        call(token, method, &self.url(path), Some(body))
    }

    /// PATCHes order `id` with `body` through this replica: the updated row.
    fn patch_order(&self, token: &str, id: i64, body: &Value) -> Value {
        let patched = self.send(Some(token), "PATCH", &format!("/v1/orders/{id}"), body);
        assert_eq!(patched.status, 200, "{}: {:?}", self.name, patched.body);
        patched.body
    }

    /// POSTs an order with `body` through this replica: its id and the
    /// created row.
    fn create_order(&self, token: &str, body: &Value) -> (i64, Value) {
        let made = self.send(Some(token), "POST", "/v1/orders", body);
        assert_eq!(made.status, 201, "{}: {:?}", self.name, made.body);
        let id = made.body["id"].as_i64().unwrap();
        (id, made.body)
    }

    /// Waits until the replica's local tier is on: it has subscribed to
    /// the invalidations.
    fn until_subscribed(&self) {
        self.until("subscribed", Duration::from_secs(10), || {
            self.local_tier() == "on"
        });
    }

    /// Polls `ready` every 50 ms until it holds, failing after `within`.
    fn until(&self, what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "{}: not {what} within {within:?}:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `/health`'s report of the local tier: `off`, `on` or `bypassed`.
    fn local_tier(&self) -> String {
        let health = self.get(None, "/health");
        assert_eq!(health.status, 200, "{}: {:?}", self.name, health.body);
        health.body["cache"]["local_tier"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: local_tier in {:?}", self.name, health.body))
            .to_string()
    }

    /// Waits for the process to exit; its status.
    fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no exit within {within:?}:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    body: Value,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// A request; `Err` when no response came (connection refused or reset).
fn try_call(
    token: Option<&str>,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<Resp, String> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let result = match body {
        Some(body) => agent().run(
            builder
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap())
                .unwrap(),
        ),
        None => agent().run(builder.body(()).unwrap()),
    };
    let mut resp = result.map_err(|err| format!("{method} {url}: {err}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|err| format!("{method} {url}: body: {err}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Resp { status, body })
}

fn call(token: Option<&str>, method: &str, url: &str, body: Option<&Value>) -> Resp {
    try_call(token, method, url, body).unwrap_or_else(|err| panic!("{err}"))
}

/// Registers `email` through `replica` and logs in: the user's id and token.
fn sign_up(replica: &Replica, email: &str) -> (i64, String) {
    let body = json!({ "email": email, "name": "Scale", "password": PASSWORD });
    let registered = replica.send(None, "POST", "/v1/auth/register", &body);
    assert_eq!(registered.status, 201, "register: {:?}", registered.body);
    let login = json!({ "email": email, "password": PASSWORD });
    let tokens = replica.send(None, "POST", "/v1/auth/login", &login);
    assert_eq!(tokens.status, 200, "login: {:?}", tokens.body);
    let token = tokens.body["access_token"].as_str().unwrap().to_string();
    (registered.body["id"].as_i64().unwrap(), token)
}

/// The order with `id` on a list page, if it is there.
fn listed(page: &Resp, id: i64) -> Option<Value> {
    assert_eq!(page.status, 200, "{:?}", page.body);
    let items = page.body["items"].as_array().expect("a page");
    items.iter().find(|item| item["id"] == id).cloned()
}

/// By id and in both lists (direct and nested), every replica serves what
/// the last write returned: `want` (or a 404 and no item, for `None`).
fn all_see(
    replicas: &[&Replica],
    token: &str,
    user: i64,
    id: i64,
    want: Option<&Value>,
    when: &str,
) {
    for replica in replicas {
        let name = replica.name;
        let by_id = replica.get(Some(token), &format!("/v1/orders/{id}"));
        match want {
            Some(want) => {
                assert_eq!(by_id.status, 200, "{name} {when}: {:?}", by_id.body);
                assert_eq!(&by_id.body, want, "{name} {when}: by id");
            }
            None => assert_eq!(by_id.status, 404, "{name} {when}: {:?}", by_id.body),
        }
        for list in ["/v1/orders".to_string(), format!("/v1/users/{user}/orders")] {
            let page = replica.get(Some(token), &list);
            assert_eq!(listed(&page, id).as_ref(), want, "{name} {when}: {list}");
        }
    }
}

/// An update through one replica is never served stale by another: by id
/// and in the direct and nested lists, through Redis alone (replica `c`) and
/// through the local tier (`a` and `b`), within and past the tier's TTL.
/// Before the writes, a change made behind the service's back (the database
/// updated, Redis emptied, nothing published) shows that the tiers really
/// answer. With Redis paused, `b` stops trusting its tier within the trust
/// window and reads the write `a` made meanwhile from the database; with
/// Redis back, the invalidation `a` could not send reaches `b` without `a`
/// being asked anything.
#[test]
fn replicas_never_serve_a_write_stale() {
    let _serial = serial("replicas_never_serve_a_write_stale");
    let db = Database::create("stale");
    let redis = Redis::start(free_port());
    let tier = [("CACHE_LOCAL_TTL", "3s")];
    let a = Replica::start("a", &db, &redis, &tier);
    let b = Replica::start("b", &db, &redis, &tier);
    let c = Replica::start("c", &db, &redis, &[]);
    for replica in [&a, &b] {
        replica.until_subscribed();
    }
    assert_eq!(c.local_tier(), "off");
    let all = [&a, &b, &c];

    let (user, token) = sign_up(&a, "alice@example.com");
    let (id, made) = a.create_order(&token, &json!({ "total_cents": 100, "note": "first" }));
    all_see(&all, &token, user, id, Some(&made), "after the create");
    // The user is cached by id too.
    let me = format!("/v1/users/{user}");
    for replica in all {
        assert_eq!(replica.get(Some(&token), &me).status, 200);
    }

    // The tiers answer: behind the service's back the row changes and Redis
    // forgets everything, without a message; a and b still serve what their
    // tiers hold, c (no tier) reads the database.
    db.sql(&format!(
        "UPDATE orders SET note = 'behind its back' WHERE id = {id}"
    ));
    assert_eq!(redis.cli(&["FLUSHDB"]), "OK");
    all_see(&[&a, &b], &token, user, id, Some(&made), "from the tier");
    let fresh = c.get(Some(&token), &format!("/v1/orders/{id}"));
    assert_eq!(fresh.body["note"], "behind its back", "{:?}", fresh.body);

    // Within the tier's TTL: a write through a is served by b and c at once.
    let patched = a.patch_order(&token, id, &json!({ "total_cents": 200 }));
    assert_eq!(patched["note"], "behind its back");
    all_see(&all, &token, user, id, Some(&patched), "after a's PATCH");
    let renamed = a.send(Some(&token), "PATCH", &me, &json!({ "name": "Alice" }));
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    for replica in all {
        let got = replica.get(Some(&token), &me);
        assert_eq!(got.body, renamed.body, "{}: the user by id", replica.name);
    }

    // A write through the replica without a tier reaches the tiers too.
    let patched = c.patch_order(&token, id, &json!({ "note": "through c" }));
    all_see(&all, &token, user, id, Some(&patched), "after c's PATCH");

    // Past the tier's TTL: its entries expired and were refilled from Redis;
    // a write after that is still seen at once.
    std::thread::sleep(Duration::from_millis(3500));
    all_see(&all, &token, user, id, Some(&patched), "past the TTL");
    let replaced = b.send(
        Some(&token),
        "PUT",
        &format!("/v1/orders/{id}"),
        &json!({ "total_cents": 300, "note": "put through b" }),
    );
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    all_see(
        &all,
        &token,
        user,
        id,
        Some(&replaced.body),
        "after b's PUT",
    );

    // A second order, deleted through a: gone everywhere at once.
    let (doomed_id, doomed) = b.create_order(&token, &json!({ "total_cents": 5 }));
    all_see(&all, &token, user, doomed_id, Some(&doomed), "created");
    let deleted = call(
        Some(&token),
        "DELETE",
        &a.url(&format!("/v1/orders/{doomed_id}")),
        None,
    );
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    all_see(&all, &token, user, doomed_id, None, "after a's DELETE");

    // Redis paused: b's subscription goes quiet without closing. b stops
    // trusting its tier within the window (1 s after the last PING that came
    // back, plus the PING's timeout) instead of serving it for its TTL.
    all_see(&[&b], &token, user, id, Some(&replaced.body), "warm");
    pause(&redis, "-STOP");
    let paused = Instant::now();
    b.until("bypassing its tier", Duration::from_secs(3), || {
        b.local_tier() == "bypassed"
    });
    let bypassed_after = paused.elapsed();
    assert!(
        bypassed_after < Duration::from_millis(2500),
        "the trust window bounds the stale reads: {bypassed_after:?}"
    );
    // a's reads time out until its breaker opens; its write's invalidation
    // is then not even attempted (a command that timed out would still be
    // run by Redis once it resumes), only kept.
    let item = format!("/v1/orders/{id}");
    a.until("breaker open", Duration::from_secs(10), || {
        assert_eq!(a.get(Some(&token), &item).status, 200);
        a.get(None, "/health").body["cache"]["breaker"] == "open"
    });
    let during = a.send(Some(&token), "PATCH", &item, &json!({ "total_cents": 400 }));
    assert_eq!(during.status, 200, "{:?}", during.body);
    let by_id = b.get(Some(&token), &item);
    assert_eq!(by_id.body, during.body, "b reads the database");
    pause(&redis, "-CONT");

    // Redis is back and still holds the entries a's write made stale: b
    // subscribes again, and the invalidations a kept are sent by a's
    // background task, although nothing is asked of a.
    b.until("subscribed again", Duration::from_secs(10), || {
        b.local_tier() == "on"
    });
    b.until("fresh", Duration::from_secs(8), || {
        b.get(Some(&token), &item).body == during.body
    });
    all_see(
        &[&b, &c],
        &token,
        user,
        id,
        Some(&during.body),
        "after the pause",
    );

    for replica in all {
        assert!(
            !replica.logs().contains("\"status\":500"),
            "{}: {}",
            replica.name,
            replica.logs()
        );
    }
}

/// The race a versioned entry closes: replica `b` misses a row by id and
/// reads it from the database, but the answer is held back (its connections
/// go through a proxy that holds the answer carrying the row), so its load has
/// read the row from before the write and not yet stored it. Meanwhile `a`
/// writes the row and answers. Then `b` gets its answer and serves the old
/// row (its read began first) but does not store it: every later read,
/// through either replica, shows the write. For a user (a plain key) and
/// an order (stored under its resource's epoch).
#[test]
fn a_load_that_read_before_a_write_is_not_stored_after_it() {
    let _serial = serial("a_load_that_read_before_a_write_is_not_stored_after_it");
    let db = Database::create("race");
    let redis = Redis::start(free_port());
    let counter = StatementCounter::start();
    let through_counter = counter.url(&db.0);
    let a = Replica::start("a", &db, &redis, &[]);
    let b = Replica::start("b", &db, &redis, &[("DATABASE_URL", &through_counter)]);
    // An authenticated request then makes no statement but the row's.
    b.until(
        "checking revocations in memory",
        Duration::from_secs(15),
        || revocations(&b) == "memory",
    );
    let (user, token) = sign_up(&a, "race@example.com");
    let (order, _) = a.create_order(&token, &json!({ "total_cents": 100 }));

    for (path, field) in [
        (format!("/v1/users/{user}"), "name"),
        (format!("/v1/orders/{order}"), "note"),
    ] {
        let old = format!("{field} loaded before the write");
        let new = format!("{field} written");
        let set = |value: &str| {
            let written = a.send(Some(&token), "PATCH", &path, &json!({ field: value }));
            assert_eq!(written.status, 200, "{path}: {:?}", written.body);
        };
        set(&old);
        counter.hold(old.as_bytes());
        let read = std::thread::scope(|scope| {
            let read = scope.spawn(|| b.get(Some(&token), &path));
            counter.until_held(Duration::from_secs(10));
            set(&new);
            counter.release();
            read.join().unwrap()
        });
        assert_eq!(read.status, 200, "{path}: {:?}", read.body);
        assert_eq!(
            read.body[field],
            old.as_str(),
            "{path}: read before the write"
        );
        for replica in [&a, &b, &a, &b] {
            let after = replica.get(Some(&token), &path);
            assert_eq!(after.status, 200, "{path}: {:?}", after.body);
            assert_eq!(
                after.body[field],
                new.as_str(),
                "{}: {path}: the row loaded before the write was stored",
                replica.name
            );
        }
    }
}

/// Two replicas take from one bucket: login attempts alternating between
/// them are refused after the login bucket's 5 (refilled at one per 100 s
/// here), where buckets per process would allow 10.
#[test]
fn rate_limit_is_shared_by_replicas() {
    let _serial = serial("rate_limit_is_shared_by_replicas");
    let db = Database::create("limit");
    let redis = Redis::start(free_port());
    let on = [("RATE_LIMIT_ENABLED", "true")];
    let a = Replica::start("a", &db, &redis, &on);
    let b = Replica::start("b", &db, &redis, &on);
    for replica in [&a, &b] {
        let health = replica.get(None, "/health");
        assert_eq!(
            health.body["rate_limit"]["backend"], "redis",
            "{:?}",
            health.body
        );
    }
    let guess = json!({ "email": "nobody@example.com", "password": "wrong password" });
    let statuses: Vec<u16> = (0..10)
        .map(|i| {
            let replica = if i % 2 == 0 { &a } else { &b };
            replica.send(None, "POST", "/v1/auth/login", &guess).status
        })
        .collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429, 429, 429],
        "one shared login bucket of 5"
    );
    let key = format!("{{{PACKAGE}:rl}}:login:ip:127.0.0.1");
    let tokens: f64 = redis.cli(&["HGET", &key, "tokens"]).parse().unwrap();
    assert!(tokens < 1.0, "{key} is empty: {tokens}");
}

/// Four clients create orders through replica a; a is killed with SIGKILL in
/// the middle of the load. Every create that was answered 201 is in the
/// database with the data sent, and replica b serves each of them.
#[test]
fn sigkill_mid_load_loses_no_acknowledged_write() {
    let _serial = serial("sigkill_mid_load_loses_no_acknowledged_write");
    let db = Database::create("kill");
    let redis = Redis::start(free_port());
    let a = Replica::start("a", &db, &redis, &[]);
    let b = Replica::start("b", &db, &redis, &[]);
    let (_, token) = sign_up(&b, "writer@example.com");

    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, Value)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicUsize::new(0));
    let url = a.url("/v1/orders");
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (acknowledged, stop, failed) = (acknowledged.clone(), stop.clone(), failed.clone());
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body = json!({
                        "total_cents": client * 100_000 + n,
                        "note": format!("client {client} order {n}"),
                    });
                    match try_call(Some(&token), "POST", &url, Some(&body)) {
                        Ok(resp) if resp.status == 201 => {
                            acknowledged
                                .lock()
                                .unwrap()
                                .push((resp.body["id"].as_i64().unwrap(), body));
                        }
                        Ok(resp) => panic!("client {client}: {} {:?}", resp.status, resp.body),
                        Err(_) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(
            Instant::now() < deadline,
            "the load makes progress:\n{}",
            a.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(a.child.id(), "-KILL");
    let before_kill = acknowledged.lock().unwrap().len();
    // The clients keep writing at the dead replica for a moment.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let mut a = a;
    let status = a.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), None, "killed by a signal: {status:?}");
    assert!(
        failed.load(Ordering::SeqCst) > 0,
        "requests failed after the kill"
    );

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= before_kill);
    let rows: std::collections::HashMap<i64, (i64, String)> = db
        .sql("SELECT id, total_cents, note FROM orders")
        .lines()
        .map(|line| {
            let mut cols = line.splitn(3, '|');
            let id = cols.next().unwrap().parse().unwrap();
            let total = cols.next().unwrap().parse().unwrap();
            (id, (total, cols.next().unwrap().to_string()))
        })
        .collect();
    assert!(rows.len() >= acknowledged.len());
    for (id, sent) in &acknowledged {
        let (total, note) = rows
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged order {id} is in the database"));
        assert_eq!(*total, sent["total_cents"].as_i64().unwrap(), "order {id}");
        assert_eq!(note, sent["note"].as_str().unwrap(), "order {id}");
    }
    // The surviving replica serves every acknowledged write.
    for (id, sent) in acknowledged.iter().step_by(7) {
        let got = b.get(Some(&token), &format!("/v1/orders/{id}"));
        assert_eq!(got.status, 200, "{:?}", got.body);
        assert_eq!(got.body["note"], sent["note"], "order {id} through b");
    }
    assert_eq!(b.get(None, "/readyz").status, 200);
}

/// SIGTERM to replica a while a PATCH through it is held inside the
/// database by a row lock: a's `/readyz` turns 503 at once and stays so for
/// the shutdown delay while b's stays 200 and b keeps serving; the held
/// request completes 200 and a exits 0; b still serves afterwards.
#[test]
fn sigterm_drains_one_replica_while_the_other_serves() {
    let _serial = serial("sigterm_drains_one_replica_while_the_other_serves");
    let db = Database::create("term");
    let redis = Redis::start(free_port());
    let mut a = Replica::start("a", &db, &redis, &[("SHUTDOWN_DELAY", "2s")]);
    let b = Replica::start("b", &db, &redis, &[]);
    let (_, token) = sign_up(&b, "drain@example.com");
    let (id, _) = b.create_order(&token, &json!({ "total_cents": 1 }));

    let mut lock = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &db.0, "-qc"])
        .arg(format!(
            "BEGIN; SELECT 1 FROM orders WHERE id = {id} FOR UPDATE; SELECT pg_sleep(3); COMMIT;"
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let held = {
        let url = a.url(&format!("/v1/orders/{id}"));
        let token = token.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let resp = call(
                Some(&token),
                "PATCH",
                &url,
                Some(&json!({ "total_cents": 2 })),
            );
            (resp, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    signal(a.child.id(), "-TERM");
    a.until("unready", Duration::from_secs(1), || {
        a.get(None, "/readyz").status == 503
    });
    // During the delay a still answers (the load balancer has not noticed
    // yet), and b serves as ever.
    let during = a.get(Some(&token), &format!("/v1/orders/{id}"));
    assert_eq!(during.status, 200, "{:?}", during.body);
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "still within the delay"
    );
    assert_eq!(b.get(None, "/readyz").status, 200);
    assert_eq!(b.get(Some(&token), &format!("/v1/orders/{id}")).status, 200);

    let (resp, took) = held.join().unwrap();
    assert_eq!(
        resp.status, 200,
        "the in-flight PATCH completes: {:?}",
        resp.body
    );
    assert_eq!(resp.body["total_cents"], 2);
    assert!(
        took >= Duration::from_millis(2000),
        "held by the lock: {took:?}"
    );
    assert!(lock.wait().unwrap().success());
    let status = a.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "a exits 0:\n{}", a.logs());
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "a served out its shutdown delay"
    );
    assert!(
        try_call(None, "GET", &a.url("/readyz"), None).is_err(),
        "a is gone"
    );

    assert_eq!(b.get(None, "/readyz").status, 200);
    let after = b.get(Some(&token), &format!("/v1/orders/{id}"));
    assert_eq!(after.status, 200, "{:?}", after.body);
    assert_eq!(after.body["total_cents"], 2, "b serves a's last write");
}

/// The revocation set's staleness bound (`auth::revocations::STALENESS` of
/// the generated service).
const REVOCATION_STALENESS: Duration = Duration::from_secs(2);

/// Where `replica` answers revocation checks from: `memory` or `database`.
fn revocations(replica: &Replica) -> String {
    let health = replica.get(None, "/health");
    assert_eq!(health.status, 200, "{}: {:?}", replica.name, health.body);
    health.body["revocations"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: revocations in {:?}", replica.name, health.body))
        .to_string()
}

/// Logs `email` in through `replica`: a new session's access token.
fn log_in(replica: &Replica, email: &str) -> String {
    let login = json!({ "email": email, "password": PASSWORD });
    let tokens = replica.send(None, "POST", "/v1/auth/login", &login);
    assert_eq!(tokens.status, 200, "login: {:?}", tokens.body);
    tokens.body["access_token"].as_str().unwrap().to_string()
}

/// Replica `b` reaches PostgreSQL through a statement-counting proxy, which
/// also tells its connections apart in `pg_stat_activity`.
///
/// - Once its revocation set is live, an authenticated GET served from the
///   cache makes no statement at all.
/// - A token logged out through `a` is refused by `b` within the bound,
///   with no statement: from the set, kept current by the notification.
/// - With `b`'s listening backend terminated, `b` reports that it checks
///   revocations in the database, a token logged out through `a` meanwhile
///   (its notification lost to `b`) is refused by a query, and once `b` has
///   listened again and reloaded its set, the same token is refused from
///   memory.
#[test]
fn a_revoked_token_is_refused_by_every_replica() {
    let _serial = serial("a_revoked_token_is_refused_by_every_replica");
    let db = Database::create("revoke");
    let redis = Redis::start(free_port());
    let counter = StatementCounter::start();
    let through_counter = counter.url(&db.0);
    let a = Replica::start("a", &db, &redis, &[]);
    let b = Replica::start("b", &db, &redis, &[("DATABASE_URL", &through_counter)]);
    for replica in [&a, &b] {
        replica.until(
            "checking revocations in memory",
            Duration::from_secs(15),
            || revocations(replica) == "memory",
        );
    }

    let email = "revoked@example.com";
    let (user, token) = sign_up(&a, email);
    let me = format!("/v1/users/{user}");
    let get = |token: &str| b.get(Some(token), &me).status;
    // The first read fills the cache; the next ones are cache hits.
    assert_eq!(get(&token), 200);
    assert_eq!(get(&token), 200);
    let hit = counter.statements(|| assert_eq!(get(&token), 200));
    assert_eq!(hit, 0, "statements of an authenticated cache hit on b");

    // Logout through a: b refuses the token within the bound, from memory.
    let out = a.send(Some(&token), "POST", "/v1/auth/logout", &json!({}));
    assert_eq!(out.status, 204, "logout: {:?}", out.body);
    let logged_out = Instant::now();
    b.until(
        "refusing the logged-out token",
        REVOCATION_STALENESS,
        || get(&token) == 401,
    );
    eprintln!(
        "b refused the token {:?} after the logout",
        logged_out.elapsed()
    );
    let refusal = counter.statements(|| assert_eq!(get(&token), 401));
    assert_eq!(refusal, 0, "statements of b's refusal from memory");
    assert_eq!(a.get(Some(&token), &me).status, 401, "a refuses it too");

    // The outage: b's listening backend is terminated, and a token is
    // logged out through a before b listens again. The listener waits a
    // moment before reconnecting; on a slow machine the whole exchange may
    // outlast that, so it is tried again with a new session.
    // b's listening backend: the one whose client is the proxy.
    let listening = || {
        format!(
            "SELECT pid FROM pg_stat_activity WHERE datname = '{}' \
             AND query LIKE 'LISTEN%' AND client_port IN ({})",
            db.0,
            counter.client_ports()
        )
    };
    let mut tried = 0;
    let outage_token = loop {
        tried += 1;
        assert!(tried <= 5, "no logout landed inside b's outage in 5 tries");
        b.until("listening again", Duration::from_secs(15), || {
            revocations(&b) == "memory"
        });
        let token = log_in(&a, email);
        assert_eq!(get(&token), 200, "a new session is accepted by b");
        let pid = db.sql(&listening());
        assert!(
            !pid.is_empty() && !pid.contains('\n'),
            "b's listener: {pid:?} in\n{}",
            db.sql(&format!(
                "SELECT pid, application_name, query FROM pg_stat_activity WHERE datname = '{}'",
                db.0
            ))
        );
        assert_eq!(db.sql(&format!("SELECT pg_terminate_backend({pid})")), "t");
        b.until(
            "checking revocations in the database",
            Duration::from_secs(5),
            || revocations(&b) == "database",
        );
        let out = a.send(Some(&token), "POST", "/v1/auth/logout", &json!({}));
        assert_eq!(out.status, 204, "logout: {:?}", out.body);
        // Refused while b still has no set: by the database query.
        let queried = counter.statements(|| assert_eq!(get(&token), 401, "during the outage"));
        if revocations(&b) != "database" {
            eprintln!("b listened again before the check; trying again");
            continue;
        }
        assert!(
            queried >= 1,
            "b's refusal during the outage asked the database"
        );
        break token;
    };
    // A new listener, and the logout it missed comes from the reload.
    b.until("listening again", Duration::from_secs(15), || {
        revocations(&b) == "memory"
    });
    let pid = db.sql(&listening());
    assert!(!pid.is_empty(), "b listens again");
    let refusal = counter.statements(|| assert_eq!(get(&outage_token), 401));
    assert_eq!(
        refusal, 0,
        "b refuses the token logged out during the outage from memory"
    );
    let fresh = log_in(&a, email);
    assert_eq!(get(&fresh), 200, "another session is still accepted");
    let hit = counter.statements(|| assert_eq!(get(&fresh), 200));
    assert_eq!(hit, 0, "statements of a cache hit after the reconnect");
}

/// A node of a private Redis Cluster: `redis-server --cluster-enabled` on
/// `port` (its bus on `port + 10000`), with its own directory holding its
/// cluster config and an append-only file synced on every write, so a node
/// killed and started again comes back with its slots and its keys. Killed
/// on drop.
struct ClusterNode {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl ClusterNode {
    fn start(root: &Path, port: u16) -> ClusterNode {
        let dir = root.join(port.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut node = ClusterNode {
            port,
            dir,
            child: None,
        };
        node.launch();
        node
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-config-file", "nodes.conf"])
            .args(["--cluster-node-timeout", "1000"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "node {} answers", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        redis_cli(self.port, args)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three primaries on 19300-19302 (no replicas), slots spread by
/// `redis-cli --cluster create`.
struct Cluster {
    nodes: Vec<ClusterNode>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let nodes: Vec<ClusterNode> = (19300..19303)
            .map(|port| ClusterNode::start(dir.path(), port))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Cluster { nodes, _dir: dir };
        cluster.until_ok();
        cluster
    }

    /// Waits until every node reports `cluster_state:ok`.
    fn until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            while !node.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok") {
                assert!(Instant::now() < deadline, "node {} is ok", node.port);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// `REDIS_URL`: every node, comma-separated.
    fn urls(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(ClusterNode::url).collect();
        urls.join(",")
    }

    /// The node serving `key` (the others answer `MOVED`).
    fn owner(&self, key: &str) -> usize {
        let owners: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].cli(&["EXISTS", key]).contains("MOVED"))
            .collect();
        assert_eq!(owners.len(), 1, "one node serves {key}");
        owners[0]
    }

    /// `args` run on the node serving `key`.
    fn cli_for(&self, key: &str, args: &[&str]) -> String {
        self.nodes[self.owner(key)].cli(args)
    }
}

/// `/health`'s cache counter `name` (`hits`, `misses`, `errors`).
fn cache_count(replica: &Replica, name: &str) -> u64 {
    let health = replica.get(None, "/health");
    health.body["cache"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: cache.{name} in {:?}", replica.name, health.body))
}

/// Two replicas on a three-node Redis Cluster (`REDIS_CLUSTER`, every node
/// in `REDIS_URL`): by-id and list entries are cached (hits counted) and a
/// write through one replica is never served stale by the other, through
/// Redis and through the local tiers (whose subscriptions confirm); the
/// login bucket is one for both; the keys are where their hash tags put
/// them. Then the node holding the cache's slot is killed: reads and a
/// write go on without a 5xx, the tiers are bypassed, and the node comes
/// back with its keys (the entry the write made stale included); the
/// writer's unsent invalidation reaches it, so neither replica serves the
/// stale entry, the tiers confirm again and a write after the restart is
/// seen at once.
#[test]
fn a_redis_cluster_serves_the_cache_and_the_limit_through_a_node_restart() {
    let _serial = serial("a_redis_cluster_serves_the_cache_and_the_limit_through_a_node_restart");
    let db = Database::create("cluster");
    let mut cluster = Cluster::start();
    let env = [
        ("REDIS_CLUSTER", "true"),
        ("CACHE_LOCAL_TTL", "3s"),
        ("RATE_LIMIT_ENABLED", "true"),
    ];
    let a = Replica::start_on("a", &db, &cluster.urls(), &env);
    let b = Replica::start_on("b", &db, &cluster.urls(), &env);
    let both = [&a, &b];
    for replica in both {
        replica.until_subscribed();
    }

    let (user, token) = sign_up(&a, "carol@example.com");
    let (id, made) = a.create_order(&token, &json!({ "total_cents": 100, "note": "first" }));
    all_see(&both, &token, user, id, Some(&made), "after the create");
    let hits = cache_count(&b, "hits");
    all_see(&both, &token, user, id, Some(&made), "again");
    assert!(
        cache_count(&b, "hits") >= hits + 3,
        "b's by-id and list reads hit the cache"
    );
    assert_eq!(cache_count(&a, "errors"), 0, "no script was refused");
    assert_eq!(cache_count(&b, "errors"), 0, "no script was refused");
    // The entry (under epoch 0 of orders) and the generation are in Redis,
    // on the node of `{scale-shop}`.
    let entry = format!("{{{PACKAGE}}}:/orders/{id}@0");
    let generation = format!("{{{PACKAGE}}}:/orders:generation");
    assert!(cluster.cli_for(&entry, &["GET", &entry]).contains("first"));
    assert_eq!(cluster.cli_for(&generation, &["GET", &generation]), "1");

    let patched = b.patch_order(&token, id, &json!({ "total_cents": 200 }));
    all_see(&both, &token, user, id, Some(&patched), "after b's PATCH");

    // One login bucket for both replicas: sign_up took one of its 5 tokens.
    let guess = json!({ "email": "nobody@example.com", "password": "wrong password" });
    let statuses: Vec<u16> = (0..8)
        .map(|i| {
            both[i % 2]
                .send(None, "POST", "/v1/auth/login", &guess)
                .status
        })
        .collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 429, 429, 429, 429],
        "one shared login bucket of 5"
    );
    let bucket = format!("{{{PACKAGE}:rl}}:login:ip:127.0.0.1");
    let tokens: f64 = cluster
        .cli_for(&bucket, &["HGET", &bucket, "tokens"])
        .parse()
        .unwrap();
    assert!(tokens < 1.0, "{bucket} is empty: {tokens}");

    // The node of the cache's slot goes away; its keys stay on disk.
    let owner = cluster.owner(&entry);
    cluster.nodes[owner].kill();
    for replica in both {
        replica.until("bypassing its tier", Duration::from_secs(5), || {
            replica.local_tier() == "bypassed"
        });
    }
    let during = a.patch_order(&token, id, &json!({ "note": "while a node was down" }));
    // Reads fall back to the database: no 5xx, and the write is seen.
    all_see(&both, &token, user, id, Some(&during), "with the node down");

    cluster.nodes[owner].launch();
    cluster.until_ok();
    for replica in both {
        replica.until("subscribed again", Duration::from_secs(10), || {
            replica.local_tier() == "on"
        });
    }
    // a's invalidation, unsent while the node was down, reached it (as a
    // bump of the orders' epoch, the entry's key unknown to a then): the
    // entry the node restored from disk, from before a's write, is still
    // there, and nobody reads it.
    let epoch = format!("{{{PACKAGE}}}:/orders:epoch");
    a.until("its invalidation sent", Duration::from_secs(5), || {
        cluster.cli_for(&epoch, &["GET", &epoch]) == "1"
    });
    assert!(
        cluster.cli_for(&entry, &["GET", &entry]).contains("first"),
        "the stale entry came back with the node"
    );
    all_see(&both, &token, user, id, Some(&during), "after the restart");
    let after = b.patch_order(&token, id, &json!({ "note": "after the restart" }));
    all_see(
        &both,
        &token,
        user,
        id,
        Some(&after),
        "after a write past the restart",
    );
    let hits = cache_count(&a, "hits");
    all_see(&both, &token, user, id, Some(&after), "again");
    assert!(cache_count(&a, "hits") > hits, "a hits the cache again");
}

/// A private CA and a certificate for 127.0.0.1 signed by it, made with
/// the openssl CLI in `dir`: the CA's PEM file.
fn make_certificates(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=scale test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "redis.key",
        "-out",
        "redis.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "redis.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "redis.pem",
    ]);
    dir.join("ca.pem")
}

/// `redis-server` with TLS only, on 19350; killed on drop.
struct TlsRedis {
    child: Child,
    dir: PathBuf,
}

impl TlsRedis {
    const PORT: u16 = 19350;

    fn start(dir: &Path) -> TlsRedis {
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(["--tls-port", &Self::PORT.to_string()])
            .args([
                "--tls-cert-file",
                "redis.pem",
                "--tls-key-file",
                "redis.key",
            ])
            .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let redis = TlsRedis {
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "the TLS redis-server answers");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    fn cli(&self, args: &[&str]) -> String {
        let ca = self.dir.join("ca.pem");
        let tls = ["--tls", "--cacert", ca.to_str().unwrap()];
        redis_cli(Self::PORT, &[&tls[..], args].concat())
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `rediss://` with `REDIS_CA_CERT`: the cache and the limiter work over
/// TLS against a server whose certificate a private CA signed (a miss, then
/// a hit; the entry in Redis; the limiter's backend healthy), and without
/// the CA the certificate is refused (cache errors, no hit, nothing stored).
#[test]
fn rediss_works_with_the_ca_of_redis_ca_cert() {
    let _serial = serial("rediss_works_with_the_ca_of_redis_ca_cert");
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certificates(dir.path());
    let redis = TlsRedis::start(dir.path());
    let db = Database::create("tls");
    let url = format!("rediss://127.0.0.1:{}", TlsRedis::PORT);
    let ca = ca.to_str().unwrap();
    let trusting = Replica::start_on("trusting", &db, &url, &[("REDIS_CA_CERT", ca)]);
    let (user, token) = sign_up(&trusting, "dave@example.com");
    let me = format!("/v1/users/{user}");
    // The registration's invalidation opened the connection (its first
    // call may have timed out on a busy machine: counted, and re-sent).
    let (hits, misses, errors) = (
        cache_count(&trusting, "hits"),
        cache_count(&trusting, "misses"),
        cache_count(&trusting, "errors"),
    );
    for _ in 0..2 {
        let got = trusting.get(Some(&token), &me);
        assert_eq!(got.status, 200, "{:?}", got.body);
    }
    assert_eq!(cache_count(&trusting, "misses"), misses + 1, "one miss");
    assert_eq!(cache_count(&trusting, "hits"), hits + 1, "then a hit");
    assert_eq!(
        cache_count(&trusting, "errors"),
        errors,
        "{}",
        trusting.logs()
    );
    let entry = format!("{{{PACKAGE}}}:/users/{user}");
    assert!(
        redis.cli(&["GET", &entry]).contains("dave@example.com"),
        "{entry} is in Redis"
    );
    drop(trusting);

    // The system's CAs do not know the private one: the TLS handshake fails
    // and the cache (failing open) reads the database every time.
    assert_eq!(redis.cli(&["FLUSHALL"]), "OK");
    let doubting = Replica::start_on("doubting", &db, &url, &[]);
    for _ in 0..2 {
        let got = doubting.get(Some(&token), &me);
        assert_eq!(got.status, 200, "{:?}", got.body);
    }
    assert_eq!(cache_count(&doubting, "hits"), 0, "no hit without the CA");
    assert!(cache_count(&doubting, "errors") > 0, "the handshake fails");
    assert_eq!(redis.cli(&["EXISTS", &entry]), "0", "nothing stored");
}
