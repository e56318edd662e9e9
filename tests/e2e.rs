//! End to end, for every spec in specs/: generate into a temporary directory,
//! check formatting and clippy, run the service's own test suite against the
//! real PostgreSQL, then start the binary and drive it over HTTP.
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user `postgres`, database
//! `test`). Every generated service builds into one shared target directory,
//! `target/e2e`, so their dependencies compile once per run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scaffold::model::Service;

use serde_json::{Value, json};

mod common;
use common::{Redis, StatementCounter, free_port, psql, target_dir};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Runs cargo in a generated service and fails the test with its output.
fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        // Debug info would triple the shared target directory (several GB
        // for four services) and the link time; a failing test reads the
        // service's own output, not a debugger.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("DATABASE_URL", ADMIN_URL)
        // The cache's own tests run against Redis too (under keys of their
        // own), as in the service's CI workflow.
        .env("REDIS_URL", "redis://127.0.0.1:6379")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "`cargo {}` failed in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// rustfmt-clean and clippy-clean as emitted, the service's own test suite
/// green against the real database, and the binary built.
fn check_and_build(dir: &Path) {
    cargo(dir, &["fmt", "--check"]);
    cargo(
        dir,
        &[
            "clippy",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(dir, &["test", "--locked"]);
    cargo(dir, &["build", "--locked"]);
}

/// A running generated service; killed on drop if the test did not stop it.
struct Running {
    child: Child,
    base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(bin: &Path, db: &str) -> Running {
        Running::start_with(bin, db, &[])
    }

    /// Like [`Running::start`], with extra environment variables.
    fn start_with(bin: &Path, db: &str, env: &[(&str, &str)]) -> Running {
        let port = free_port();
        let mut child = Command::new(bin)
            .env(
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:5432/{db}"),
            )
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("LOG_FORMAT", "json")
            // No load balancer to drain from: stop serving as soon as asked.
            .env("SHUTDOWN_DELAY", "0")
            .env("BODY_LIMIT_BYTES", "65536")
            // Read by services with `auth`; at least 32 bytes.
            .env("JWT_SECRET", "e2e-secret-that-is-long-enough-for-hs256")
            // The walk below sends hundreds of requests from one address in a
            // burst; the limiter itself is covered by the service's own tests
            // and by the schemathesis stage of CI.
            .env("RATE_LIMIT_ENABLED", "false")
            .env("RUST_LOG", "info")
            // The test's own settings win over the defaults above.
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("service starts");
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
        let running = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
            logs,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http().get(format!("{}/readyz", running.base)).call()
                && r.status() == 200
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "service did not become ready:\n{}",
                running.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        running
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// A response reduced to what the assertions look at.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the RFC 9457 problem shape every error must have.
    fn assert_problem(&self, status: u16, path: &str) -> &Self {
        assert_eq!(self.status, status, "{path}: {:?}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(self.body["status"], status, "{path}: {:?}", self.body);
        assert!(self.body["title"].is_string(), "{path}: {:?}", self.body);
        assert!(self.body["detail"].is_string(), "{path}: {:?}", self.body);
        assert!(
            self.body["timestamp"].is_string(),
            "{path}: {:?}",
            self.body
        );
        assert_eq!(
            self.body["instance"],
            path.split('?').next().unwrap(),
            "{:?}",
            self.body
        );
        self
    }

    fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn request(method: &str, url: &str, body: Option<(&str, Vec<u8>)>) -> Resp {
    request_as(None, method, url, body)
}

/// A request with `Authorization: Bearer <token>` when a token is given.
fn request_as(token: Option<&str>, method: &str, url: &str, body: Option<(&str, Vec<u8>)>) -> Resp {
    let headers: Vec<(&str, String)> = token
        .map(|token| ("authorization", format!("Bearer {token}")))
        .into_iter()
        .collect();
    request_with(&headers, method, url, body)
}

/// A request with these extra headers.
fn request_with(
    headers: &[(&str, String)],
    method: &str,
    url: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Resp {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let agent = http();
    let result = match body {
        Some((content_type, bytes)) => {
            let mut b = builder;
            if !content_type.is_empty() {
                b = b.header("content-type", content_type);
            }
            agent.run(b.body(bytes).unwrap())
        }
        None => agent.run(builder.body(()).unwrap()),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn send(method: &str, url: &str, body: &Value) -> Resp {
    request(method, url, Some(json_body(body)))
}

/// A JSON request body, as `request` and `request_with` take it.
fn json_body(body: &Value) -> (&'static str, Vec<u8>) {
    ("application/json", serde_json::to_vec(body).unwrap())
}

/// A body for resource `r` from the generated `tests/fixtures.json`: the
/// `n`th sample of every field, the given parent ids, and no `skip_fk`.
fn body_for(r: &Value, n: usize, parents: &[(String, Value)], skip_fk: Option<&str>) -> Value {
    let mut body = serde_json::Map::new();
    for f in r["fields"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        // Fields only some roles may write are left to their defaults.
        if f.get("writers").is_some_and(|w| !w.is_null()) {
            continue;
        }
        if let Some(parent) = f["parent"].as_str() {
            if skip_fk == Some(name) {
                continue;
            }
            let id = parents
                .iter()
                .find(|(p, _)| p == parent)
                .map(|(_, id)| id.clone())
                .unwrap();
            body.insert(name.to_string(), id);
        } else {
            let samples = f["samples"].as_array().unwrap();
            body.insert(name.to_string(), samples[n % samples.len()].clone());
        }
    }
    Value::Object(body)
}

/// Does the response echo every field that was sent?
fn assert_echoes(sent: &Value, got: &Value, what: &str) {
    for (k, v) in sent.as_object().unwrap() {
        assert_eq!(&got[k], v, "{what}: field `{k}` in {got}");
    }
}

fn id_path(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Walks every page of a list and returns the ids in the order served.
fn all_pages(base: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut url = format!("{base}?limit={limit}");
    loop {
        let page = request("GET", &url, None);
        assert_eq!(page.status, 200, "{url}: {:?}", page.body);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|i| i["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(c) => url = format!("{base}?limit={limit}&cursor={c}"),
            None => break,
        }
        assert!(pages < 100, "pagination does not end");
    }
    (ids, pages)
}

fn id_sort_key(v: &Value) -> (i64, String) {
    (
        v.as_i64().unwrap_or(0),
        v.as_str().unwrap_or_default().to_string(),
    )
}

/// Drives every route of every resource of a running service.
fn exercise(svc: &Running, model: &Service, fixtures: &Value, db: &str) {
    // Ids of created rows per resource, parents first.
    let mut created: Vec<(String, Vec<Value>)> = Vec::new();
    for r in &model.resources {
        let parents: Vec<(String, Value)> = r
            .parents
            .iter()
            .map(|p| {
                let ids = &created.iter().find(|(n, _)| *n == p.resource).unwrap().1;
                (p.resource.clone(), ids[0].clone())
            })
            .collect();
        let collection = svc.url(&r.route);
        let fx = fixtures["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == r.name.as_str())
            .unwrap();

        // Create five rows: 201, Location, and the body echoes what was sent.
        let mut ids = Vec::new();
        for n in 0..5 {
            let body = body_for(fx, n, &parents, None);
            let resp = send("POST", &collection, &body);
            assert_eq!(resp.status, 201, "create {}: {:?}", r.name, resp.body);
            assert_echoes(&body, &resp.body, &r.name);
            let id = resp.body["id"].clone();
            assert_eq!(
                resp.header("location"),
                Some(format!("{}/{}", r.route, id_path(&id)).as_str())
            );
            ids.push(id);
        }
        assert_eq!(
            psql(db, &format!("SELECT count(*) FROM {}", r.table_q)),
            "5",
            "{} rows in the database",
            r.name
        );

        // Get one, and a missing one.
        let one = request("GET", &format!("{collection}/{}", id_path(&ids[1])), None);
        assert_eq!(one.status, 200);
        assert_eq!(one.body["id"], ids[1]);
        let missing = if r.pk.is_uuid {
            "00000000-0000-4000-8000-999999999999"
        } else {
            "999999999"
        };
        let path = format!("{}/{missing}", r.route);
        request("GET", &svc.url(&path), None).assert_problem(404, &path);

        // Every row exactly once across pages, in id order.
        let (listed, pages) = all_pages(&collection, 2);
        assert_eq!(pages, 3, "5 rows at 2 per page");
        let mut expected = ids.clone();
        expected.sort_by_key(id_sort_key);
        assert_eq!(listed, expected, "{} list", r.name);
        let capped = request("GET", &format!("{collection}?limit=100000"), None);
        assert_eq!(capped.status, 200, "an over-large limit is capped");
        assert_eq!(capped.body["items"].as_array().unwrap().len(), 5);
        let path = format!("{}?cursor=not-a-cursor", r.route);
        request("GET", &svc.url(&path), None).assert_problem(400, &path);

        // PUT replaces, PATCH changes one field and keeps the rest.
        let target = format!("{collection}/{}", id_path(&ids[0]));
        let replacement = body_for(fx, 5, &parents, None);
        let put = send("PUT", &target, &replacement);
        assert_eq!(put.status, 200, "put {}: {:?}", r.name, put.body);
        assert_echoes(&replacement, &put.body, &r.name);
        if let Some(f) = r.fields.iter().find(|f| f.parent.is_none()) {
            let samples = fx["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == f.name.as_str())
                .unwrap()["samples"]
                .as_array()
                .unwrap();
            let patch = json!({ f.name.clone(): samples[6 % samples.len()].clone() });
            let patched = send("PATCH", &target, &patch);
            assert_eq!(patched.status, 200, "patch {}: {:?}", r.name, patched.body);
            assert_echoes(&patch, &patched.body, &r.name);
            let mut rest = replacement.clone();
            rest.as_object_mut().unwrap().remove(&f.name);
            assert_echoes(
                &rest,
                &patched.body,
                "fields a PATCH did not name are unchanged",
            );
        }

        // Client mistakes: every one a problem document with the right status.
        let path = r.route.clone();
        request(
            "POST",
            &collection,
            Some(("application/json", b"{\"oops\":".to_vec())),
        )
        .assert_problem(400, &path);
        request("POST", &collection, Some(("", b"{}".to_vec()))).assert_problem(415, &path);
        request("POST", &collection, Some(("text/plain", b"{}".to_vec())))
            .assert_problem(415, &path);
        let mut unknown = body_for(fx, 7, &parents, None);
        unknown["id"] = json!(1);
        unknown["not_a_field"] = json!(true);
        let resp = send("POST", &collection, &unknown);
        resp.assert_problem(422, &path);
        let empty = send("POST", &collection, &json!({}));
        empty.assert_problem(422, &path);
        let required: Vec<String> = r
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(
            empty.error_fields(),
            required,
            "422 names every missing required field"
        );
        let bad_id = format!("{}/not-an-id", r.route);
        request("GET", &svc.url(&bad_id), None).assert_problem(400, &bad_id);
        if !r.pk.is_uuid {
            let overflow = format!("{}/99999999999999999999", r.route);
            request("GET", &svc.url(&overflow), None).assert_problem(400, &overflow);
        }
        let wrong = request("DELETE", &collection, None);
        wrong.assert_problem(405, &path);
        let allow = wrong.header("allow").unwrap_or_default().to_string();
        assert!(
            allow.contains("GET") && allow.contains("POST"),
            "Allow: {allow}"
        );
        if let Some(f) = r.fields.iter().find(|f| f.spec.unique) {
            let dup = send("POST", &collection, &body_for(fx, 1, &parents, None));
            dup.assert_problem(409, &path);
            assert_eq!(dup.error_fields(), vec![f.name.clone()]);
        }

        // Nested routes under each parent.
        for (i, p) in r.parents.iter().enumerate() {
            let parent_id = parents
                .iter()
                .find(|(n, _)| *n == p.resource)
                .unwrap()
                .1
                .clone();
            let nested = svc.url(
                &p.nested_route
                    .replace(&format!("{{{}}}", p.column), &id_path(&parent_id)),
            );
            let (under, _) = all_pages(&nested, 2);
            assert_eq!(under.len(), 5, "all rows belong to the first parent");
            let body = body_for(fx, 8 + i, &parents, Some(&p.column));
            let made = send("POST", &nested, &body);
            assert_eq!(
                made.status, 201,
                "nested create {}: {:?}",
                r.name, made.body
            );
            assert_eq!(made.body[&p.column], parent_id);
            ids.push(made.body["id"].clone());
            let ghost_parent = if p.pk_rust_type == "i64" {
                "999999999"
            } else {
                "00000000-0000-4000-8000-999999999999"
            };
            let ghost_path = p
                .nested_route
                .replace(&format!("{{{}}}", p.column), ghost_parent);
            request("GET", &svc.url(&ghost_path), None).assert_problem(404, &ghost_path);
            let fresh = body_for(fx, 10 + i, &parents, Some(&p.column));
            send("POST", &svc.url(&ghost_path), &fresh).assert_problem(404, &ghost_path);
        }
        created.push((r.name.clone(), ids));
    }

    // Delete the last row of each resource, children first: 204, then 404.
    for r in model.resources.iter().rev() {
        let ids = &created.iter().find(|(n, _)| *n == r.name).unwrap().1;
        let before: i64 = psql(db, &format!("SELECT count(*) FROM {}", r.table_q))
            .parse()
            .unwrap();
        let path = format!("{}/{}", r.route, id_path(ids.last().unwrap()));
        let gone = request("DELETE", &svc.url(&path), None);
        assert_eq!(gone.status, 204, "{:?}", gone.body);
        request("DELETE", &svc.url(&path), None).assert_problem(404, &path);
        request("GET", &svc.url(&path), None).assert_problem(404, &path);
        let after: i64 = psql(db, &format!("SELECT count(*) FROM {}", r.table_q))
            .parse()
            .unwrap();
        assert_eq!(after, before - 1);
    }

    // Service-wide behaviour.
    request("GET", &svc.url("/no/such/route"), None).assert_problem(404, "/no/such/route");
    let first = &model.resources[0];
    let huge = vec![b' '; 70_000];
    request(
        "POST",
        &svc.url(&first.route),
        Some(("application/json", huge)),
    )
    .assert_problem(413, &first.route);
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["database"], "up");
    // No DATABASE_READ_URL: no replica, and no routing.
    assert_eq!(health.body["database_replica"], "off");
    assert!(health.body["uptime_seconds"].is_u64());
    assert_eq!(request("GET", &svc.url("/livez"), None).status, 200);
    assert_eq!(request("GET", &svc.url("/readyz"), None).status, 200);
    assert_eq!(health.header("x-content-type-options"), Some("nosniff"));

    // The document served is the one generated, and it lists every route.
    let openapi = request("GET", &svc.url("/openapi.json"), None);
    assert_eq!(openapi.status, 200);
    assert_eq!(openapi.body["openapi"], "3.1.0");
    for r in &model.resources {
        assert!(openapi.body["paths"][&r.route].is_object(), "{}", r.route);
    }

    // Metrics saw the traffic above, by route template.
    let metrics = request("GET", &svc.url("/metrics"), None);
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().unwrap_or_default();
    let first_route = format!("route=\"{}\"", model.resources[0].route);
    assert!(
        text.lines()
            .any(|l| l.starts_with("http_requests_total{") && l.contains(&first_route)),
        "{text}"
    );
    assert!(text.contains("db_pool_connections "), "{text}");
}

fn end_to_end(spec_name: &str) {
    let source = std::fs::read_to_string(format!(
        "{}/specs/{spec_name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let model = scaffold::check(&source).unwrap();
    let files = scaffold::compile(&source).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(spec_name);
    scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();

    check_and_build(&dir);

    let db = format!("scaffold_e2e_{spec_name}_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let bin = target_dir().join("debug").join(&model.package);
    let mut svc = Running::start(&bin, &db);
    let fixtures: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tests/fixtures.json")).unwrap())
            .unwrap();
    if fixtures.get("auth").is_some() {
        exercise_auth(&svc, &fixtures, &db);
        exercise_owner_chains(&svc, &fixtures, &db);
    } else {
        exercise(&svc, &model, &fixtures, &db);
    }
    if spec_name == "blog" {
        exercise_stemming(&svc);
    }

    // Logs are JSON lines.
    let logs = svc.logs();
    let json_lines = logs
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count();
    assert!(
        json_lines > 0,
        "LOG_FORMAT=json gives JSON log lines:\n{logs}"
    );
    // Each request's closing line carries its status and latency.
    assert!(
        logs.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| l["status"].is_u64()
                && l["latency"].is_string()
                && l["span"]["route"].is_string()),
        "request log lines with status, latency and route:\n{logs}"
    );
    // With auth, a signed-in request's lines name the user; the token never
    // reaches a log line.
    if fixtures.get("auth").is_some() {
        assert!(
            logs.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .any(|l| l["span"]["user_id"].is_string() && l["span"]["request_id"].is_string()),
            "request log lines with the user id:\n{logs}"
        );
        assert!(!logs.contains("eyJ"), "no JWT in the logs:\n{logs}");
    }

    // SIGTERM while a request is in flight: the request completes, then the
    // process exits 0. A row lock taken in psql holds the request (a PATCH
    // of that row) inside the database while the signal arrives.
    let held = (fixtures.get("auth").is_none()).then(|| {
        let fx = &fixtures["resources"][0];
        let route = fx["route"].as_str().unwrap().to_string();
        let made = send("POST", &svc.url(&route), &body_for(fx, 11, &[], None));
        assert_eq!(made.status, 201, "{:?}", made.body);
        let id = id_path(&made.body["id"]);
        let table = fx["table"].as_str().unwrap();
        let lock = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &db, "-qc"])
            .arg(format!(
                "BEGIN; SELECT 1 FROM {table} WHERE id = {id} FOR UPDATE; SELECT pg_sleep(2); COMMIT;"
            ))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let field = fx["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["parent"].is_null())
            .unwrap();
        let change = json!({ field["name"].as_str().unwrap(): field["samples"][10].clone() });
        let url = svc.url(&format!("{route}/{id}"));
        let request = std::thread::spawn(move || {
            let started = Instant::now();
            (send("PATCH", &url, &change), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(400));
        (lock, request)
    });
    let pid = svc.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    if let Some((mut lock, request)) = held {
        let (response, took) = request.join().unwrap();
        assert_eq!(
            response.status, 200,
            "the in-flight request completes: {:?}",
            response.body
        );
        assert!(
            took >= Duration::from_millis(1000),
            "it was held by the lock ({took:?})"
        );
        assert!(lock.wait().unwrap().success());
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = svc.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGTERM:\n{}",
        svc.logs()
    );
    drop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
    drive_with_python_client(&bin, &dir, &format!("{db}_py"));
}

/// A client generated from the service's `openapi.json` by
/// openapi-python-client covers every operation (but `/metrics`) and drives
/// each one against the service on a database of its own: see
/// `tests/python_client.py`.
fn drive_with_python_client(bin: &Path, dir: &Path, db: &str) {
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let svc = Running::start(bin, db);
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_client.py");
    let out = Command::new("python3")
        .arg(driver)
        .arg(dir.join("openapi.json"))
        .arg(dir.join("tests/fixtures.json"))
        .arg(&svc.base)
        .arg(db)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}{}\n(openapi-python-client and openapi-spec-validator come from `python3 -m pip \
         install openapi-python-client==0.29.1 openapi-spec-validator==0.9.0`; .ci/test \
         installs them)\nservice logs:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        svc.logs()
    );
    drop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// The blog searches posts in English (`search: { language: english }`):
/// `?q=` matches a word's other forms, and a stop word alone matches nothing
/// instead of failing.
fn exercise_stemming(svc: &Running) {
    let author = send(
        "POST",
        &svc.url("/v1/authors"),
        &json!({ "handle": "stemmer", "display_name": "Stemmer" }),
    );
    assert_eq!(author.status, 201, "{:?}", author.body);
    let post = send(
        "POST",
        &svc.url(&format!("/v1/authors/{}/posts", author.body["id"])),
        &json!({ "title": "Running between the posts", "body": "Notes of a runner" }),
    );
    assert_eq!(post.status, 201, "{:?}", post.body);
    let found = |q: &str| {
        let page = request("GET", &svc.url(&format!("/v1/posts?q={q}&limit=100")), None);
        assert_eq!(page.status, 200, "q={q}: {:?}", page.body);
        listed(&page, &post.body["id"]).is_some()
    };
    // "runs" and "running" share the stem "run"; "post" is the stem of "posts".
    assert!(found("runs"), "q=runs finds \"Running\"");
    assert!(found("post"), "q=post finds \"posts\"");
    assert!(found("running%20-walking"), "web search syntax");
    assert!(!found("running%20-posts"), "a negated stem excludes");
    assert!(!found("the"), "a stop word alone matches nothing");
}

#[test]
fn shop_end_to_end() {
    end_to_end("shop");
}

#[test]
fn blog_end_to_end() {
    end_to_end("blog");
}

#[test]
fn catalog_end_to_end() {
    end_to_end("catalog");
}

#[test]
fn tracker_end_to_end() {
    end_to_end("tracker");
}

/// Users and their orders, without auth (the regeneration test drives the
/// routes anonymously), under its own package name: the other tests build a
/// `shop` binary into the same target directory at the same time.
const REGEN_SPEC: &str = "version: 1
service: regen-shop
resources:
  user:
    fields:
      email: { type: email, unique: true }
      name: { type: string, max_length: 100 }
  order:
    belongs_to: user
    fields:
      total_cents: { type: i64, min: 0 }
      status: { type: enum, values: [pending, paid, shipped], default: pending }
      note: { type: text, required: false }
      label: { type: string, required: false }
    indexes:
      - columns: [user_id, created_at desc]
";

/// Replaces `from` (which must be there) with `to` in the file at `path`;
/// returns the new text.
fn rewrite(path: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} no longer contains {from:?}",
        path.display()
    );
    let text = text.replace(from, to);
    std::fs::write(path, &text).unwrap();
    text
}

/// Stops a running service with SIGTERM and asserts a clean exit.
fn stop(mut svc: Running) {
    let pid = svc.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = svc.child.try_wait().unwrap() {
            assert_eq!(
                status.code(),
                Some(0),
                "exit after SIGTERM:\n{}",
                svc.logs()
            );
            return;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `psql` session holding a transaction open on `db` until [`commit`].
fn open_transaction(db: &str, sql: &str) -> Child {
    use std::io::Write;
    let mut child = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql runs");
    writeln!(child.stdin.as_mut().unwrap(), "BEGIN; {sql}").unwrap();
    child
}

fn commit(mut session: Child) {
    use std::io::Write;
    let mut stdin = session.stdin.take().unwrap();
    writeln!(stdin, "COMMIT;").unwrap();
    drop(stdin);
    assert!(session.wait().unwrap().success());
}

/// Generate and run a service, change its spec, regenerate, and run the new
/// build against the database the old build migrated: the new migrations
/// apply on top (an index built concurrently, a foreign key and a NOT NULL
/// validated apart, a new enum value used as a default), the old rows
/// survive, and the service's own tests pass. The migration waits for a
/// lock only `MIGRATE_LOCK_TIMEOUT_MS` at a time while a long transaction
/// holds the table, so queries behind it keep running, and retries until
/// that transaction ends. The old build then still starts against the newer
/// schema.
#[test]
fn regenerated_service_migrates_an_existing_database() {
    // The starter spec under its own package name: the other tests build a
    // `shop` binary into the same target directory at the same time.
    let tmp = tempfile::tempdir().unwrap();
    let spec = REGEN_SPEC;
    std::fs::write(tmp.path().join("spec.yaml"), spec).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scaffold"))
        .args(["new", "shop", "--spec", "spec.yaml"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("shop");
    cargo(&dir, &["build", "--locked"]);
    let bin = target_dir().join("debug/regen-shop");
    // The build is replaced below; the old one is kept to run it again.
    let old_bin = tmp.path().join("regen-shop-old");
    std::fs::copy(&bin, &old_bin).unwrap();
    let db = format!("scaffold_e2e_regen_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));

    let svc = Running::start(&bin, &db);
    let user = send(
        "POST",
        &svc.url("/v1/users"),
        &json!({"email": "ada@example.com", "name": "Ada"}),
    );
    assert_eq!(user.status, 201, "{:?}", user.body);
    for total in [1250, 300] {
        let order = send(
            "POST",
            &svc.url("/v1/users/1/orders"),
            &json!({"total_cents": total, "label": "first"}),
        );
        assert_eq!(order.status, 201, "{:?}", order.body);
    }
    stop(svc);

    // User-owned code: a hook that fills in a note, and a route of our own.
    // Regeneration must keep both, and the regenerated service must call them.
    let hooks = dir.join("src/hooks/order.rs");
    let hook_code = rewrite(
        &hooks,
        "pub async fn before_create(_state: &AppState, _new: &mut New) -> Result<(), ApiError> {\n    Ok(())",
        "pub async fn before_create(_state: &AppState, new: &mut New) -> Result<(), ApiError> {\n    new.note.get_or_insert_with(|| \"added by a hook\".to_owned());\n    Ok(())",
    );
    let custom = dir.join("src/custom.rs");
    let custom_code = rewrite(
        &custom,
        "pub fn routes() -> Router<AppState> {\n    Router::new()\n}",
        "pub fn routes() -> Router<AppState> {\n    Router::new().route(\"/v1/ping\", axum::routing::get(|| async { \"pong\" }))\n}",
    );

    // The spec: add a field, rename one, add an index, a resource, a
    // foreign key to it, a new enum value as the default, and make a field
    // required.
    let spec_path = dir.join("scaffold.yaml");
    let spec = std::fs::read_to_string(&spec_path).unwrap()
        .replace("      note: { type: text, required: false }", "      note: { type: text, required: false }\n      gift: { type: bool, default: false }")
        .replace("      name: { type: string, max_length: 100 }", "      full_name: { type: string, max_length: 100, renamed_from: name }")
        .replace("      - columns: [user_id, created_at desc]", "      - columns: [user_id, created_at desc]\n      - columns: [status]")
        .replace("    belongs_to: user", "    belongs_to: [user, { resource: coupon, on_delete: set_null }]")
        .replace("      label: { type: string, required: false }", "      label: { type: string, default: none }")
        .replace("values: [pending, paid, shipped], default: pending", "values: [pending, paid, shipped, held], default: held");
    std::fs::write(
        &spec_path,
        format!("{spec}  coupon:\n    fields:\n      code: {{ type: string, unique: true }}\n"),
    )
    .unwrap();
    let generate = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_scaffold"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    // The rename breaks the running old build: refused without the flag.
    let out = generate(&["generate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("renaming the column `name`"));
    let out = generate(&["generate", "--allow-destructive"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migration_count = std::fs::read_dir(dir.join("migrations")).unwrap().count();
    assert!(migration_count > 3, "the change is split into steps");

    check_and_build(&dir);

    // A build of the index that was interrupted leaves it INVALID: a unique
    // build over duplicate values fails half way the same way.
    let failed = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &db, "-c"])
        .arg("CREATE UNIQUE INDEX CONCURRENTLY \"orders_status_idx\" ON \"orders\" (\"user_id\")")
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert_eq!(
        psql(
            &db,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = '\"orders_status_idx\"'::regclass"
        ),
        "f"
    );

    // A long transaction reads the table the migration alters.
    let holder = open_transaction(&db, "SELECT count(*) FROM \"orders\";");
    let held = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                WHERE c.relname = 'orders' AND l.mode = 'AccessShareLock' AND l.granted";
    let deadline = Instant::now() + Duration::from_secs(10);
    while psql(&db, held) == "0" {
        assert!(Instant::now() < deadline, "the transaction holds its lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let migrate = Command::new(&bin)
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{db}"),
        )
        .env("MIGRATE_LOCK_TIMEOUT_MS", "300")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The migration's ALTER TABLE waits behind the transaction, and every
    // query on the table waits behind it, but only up to the lock timeout:
    // reads from other sessions keep completing.
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let started = Instant::now();
        let count = psql(
            &db,
            "SET statement_timeout = '3s'; SELECT count(*) FROM \"orders\"",
        );
        // After the `SET` psql prints its tag.
        assert_eq!(count.lines().last(), Some("2"), "{count}");
        assert!(started.elapsed() < Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        psql(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'coupon_id'"
        ),
        "0",
        "nothing applied while the transaction is open"
    );
    commit(holder);
    let out = migrate.wait_with_output().unwrap();
    let migrate_log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{migrate_log}");
    assert!(
        migrate_log.contains("timed out after 300ms waiting for a lock"),
        "{migrate_log}"
    );
    assert!(migrate_log.contains("migrations applied"), "{migrate_log}");
    assert!(
        migrate_log.contains("dropping the index \"orders_status_idx\""),
        "{migrate_log}"
    );
    assert_eq!(
        psql(&db, "SELECT count(*) FROM _sqlx_migrations WHERE success"),
        migration_count.to_string()
    );
    assert_eq!(
        psql(
            &db,
            "SELECT indisvalid::text || indisunique::text FROM pg_index WHERE indexrelid = '\"orders_status_idx\"'::regclass"
        ),
        "truefalse",
        "the interrupted build was dropped and the index built again"
    );
    assert_eq!(
        psql(
            &db,
            "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_coupon_id_fkey'"
        ),
        "t"
    );
    assert_eq!(
        psql(
            &db,
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = '\"orders\"'::regclass AND attname = 'label'"
        ),
        "t"
    );
    assert_eq!(
        psql(
            &db,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_label_not_null'"
        ),
        "0",
        "the helper check is gone"
    );

    let svc = Running::start(&bin, &db);
    let user = request("GET", &svc.url("/v1/users/1"), None);
    assert_eq!(user.status, 200);
    assert_eq!(
        user.body["full_name"], "Ada",
        "the renamed column kept its data"
    );
    let order = request("GET", &svc.url("/v1/orders/1"), None);
    assert_eq!(order.body["gift"], false, "the new column took its default");
    assert_eq!(order.body["total_cents"], 1250);
    assert_eq!(order.body["label"], "first");
    let hooked = send(
        "POST",
        &svc.url("/v1/users/1/orders"),
        &json!({"total_cents": 5}),
    );
    assert_eq!(hooked.status, 201, "{:?}", hooked.body);
    assert_eq!(hooked.body["note"], "added by a hook", "the kept hook runs");
    assert_eq!(
        hooked.body["status"], "held",
        "the new enum value is the default"
    );
    assert_eq!(hooked.body["label"], "none");
    let ping = request("GET", &svc.url("/v1/ping"), None);
    assert_eq!(
        (ping.status, ping.body.clone()),
        (200, json!("pong")),
        "the kept route is served"
    );
    assert_eq!(
        std::fs::read_to_string(&hooks).unwrap(),
        hook_code,
        "regeneration kept the hook"
    );
    assert_eq!(std::fs::read_to_string(&custom).unwrap(), custom_code);
    let coupon = send("POST", &svc.url("/v1/coupons"), &json!({"code": "WELCOME"}));
    assert_eq!(coupon.status, 201, "{:?}", coupon.body);
    stop(svc);

    // The old build, as a replica not yet replaced in a rolling deploy (or a
    // rollback), starts against the newer schema, migrating on start or not,
    // and serves what it knows.
    for migrate_on_start in ["true", "false"] {
        let old = Running::start_with(&old_bin, &db, &[("MIGRATE_ON_START", migrate_on_start)]);
        let order = request("GET", &old.url("/v1/orders/1"), None);
        assert_eq!(order.status, 200, "{:?}", order.body);
        assert_eq!(order.body["total_cents"], 1250);
        // It writes the columns it knows (`status` it cannot read back as
        // `held`, and `label` it still writes as optional, so both are
        // given) and the columns it does not know take their defaults.
        let created = send(
            "POST",
            &old.url("/v1/users/1/orders"),
            &json!({"total_cents": 9, "status": "pending", "label": "old"}),
        );
        assert_eq!(created.status, 201, "{:?}", created.body);
        let id = created.body["id"].to_string();
        assert_eq!(
            psql(
                &db,
                &format!(
                    "SELECT gift::text || coalesce(coupon_id::text, '-') FROM orders WHERE id = {id}"
                )
            ),
            "false-"
        );
        stop(old);
    }
    let out = Command::new(&old_bin)
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{db}"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no migrations to apply"));
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

fn send_as(token: &str, method: &str, url: &str, body: &Value) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap();
    request_as(Some(token), method, url, Some(("application/json", bytes)))
}

/// The login field of the credentials resource: its first unique field.
fn login_field(credentials: &Value) -> String {
    let fields = credentials["fields"].as_array().unwrap();
    let login = fields.iter().find(|f| f["unique"] == true).unwrap();
    login["name"].as_str().unwrap().to_string()
}

/// Registers an account (a sample body of the credentials resource plus a
/// password), logs it in, and returns its id and access token.
fn sign_up(svc: &Running, credentials: &Value, n: usize) -> (Value, String) {
    let password = "correct horse battery staple";
    let mut body = body_for(credentials, n, &[], None);
    body["password"] = json!(password);
    let registered = send("POST", &svc.url("/v1/auth/register"), &body);
    assert_eq!(registered.status, 201, "register: {:?}", registered.body);
    assert!(registered.body.get("password").is_none());
    assert!(registered.body.get("password_hash").is_none());
    let login = login_field(credentials);
    let credentials_body = json!({ login.clone(): body[&login], "password": password });
    let tokens = send("POST", &svc.url("/v1/auth/login"), &credentials_body);
    assert_eq!(tokens.status, 200, "login: {:?}", tokens.body);
    let token = tokens.body["access_token"].as_str().unwrap().to_string();
    (registered.body["id"].clone(), token)
}

/// One row of `table` as JSON text, to compare before and after.
fn row_json(db: &str, table: &str, id: &Value) -> String {
    psql(
        db,
        &format!(
            "SELECT row_to_json(t)::text FROM {table} t WHERE id = {}",
            id_path(id)
        ),
    )
}

/// Two users over HTTP: Alice's rows are hers alone. Bob, authenticated, can
/// neither see, change nor delete them, directly or through nested routes,
/// and the database shows his attempts changed nothing.
fn exercise_auth(svc: &Running, fixtures: &Value, db: &str) {
    let resources = fixtures["resources"].as_array().unwrap();
    let credentials = resources
        .iter()
        .find(|r| r["access"]["credentials"] == true)
        .unwrap();
    let owned = resources
        .iter()
        .find(|r| r["access"]["token_owner"].is_string())
        .expect("a resource owned through the token");
    let owner_column = owned["access"]["token_owner"].as_str().unwrap();
    let table = owned["table"].as_str().unwrap();
    let route = owned["route"].as_str().unwrap();
    let collection = svc.url(route);

    // No token, or a forged one: 401 with the challenge, in the problem shape.
    let anonymous = request("GET", &collection, None);
    anonymous.assert_problem(401, route);
    let challenge = anonymous.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    request_as(Some("not.a.jwt"), "GET", &collection, None).assert_problem(401, route);

    let (alice, alice_token) = sign_up(svc, credentials, 0);
    let (_bob, bob_token) = sign_up(svc, credentials, 1);
    let me = request_as(Some(&alice_token), "GET", &svc.url("/v1/auth/me"), None);
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["id"], alice);
    assert_eq!(me.header("cache-control"), Some("no-store"));

    // Alice creates three rows; the owner column comes from her token.
    let mut mine = Vec::new();
    for n in 0..3 {
        let body = body_for(owned, n, &[], Some(owner_column));
        let made = send_as(&alice_token, "POST", &collection, &body);
        assert_eq!(made.status, 201, "{:?}", made.body);
        assert_eq!(made.body[owner_column], alice);
        mine.push(made.body["id"].clone());
    }
    let page = request_as(
        Some(&alice_token),
        "GET",
        &format!("{collection}?limit=2"),
        None,
    );
    assert_eq!(page.status, 200);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    assert!(page.body["next_cursor"].is_string());

    // Bob sees none of them and cannot touch them: 404, database unchanged.
    let theirs = request_as(Some(&bob_token), "GET", &collection, None);
    assert_eq!(theirs.status, 200);
    assert_eq!(
        theirs.body["items"],
        json!([]),
        "Bob's list shows none of Alice's rows"
    );
    let target = format!("{route}/{}", id_path(&mine[0]));
    let before = row_json(db, table, &mine[0]);
    request_as(Some(&bob_token), "GET", &svc.url(&target), None).assert_problem(404, &target);
    let fields = owned["fields"].as_array().unwrap();
    let field = fields
        .iter()
        .find(|f| f["parent"].is_null() && f["writers"].is_null())
        .unwrap();
    let change = json!({ field["name"].as_str().unwrap(): field["samples"][5].clone() });
    send_as(&bob_token, "PATCH", &svc.url(&target), &change).assert_problem(404, &target);
    let replacement = body_for(owned, 6, &[], Some(owner_column));
    send_as(&bob_token, "PUT", &svc.url(&target), &replacement).assert_problem(404, &target);
    request_as(Some(&bob_token), "DELETE", &svc.url(&target), None).assert_problem(404, &target);
    assert_eq!(
        before,
        row_json(db, table, &mine[0]),
        "Bob's attempts changed nothing"
    );
    for p in owned["parents"].as_array().unwrap() {
        let column = p["column"].as_str().unwrap();
        let placeholder = format!("{{{column}}}");
        let nested = p["nested_route"]
            .as_str()
            .unwrap()
            .replace(&placeholder, &id_path(&alice));
        let listed = request_as(Some(&bob_token), "GET", &svc.url(&nested), None);
        listed.assert_problem(404, &nested);
        let body = body_for(owned, 7, &[], Some(column));
        send_as(&bob_token, "POST", &svc.url(&nested), &body).assert_problem(404, &nested);
        let own = request_as(Some(&alice_token), "GET", &svc.url(&nested), None);
        assert_eq!(own.status, 200);
        assert_eq!(own.body["items"].as_array().unwrap().len(), 3);
    }
    assert_eq!(psql(db, &format!("SELECT count(*) FROM {table}")), "3");

    // Alice may change and delete her own rows.
    let patched = send_as(&alice_token, "PATCH", &svc.url(&target), &change);
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    let deleted = request_as(Some(&alice_token), "DELETE", &svc.url(&target), None);
    assert_eq!(deleted.status, 204);
    assert_eq!(psql(db, &format!("SELECT count(*) FROM {table}")), "2");

    // A customer cannot make itself admin through the body: a valid body,
    // but not for its role (403 naming the field).
    let accounts = credentials["route"].as_str().unwrap();
    let own_account = format!("{accounts}/{}", id_path(&alice));
    let escalate = send_as(
        &alice_token,
        "PATCH",
        &svc.url(&own_account),
        &json!({ "role": "admin" }),
    );
    escalate.assert_problem(403, &own_account);
    assert_eq!(escalate.body["errors"][0]["field"], "role");
    let credentials_table = credentials["table"].as_str().unwrap();
    let role_sql = format!(
        "SELECT role::text FROM {credentials_table} WHERE id = {}",
        id_path(&alice)
    );
    assert_ne!(psql(db, &role_sql), "admin");

    // Service-wide behaviour.
    let unknown = request_as(Some(&alice_token), "GET", &svc.url("/no/such/route"), None);
    unknown.assert_problem(404, "/no/such/route");
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(health.status, 200);
    assert_eq!(health.body["database"], "up");
}

/// Resources owned through a longer `belongs_to` chain (`task → project →
/// member`): the owner column is the parent that is itself owned, which need
/// not be the first parent. Alice's rows are invisible and untouchable for Bob
/// on every route, and Bob cannot attach a row to Alice's parent: the 422
/// names the chain's column.
fn exercise_owner_chains(svc: &Running, fixtures: &Value, db: &str) {
    let resources = fixtures["resources"].as_array().unwrap();
    let by_name = |name: &str| resources.iter().find(|r| r["name"] == name).unwrap();
    let credentials = resources
        .iter()
        .find(|r| r["access"]["credentials"] == true)
        .unwrap();
    let chained: Vec<&Value> = resources
        .iter()
        .filter(|r| {
            r["access"]["owned"] == true
                && r["access"]["credentials"] == false
                && r["access"]["token_owner"].is_null()
        })
        .collect();
    for owned in chained {
        let table = owned["table"].as_str().unwrap();
        let route = owned["route"].as_str().unwrap();
        let parents = owned["parents"].as_array().unwrap();
        let chain = parents
            .iter()
            .find(|p| by_name(p["resource"].as_str().unwrap())["access"]["owned"] == true)
            .expect("an owned parent leads to the account");
        let chain_column = chain["column"].as_str().unwrap();
        assert_ne!(
            chain_column,
            parents[0]["column"].as_str().unwrap(),
            "the example puts a parent off the chain first"
        );
        let (alice, alice_token) = sign_up(svc, credentials, 10);
        let (_bob, bob_token) = sign_up(svc, credentials, 11);

        // Every parent row, created by Alice (an owned parent is hers).
        let mut parent_ids = Vec::new();
        for (n, p) in parents.iter().enumerate() {
            let parent = by_name(p["resource"].as_str().unwrap());
            let skip = parent["access"]["token_owner"].as_str();
            let body = body_for(parent, 20 + n, &[], skip);
            let collection = parent["route"].as_str().unwrap();
            let made = send_as(&alice_token, "POST", &svc.url(collection), &body);
            assert_eq!(made.status, 201, "{collection}: {:?}", made.body);
            if let Some(column) = skip {
                assert_eq!(made.body[column], alice);
            }
            parent_ids.push((
                p["resource"].as_str().unwrap().to_string(),
                made.body["id"].clone(),
            ));
        }
        let body = body_for(owned, 0, &parent_ids, None);
        let made = send_as(&alice_token, "POST", &svc.url(route), &body);
        assert_eq!(made.status, 201, "{route}: {:?}", made.body);
        let id = made.body["id"].clone();
        let target = format!("{route}/{}", id_path(&id));
        let before = row_json(db, table, &id);

        // Bob: the row is not listed, not readable, not writable.
        let listed = request_as(Some(&bob_token), "GET", &svc.url(route), None);
        assert_eq!(listed.status, 200, "{:?}", listed.body);
        assert_eq!(
            listed.body["items"],
            json!([]),
            "Bob lists none of Alice's rows"
        );
        request_as(Some(&bob_token), "GET", &svc.url(&target), None).assert_problem(404, &target);
        let field = owned["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["parent"].is_null() && f["writers"].is_null())
            .unwrap();
        let change = json!({ field["name"].as_str().unwrap(): field["samples"][3].clone() });
        send_as(&bob_token, "PATCH", &svc.url(&target), &change).assert_problem(404, &target);
        let replacement = body_for(owned, 4, &parent_ids, None);
        send_as(&bob_token, "PUT", &svc.url(&target), &replacement).assert_problem(404, &target);
        request_as(Some(&bob_token), "DELETE", &svc.url(&target), None)
            .assert_problem(404, &target);
        assert_eq!(
            before,
            row_json(db, table, &id),
            "Bob's attempts changed nothing"
        );

        // Nested routes: under Alice's owned parent Bob gets a 404; under the
        // shared parent he gets a page without Alice's row.
        for (p, (_, parent_id)) in parents.iter().zip(&parent_ids) {
            let column = p["column"].as_str().unwrap();
            let nested = p["nested_route"]
                .as_str()
                .unwrap()
                .replace(&format!("{{{column}}}"), &id_path(parent_id));
            let own = request_as(Some(&alice_token), "GET", &svc.url(&nested), None);
            assert_eq!(own.status, 200, "{nested}: {:?}", own.body);
            assert_eq!(own.body["items"][0]["id"], id, "{nested}");
            let theirs = request_as(Some(&bob_token), "GET", &svc.url(&nested), None);
            if column == chain_column {
                theirs.assert_problem(404, &nested);
            } else {
                assert_eq!(theirs.status, 200, "{nested}: {:?}", theirs.body);
                assert_eq!(theirs.body["items"], json!([]), "{nested}");
            }
        }

        // Bob cannot attach a row to Alice's parent: a 422 naming the column
        // of the owner chain, and no row is written.
        let count = psql(db, &format!("SELECT count(*) FROM {table}"));
        let stolen = body_for(owned, 5, &parent_ids, None);
        let refused = send_as(&bob_token, "POST", &svc.url(route), &stolen);
        refused.assert_problem(422, route);
        assert_eq!(
            refused.error_fields(),
            [chain_column.to_string()],
            "{:?}",
            refused.body
        );
        assert_eq!(count, psql(db, &format!("SELECT count(*) FROM {table}")));

        // Nor can Alice move her row under Bob's parent, by PATCH or PUT: the
        // same 422 naming the chain's column (not a 404: the row is hers),
        // and the row is unchanged.
        let chain_resource = chain["resource"].as_str().unwrap();
        let chain_parent = by_name(chain_resource);
        let skip = chain_parent["access"]["token_owner"].as_str();
        let collection = chain_parent["route"].as_str().unwrap();
        let bobs = send_as(
            &bob_token,
            "POST",
            &svc.url(collection),
            &body_for(chain_parent, 30, &[], skip),
        );
        assert_eq!(bobs.status, 201, "{collection}: {:?}", bobs.body);
        let onto_bobs: Vec<(String, Value)> = parent_ids
            .iter()
            .map(|(name, parent_id)| {
                let parent_id = if name == chain_resource {
                    bobs.body["id"].clone()
                } else {
                    parent_id.clone()
                };
                (name.clone(), parent_id)
            })
            .collect();
        let moves = [
            ("PATCH", json!({ chain_column: bobs.body["id"].clone() })),
            ("PUT", body_for(owned, 6, &onto_bobs, None)),
        ];
        for (method, body) in moves {
            let refused = send_as(&alice_token, method, &svc.url(&target), &body);
            refused.assert_problem(422, &target);
            assert_eq!(
                refused.error_fields(),
                [chain_column.to_string()],
                "{method}: {:?}",
                refused.body
            );
        }
        assert_eq!(
            before,
            row_json(db, table, &id),
            "the refused moves changed nothing"
        );

        // Alice changes and deletes her row.
        let patched = send_as(&alice_token, "PATCH", &svc.url(&target), &change);
        assert_eq!(patched.status, 200, "{:?}", patched.body);
        let deleted = request_as(Some(&alice_token), "DELETE", &svc.url(&target), None);
        assert_eq!(deleted.status, 204);
    }
}

/// A private `redis-server` on `port` (no persistence); killed on drop.
/// The value of an unlabelled metric in a `/metrics` scrape.
fn metric(svc: &Running, name: &str) -> f64 {
    let scrape = request("GET", &svc.url("/metrics"), None);
    let text = scrape.body.as_str().unwrap_or_default().to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

fn breaker(svc: &Running) -> String {
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(
        health.status, 200,
        "the cache never fails health: {:?}",
        health.body
    );
    health.body["cache"]["breaker"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `check` (a request and its assertions) every 250 ms until the
/// cache breaker reports closed, failing after 20 s.
fn until_breaker_closes(svc: &Running, mut check: impl FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        check();
        if breaker(svc) == "closed" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the breaker closes again:\n{}",
            svc.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The starter spec with `REDIS_URL` pointing at a private redis-server:
/// GET by id is served from Redis (a change behind the service's back is not
/// seen); then Redis is killed mid-test and requests keep succeeding from
/// the database while the breaker opens; Redis comes back on the same port
/// and the breaker closes again.
#[test]
fn shop_cache_survives_a_redis_outage() {
    // Its own package name: other tests build `shop` into the same target.
    let (bin, credentials, _tmp) = build_shop_as("cache-shop");

    let db = format!("scaffold_e2e_cache_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let port = free_port();
    let redis = Redis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let svc = Running::start_with(&bin, &db, &[("REDIS_URL", &url)]);
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(
        health.body["cache"]["backend"], "redis",
        "{:?}",
        health.body
    );
    assert_eq!(breaker(&svc), "closed");

    let (alice, token) = sign_up(&svc, &credentials, 0);
    let id = id_path(&alice);
    let item = svc.url(&format!("/v1/users/{id}"));
    let get = || request_as(Some(&token), "GET", &item, None);
    let first = get();
    assert_eq!(first.status, 200, "{:?}", first.body);
    let key = format!("{{cache-shop}}:/users/{id}");
    assert_eq!(
        redis.cli(&["EXISTS", &key]),
        "1",
        "the row is cached in Redis"
    );
    let ttl: u64 = redis.cli(&["TTL", &key]).parse().unwrap();
    assert!((265..=330).contains(&ttl), "5m ± 10%: {ttl} s");

    // Behind the service's back: Redis still serves the cached row.
    psql(
        &db,
        &format!("UPDATE users SET name = 'changed behind its back' WHERE id = {id}"),
    );
    let hits = metric(&svc, "cache_hits_total");
    let cached = get();
    assert_eq!(cached.status, 200);
    assert_eq!(cached.body, first.body, "served from Redis");
    assert_eq!(metric(&svc, "cache_hits_total"), hits + 1.0);

    // Redis dies: every request still succeeds, from the database.
    drop(redis);
    for _ in 0..6 {
        let r = get();
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["name"], "changed behind its back");
    }
    assert_eq!(breaker(&svc), "open");
    assert_eq!(metric(&svc, "cache_breaker_state"), 1.0);
    assert!(metric(&svc, "cache_errors_total") >= 3.0);
    // While open, no Redis call is made: requests do not wait for timeouts.
    let errors = metric(&svc, "cache_errors_total");
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(get().status, 200);
    }
    assert_eq!(
        metric(&svc, "cache_errors_total"),
        errors,
        "no call while open"
    );
    eprintln!("5 GETs with the breaker open: {:?}", started.elapsed());

    // Redis is back on the same port: after the cooldown a probe succeeds
    // and the breaker closes; the cache fills again.
    let redis = Redis::start(port);
    let restarted = Instant::now();
    until_breaker_closes(&svc, || assert_eq!(get().status, 200));
    eprintln!("breaker closed {:?} after the restart", restarted.elapsed());
    assert_eq!(metric(&svc, "cache_breaker_state"), 0.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis.cli(&["EXISTS", &key]) != "1" {
        assert!(Instant::now() < deadline, "the cache fills again");
        assert_eq!(get().status, 200);
    }

    // Redis paused (SIGSTOP): calls time out (commands already sent stay
    // queued in the socket and run on resume) and the breaker opens. A PATCH
    // made while it is open cannot delete its key; the DEL is kept and sent
    // before Redis is read again, so the old entry is never served after.
    let signal = |sig: &str| {
        let pid = redis.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    signal("-STOP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker(&svc) != "open" {
        assert_eq!(get().status, 200);
        assert!(
            Instant::now() < deadline,
            "the breaker opens while Redis is paused"
        );
    }
    let patched = send_as(
        &token,
        "PATCH",
        &item,
        &json!({ "name": "patched during the pause" }),
    );
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    for _ in 0..4 {
        let r = get();
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["name"], "patched during the pause");
    }
    assert_eq!(breaker(&svc), "open");
    signal("-CONT");
    until_breaker_closes(&svc, || {
        let r = get();
        assert_eq!(
            r.body["name"], "patched during the pause",
            "never the old entry"
        );
    });
    let r = get();
    assert_eq!(r.body["name"], "patched during the pause");
    assert!(
        redis
            .cli(&["GET", &key])
            .contains("patched during the pause")
    );

    stop(svc);
    drop(redis);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// A write whose request is cancelled after its statement was sent (here
/// its timeout, `REQUEST_TIMEOUT_SECS=1`, fires while the UPDATE waits on a
/// row lock another session holds) still runs to its end once the lock is
/// released: the row is updated, its cache entry is invalidated (the next
/// GET shows the change, not the entry cached before) and the after-hook
/// runs (a user-owned hook that logs).
#[test]
fn shop_write_cancelled_by_its_timeout_still_invalidates_and_runs_its_hook() {
    let package = "cancel-shop";
    let (bin, tmp) = build_variant_with(
        "shop",
        "service: shop",
        &format!("service: {package}"),
        package,
        |dir| {
            rewrite(
                &dir.join("src/hooks/user.rs"),
                "pub async fn after_update(_state: &AppState, _row: &Row) {}",
                "pub async fn after_update(_state: &AppState, row: &Row) {\n    \
                 tracing::info!(user = %row.id, \"after_update hook ran\");\n}",
            );
        },
    );
    let credentials = credentials_of(&tmp.path().join(package));

    let db = format!("scaffold_e2e_cancel_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    // Signing up hashes a password, which an unoptimized build may not do
    // within one second: it is done before the timeout is shortened.
    let svc = Running::start(&bin, &db);
    let (alice, token) = sign_up(&svc, &credentials, 0);
    stop(svc);
    let svc = Running::start_with(&bin, &db, &[("REQUEST_TIMEOUT_SECS", "1")]);
    let id = id_path(&alice);
    let item = svc.url(&format!("/v1/users/{id}"));
    let get = || request_as(Some(&token), "GET", &item, None);
    let cached = get();
    assert_eq!(cached.status, 200, "{:?}", cached.body);
    assert_ne!(cached.body["name"], "written after the timeout");

    // Another session holds the row: the PATCH's UPDATE waits for it.
    let mut locker = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &db])
        .args(["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("psql runs");
    let mut to_locker = locker.stdin.take().unwrap();
    let mut from_locker = BufReader::new(locker.stdout.take().unwrap());
    {
        use std::io::Write;
        writeln!(
            to_locker,
            "BEGIN; SELECT 'locked' FROM users WHERE id = {id} FOR UPDATE;"
        )
        .unwrap();
    }
    let mut line = String::new();
    from_locker.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "locked");

    let patched = send_as(
        &token,
        "PATCH",
        &item,
        &json!({ "name": "written after the timeout" }),
    );
    assert_eq!(patched.status, 503, "timed out: {:?}", patched.body);
    let name = || psql(&db, &format!("SELECT name FROM users WHERE id = {id}"));
    assert_ne!(
        name(),
        "written after the timeout",
        "still waiting on the lock"
    );
    {
        use std::io::Write;
        writeln!(to_locker, "COMMIT;").unwrap();
    }
    drop(to_locker);
    assert!(locker.wait().unwrap().success());

    let deadline = Instant::now() + Duration::from_secs(5);
    while name() != "written after the timeout" {
        assert!(
            Instant::now() < deadline,
            "the UPDATE ran after the lock was released"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The write's invalidation and hook follow its commit at once; the old
    // entry would otherwise be served for the TTL (5 minutes).
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let read = get();
        assert_eq!(read.status, 200, "{:?}", read.body);
        if read.body["name"] == "written after the timeout" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache still serves the row from before the write: {:?}",
            read.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while !svc.logs().contains("after_update hook ran") {
        assert!(
            Instant::now() < deadline,
            "the after-hook ran:\n{}",
            svc.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    stop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// `basenc` (coreutils) with `args` on `input`; base64url input is padded
/// first, as `basenc` wants it.
fn basenc(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut input = input.to_owned();
    if args.contains(&"-d") {
        while !input.len().is_multiple_of(4) {
            input.push('=');
        }
    }
    let mut child = Command::new("basenc")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("basenc runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "basenc {args:?} {input:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An example spec with `from` replaced by `to`, which must rename the
/// service to `package` (tests build into one target directory, so each
/// binary needs its own name), generated and built: its binary and the
/// temporary directory holding the tree (at `<tmp>/<package>`).
fn build_variant(spec: &str, from: &str, to: &str, package: &str) -> (PathBuf, tempfile::TempDir) {
    build_variant_with(spec, from, to, package, |_| {})
}

/// Like [`build_variant`], with `edit` run on the generated tree before the
/// build (to write a user-owned file, say).
fn build_variant_with(
    spec: &str,
    from: &str,
    to: &str,
    package: &str,
    edit: impl FnOnce(&Path),
) -> (PathBuf, tempfile::TempDir) {
    build_source(&example(spec).replace(from, to), package, edit)
}

/// An example spec's text.
fn example(spec: &str) -> String {
    std::fs::read_to_string(format!("{}/specs/{spec}.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Like [`build_variant_with`], from the spec's text.
fn build_source(
    source: &str,
    package: &str,
    edit: impl FnOnce(&Path),
) -> (PathBuf, tempfile::TempDir) {
    let files = scaffold::compile(source).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(package);
    scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();
    edit(&dir);
    cargo(&dir, &["build", "--locked"]);
    (target_dir().join("debug").join(package), tmp)
}

/// The credentials resource's entry in the `tests/fixtures.json` of the
/// generated tree at `dir`.
fn credentials_of(dir: &Path) -> Value {
    let fixtures = std::fs::read_to_string(dir.join("tests/fixtures.json")).unwrap();
    let fixtures: Value = serde_json::from_str(&fixtures).unwrap();
    fixtures["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["access"]["credentials"] == true)
        .unwrap()
        .clone()
}

/// The starter spec as `package`, built: its binary, the credentials
/// resource's fixture and the directory holding it.
fn build_shop_as(package: &str) -> (PathBuf, Value, tempfile::TempDir) {
    let to = format!("service: {package}");
    let (bin, tmp) = build_variant("shop", "service: shop", &to, package);
    let credentials = credentials_of(&tmp.path().join(package));
    (bin, credentials, tmp)
}

/// The item with `id` on a list page.
fn listed<'a>(page: &'a Resp, id: &Value) -> Option<&'a Value> {
    let items = page.body["items"].as_array().expect("a page");
    items.iter().find(|item| item["id"] == *id)
}

/// The starter spec caches order list pages (`cache: { lists: true }`) in a
/// private redis-server: a page is stored under the generation counter and
/// served from Redis; a PATCH through the API bumps the counter and the next
/// read, direct or nested, is fresh. Twenty concurrent GETs of one uncached
/// id make one database load (single flight). With `CACHE_LOCAL_TTL`, a hit
/// is served from the local tier while Redis has forgotten the entry (once
/// the tier's subscription is up; tests/scale.rs pauses Redis), and a write through
/// the same replica empties that tier at once.
#[test]
fn shop_caches_list_pages_loads_once_and_has_a_local_tier() {
    let package = "lists-shop";
    let (bin, credentials, _tmp) = build_shop_as(package);
    let db = format!("scaffold_e2e_lists_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let port = free_port();
    let redis = Redis::start(port);
    let redis_url = format!("redis://127.0.0.1:{port}");
    let svc = Running::start_with(&bin, &db, &[("REDIS_URL", &redis_url)]);

    let (alice, token) = sign_up(&svc, &credentials, 0);
    let order = send_as(
        &token,
        "POST",
        &svc.url("/v1/orders"),
        &json!({ "total_cents": 100, "note": "first" }),
    );
    assert_eq!(order.status, 201, "{:?}", order.body);
    let id = order.body["id"].clone();
    let generation = format!("{{{package}}}:/orders:generation");
    assert_eq!(redis.cli(&["GET", &generation]), "1", "the POST bumped it");

    // Direct and nested pages: stored in Redis under the generation read,
    // with the resource's TTL, and served from there.
    let alice_id = id_path(&alice);
    let routes = [
        ("/v1/orders".to_string(), "/orders".to_string()),
        (
            format!("/v1/users/{alice_id}/orders"),
            format!("/users/{{user_id}}/orders:{alice_id}"),
        ),
    ];
    let mut row = order.body.clone();
    for (n, (route, key_route)) in routes.iter().enumerate() {
        let url = svc.url(route);
        let list = || request_as(Some(&token), "GET", &url, None);
        let first = list();
        assert_eq!(first.status, 200, "{route}: {:?}", first.body);
        assert_eq!(listed(&first, &id), Some(&row), "{route}");
        let current = redis.cli(&["GET", &generation]);
        // Orders have `list`: the key holds the canonical filters and order
        // (none here), then the limit.
        let key = format!("{{{package}}}:{key_route}?owner={alice_id}&limit=20@{current}");
        assert_eq!(redis.cli(&["EXISTS", &key]), "1", "{route}: {key} in Redis");
        // Two spellings of one filtered, sorted request share one entry.
        for query in [
            "sort=-created_at&status=pending",
            "status=pending&sort=-created_at&limit=20",
        ] {
            let filtered = request_as(Some(&token), "GET", &format!("{url}?{query}"), None);
            assert_eq!(listed(&filtered, &id), Some(&row), "{route}?{query}");
        }
        let filtered = format!(
            "{{{package}}}:{key_route}?owner={alice_id}&sort=-created_at;status=pending;limit=20@{current}"
        );
        let keys = redis.cli(&["KEYS", "*"]);
        assert_eq!(
            redis.cli(&["EXISTS", &filtered]),
            "1",
            "{route}: {filtered} in Redis:\n{keys}"
        );
        let ttl: u64 = redis.cli(&["TTL", &key]).parse().unwrap();
        assert!((265..=330).contains(&ttl), "5m ± 10%: {ttl} s");

        // Behind the service's back: the page is still served from Redis.
        psql(
            &db,
            &format!(
                "UPDATE orders SET note = 'behind its back {n}' WHERE id = {}",
                id_path(&id)
            ),
        );
        let hits = metric(&svc, "cache_hits_total");
        let cached = list();
        assert_eq!(cached.body, first.body, "{route}: served from Redis");
        assert_eq!(metric(&svc, "cache_hits_total"), hits + 1.0);

        // A PATCH through the API bumps the generation: the next read is
        // fresh, and stored under the new generation.
        let note = format!("patched {n}");
        let item = svc.url(&format!("/v1/orders/{}", id_path(&id)));
        let patched = send_as(&token, "PATCH", &item, &json!({ "note": note }));
        assert_eq!(patched.status, 200, "{:?}", patched.body);
        let bumped = redis.cli(&["GET", &generation]);
        assert_eq!(
            bumped.parse::<u64>().unwrap(),
            current.parse::<u64>().unwrap() + 1
        );
        let fresh = list();
        assert_eq!(fresh.status, 200);
        assert_eq!(patched.body["note"], json!(note));
        assert_eq!(listed(&fresh, &id), Some(&patched.body), "{route}");
        row = patched.body.clone();
        let key = key.replace(&format!("@{current}"), &format!("@{bumped}"));
        assert_eq!(redis.cli(&["EXISTS", &key]), "1", "{route}: {key} in Redis");
    }

    // Deleting an account deletes its orders in the database (cascade): the
    // DELETE bumps the orders' list generation and by-id epoch, so neither
    // a cached page nor a cached row of them is read again.
    let (carol, carol_token) = sign_up(&svc, &credentials, 1);
    let hers = send_as(
        &carol_token,
        "POST",
        &svc.url("/v1/orders"),
        &json!({ "total_cents": 3 }),
    );
    assert_eq!(hers.status, 201, "{:?}", hers.body);
    let her_item = svc.url(&format!("/v1/orders/{}", id_path(&hers.body["id"])));
    assert_eq!(
        request_as(Some(&carol_token), "GET", &her_item, None).status,
        200
    );
    let her_key = format!("{{{package}}}:/orders/{}@0", id_path(&hers.body["id"]));
    assert_eq!(redis.cli(&["EXISTS", &her_key]), "1", "{her_key} in Redis");
    let generation_before: u64 = redis.cli(&["GET", &generation]).parse().unwrap();
    let account = svc.url(&format!("/v1/users/{}", id_path(&carol)));
    let gone = request_as(Some(&carol_token), "DELETE", &account, None);
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    assert_eq!(
        psql(
            &db,
            &format!(
                "SELECT count(*) FROM orders WHERE user_id = {}",
                id_path(&carol)
            )
        ),
        "0"
    );
    assert_eq!(
        redis.cli(&["GET", &format!("{{{package}}}:/orders:epoch")]),
        "1"
    );
    let generation_after: u64 = redis.cli(&["GET", &generation]).parse().unwrap();
    assert_eq!(generation_after, generation_before + 1);

    // Single flight: twenty concurrent GETs of an id nobody has read (its
    // create left a tombstone, `!` and a write number, under the key) make
    // exactly one database load, which replaces the tombstone.
    let second = send_as(
        &token,
        "POST",
        &svc.url("/v1/orders"),
        &json!({ "total_cents": 7 }),
    );
    assert_eq!(second.status, 201, "{:?}", second.body);
    let item = svc.url(&format!("/v1/orders/{}", id_path(&second.body["id"])));
    // Under the orders' epoch, bumped once by the account's DELETE.
    let item_key = format!("{{{package}}}:/orders/{}@1", id_path(&second.body["id"]));
    let tombstone = redis.cli(&["GET", &item_key]);
    assert!(tombstone.starts_with('!'), "{item_key}: {tombstone:?}");
    let loads = metric(&svc, "cache_loads_total");
    let start = std::sync::Barrier::new(20);
    let bodies: Vec<Resp> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    request_as(Some(&token), "GET", &item, None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &bodies {
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body, second.body);
    }
    assert_eq!(
        metric(&svc, "cache_loads_total"),
        loads + 1.0,
        "one load for twenty concurrent misses"
    );
    let stored: Value = serde_json::from_str(&redis.cli(&["GET", &item_key])).unwrap();
    assert_eq!(stored, second.body, "{item_key}: the row");
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(
        health.body["cache"]["loads"],
        json!(metric(&svc, "cache_loads_total") as u64)
    );

    // A page after a cursor is cached only when the service signed the
    // cursor: the issued one's page is loaded once; the same cursor without
    // its signature (a made-up cursor of the documented shape) gets the same
    // page, read from the database every time; a string that is no cursor
    // is a 400.
    let page = request_as(Some(&token), "GET", &svc.url("/v1/orders?limit=1"), None);
    let issued = page.body["next_cursor"].as_str().expect("a next page");
    let decoded: Value = serde_json::from_str(&basenc(&["--base64url", "-d"], issued)).unwrap();
    let mut parts = decoded.as_array().unwrap().clone();
    assert_eq!(parts.len(), 4, "a signed cursor: {decoded}");
    parts.truncate(3);
    let unsigned = basenc(&["--base64url", "-w0"], &Value::Array(parts).to_string());
    let unsigned = unsigned.trim_end_matches('=');
    let after = |cursor: &str| {
        let url = svc.url(&format!("/v1/orders?limit=1&cursor={cursor}"));
        request_as(Some(&token), "GET", &url, None)
    };
    let loads = metric(&svc, "cache_loads_total");
    let signed = after(issued);
    assert_eq!(signed.status, 200, "{:?}", signed.body);
    assert_eq!(after(issued).body, signed.body);
    assert_eq!(
        metric(&svc, "cache_loads_total"),
        loads + 1.0,
        "an issued cursor's page is cached"
    );
    for _ in 0..2 {
        let made_up = after(unsigned);
        assert_eq!(made_up.status, 200, "{:?}", made_up.body);
        assert_eq!(made_up.body, signed.body, "the same page");
    }
    assert_eq!(
        metric(&svc, "cache_loads_total"),
        loads + 3.0,
        "a made-up cursor's page is never cached"
    );
    let no_cursor = after("bm90IGEgY3Vyc29y");
    assert_eq!(no_cursor.status, 400, "{:?}", no_cursor.body);
    stop(svc);

    // The local tier: hits are answered in process while Redis has lost
    // the entries (emptied behind the service's back, so nothing tells the
    // tier). The tier answers once its invalidation subscription is up.
    let svc = Running::start_with(
        &bin,
        &db,
        &[("REDIS_URL", &redis_url), ("CACHE_LOCAL_TTL", "5m")],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while request("GET", &svc.url("/health"), None).body["cache"]["local_tier"] != "on" {
        assert!(Instant::now() < deadline, "the tier's subscription is up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let item = svc.url(&format!("/v1/orders/{}", id_path(&second.body["id"])));
    let list_url = svc.url("/v1/orders");
    let get = || request_as(Some(&token), "GET", &item, None);
    let list = || request_as(Some(&token), "GET", &list_url, None);
    let warm = get();
    assert_eq!(warm.status, 200, "{:?}", warm.body);
    let warm_list = list();
    assert_eq!(warm_list.status, 200, "{:?}", warm_list.body);
    psql(
        &db,
        &format!(
            "UPDATE orders SET note = 'only in the database' WHERE id = {}",
            id_path(&second.body["id"])
        ),
    );
    assert_eq!(redis.cli(&["FLUSHDB"]), "OK");
    let hits = metric(&svc, "cache_hits_total");
    for _ in 0..3 {
        let r = get();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, warm.body, "from the local tier");
        assert_eq!(list().body, warm_list.body, "from the local tier");
    }
    assert_eq!(metric(&svc, "cache_hits_total"), hits + 6.0);
    assert_eq!(
        redis.cli(&["DBSIZE"]),
        "0",
        "Redis was not read (a miss there would have stored the row)"
    );

    // A write through this replica empties the tier: the next reads go past
    // it, and past the emptied Redis, to the database.
    let patched = send_as(&token, "PATCH", &item, &json!({ "total_cents": 8 }));
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["note"], "only in the database");
    assert_eq!(get().body, patched.body);
    assert_eq!(listed(&list(), &second.body["id"]), Some(&patched.body));

    stop(svc);
    drop(redis);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// A private PostgreSQL (initdb + pg_ctl, as the `postgres` user) on a spare
/// port, so a test can stop and start it without touching the shared server.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let pg = PrivatePostgres::init(free_port());
        pg.ctl("start");
        pg
    }

    /// A new cluster (initdb, trust, replication allowed from loopback as
    /// initdb's defaults have it) to be served on `port`; not started.
    fn init(port: u16) -> PrivatePostgres {
        let pg = PrivatePostgres::empty(port);
        let initdb = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg.bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(pg.dir.path().join("data"))
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        pg
    }

    /// A streaming standby of `primary` (pg_basebackup -R) to be served on
    /// `port`, with `settings` appended to its configuration; not started.
    fn standby_of(primary: &PrivatePostgres, port: u16, settings: &str) -> PrivatePostgres {
        let pg = PrivatePostgres::empty(port);
        let data = pg.dir.path().join("data");
        let backup = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg.bin.join("pg_basebackup"))
            .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
            .args(["-U", "postgres", "-X", "stream", "-R", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            backup.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&backup.stderr)
        );
        let conf = data.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(settings);
        std::fs::write(&conf, text).unwrap();
        pg
    }

    /// A temporary directory the `postgres` user owns.
    fn empty(port: u16) -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql")
            .map(|e| e.unwrap().path().join("bin"))
            .find(|b| b.join("initdb").is_file())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        PrivatePostgres { dir, bin, port }
    }

    /// Runs `sql` on this server (as psql -tA) and returns its output.
    fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U",
                "postgres",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql `{sql}` on port {}: {}",
            self.port,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data);
        match action {
            "start" => cmd
                .args(["-w", "-l"])
                .arg(&log)
                .args(["-o", &options, "start"]),
            _ => cmd.args(["-w", "-m", "immediate", "stop"]),
        };
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// The database goes away under a running service: requests answer 503 with
/// `Retry-After` within 3 seconds, readiness fails, liveness holds; the
/// database comes back and the service recovers without a restart.
#[test]
fn database_outage_is_503_and_the_service_recovers() {
    let spec = REGEN_SPEC.replace("service: regen-shop", "service: outage-shop");
    let files = scaffold::compile(&spec).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("outage");
    scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();
    cargo(&dir, &["build", "--locked"]);

    let pg = PrivatePostgres::start();
    let created = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-qc", "CREATE DATABASE outage"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let port = free_port();
    let mut child = Command::new(target_dir().join("debug/outage-shop"))
        .env("DATABASE_URL", pg.url("outage"))
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_ACQUIRE_TIMEOUT_MS", "1000")
        .env("RATE_LIMIT_ENABLED", "false")
        .env("SHUTDOWN_DELAY", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = |url: &str| http().get(url).call().is_ok_and(|r| r.status() == 200);
    while !ready(&format!("{base}/readyz")) {
        assert!(
            Instant::now() < deadline,
            "the service did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let users = format!("{base}/v1/users");
    assert_eq!(request("GET", &users, None).status, 200);

    pg.ctl("stop");
    for _ in 0..3 {
        let started = Instant::now();
        let down = request("GET", &users, None);
        let took = started.elapsed();
        down.assert_problem(503, "/v1/users");
        assert_eq!(down.header("retry-after"), Some("1"));
        assert!(
            took < Duration::from_secs(3),
            "503 within 3 seconds, took {took:?}"
        );
    }
    assert_eq!(request("GET", &format!("{base}/readyz"), None).status, 503);
    assert_eq!(request("GET", &format!("{base}/livez"), None).status, 200);

    pg.ctl("start");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if request("GET", &users, None).status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the service did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Readiness follows within the probe cache's lifetime (one second): a
    // probe result is reused that long, so a "down" read just before the
    // database came back may still be served.
    let deadline = Instant::now() + Duration::from_secs(3);
    while request("GET", &format!("{base}/readyz"), None).status != 200 {
        assert!(Instant::now() < deadline, "/readyz did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `DATABASE_READ_URL`: the blog service with a private primary and a
/// streaming standby of it (`pg_basebackup -R`), each behind a statement
/// counter. The standby applies WAL 3 s late (`recovery_min_apply_delay`),
/// so a read it serves right after a write misses the write, every time.
/// Reads (by id, nested and included lists with their count) are served by
/// the standby alone; writes reach the primary; the writer's read right
/// after its write sees it (its `read_your_writes` cookie sends the read to
/// the primary) while the same read without the cookie does not yet; with
/// the standby stopped, reads fall back to the primary with no error, and
/// readiness holds while `/health` shows the replica down.
#[test]
fn reads_go_to_a_streaming_standby_and_a_writer_reads_its_writes() {
    let (bin, _tmp) = build_variant(
        "blog",
        "service: blog",
        "service: replica-blog",
        "replica-blog",
    );
    // Ports of their own, so a leftover server of another test cannot answer.
    let primary = PrivatePostgres::init(19201);
    primary.ctl("start");
    let standby = PrivatePostgres::standby_of(&primary, 19202, "recovery_min_apply_delay = '3s'\n");
    standby.ctl("start");
    primary.psql("postgres", "CREATE DATABASE blog");
    let to_primary = StatementCounter::start_for(primary.port);
    let to_standby = StatementCounter::start_for(standby.port);
    let (primary_url, standby_url) = (to_primary.url("blog"), to_standby.url("blog"));
    let svc = Running::start_with(
        &bin,
        "blog",
        &[
            ("DATABASE_URL", primary_url.as_str()),
            ("DATABASE_READ_URL", standby_url.as_str()),
            ("READ_YOUR_WRITES_WINDOW", "10s"),
        ],
    );
    // Waits until the standby has applied everything the primary wrote.
    let caught_up = || {
        let lsn = primary.psql("postgres", "SELECT pg_current_wal_lsn()");
        let applied = format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'");
        let deadline = Instant::now() + Duration::from_secs(20);
        while standby.psql("postgres", &applied) != "t" {
            assert!(Instant::now() < deadline, "the standby did not catch up");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let counts = || (to_primary.count(), to_standby.count());
    let json_body = |value: Value| Some(("application/json", value.to_string().into_bytes()));
    caught_up();

    // A write reaches the primary, never the standby.
    let authors = svc.url("/v1/authors");
    let before = counts();
    let created = request(
        "POST",
        &authors,
        json_body(json!({ "handle": "ann", "display_name": "Ann" })),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let after = counts();
    assert!(after.0 > before.0, "the write reached the primary");
    assert_eq!(
        after.1, before.1,
        "the standby saw no statement of the write"
    );
    let id = created.body["id"].to_string();
    let stored = primary.psql(
        "blog",
        &format!("SELECT handle FROM authors WHERE id = {id}"),
    );
    assert_eq!(stored, "ann");
    let set_cookie = created
        .header("set-cookie")
        .expect("the write sets a cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("read_your_writes="), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age=10"), "{set_cookie}");

    // Right after the write, a read without the cookie is served by the
    // standby, which has not applied the write yet; the writer's read (with
    // the cookie) is served by the primary and sees it.
    let one = format!("{authors}/{id}");
    let before = counts();
    let stale = request("GET", &one, None);
    let after = counts();
    assert_eq!(
        stale.status, 404,
        "the lagging standby answered: {:?}",
        stale.body
    );
    assert!(after.1 > before.1, "the read went to the standby");
    assert_eq!(after.0, before.0, "the read did not touch the primary");
    let mine = request_with(&[("cookie", cookie.clone())], "GET", &one, None);
    assert_eq!(mine.status, 200, "read-your-writes: {:?}", mine.body);
    assert_eq!(mine.body, created.body);
    let last = counts();
    assert!(last.0 > after.0, "the writer's read went to the primary");
    assert_eq!(
        last.1, after.1,
        "the writer's read did not touch the standby"
    );

    // Once the standby has applied it, reads are served there alone: by id,
    // a nested list (with its parent check), a list with its count and
    // included parents and children.
    let post = request(
        "POST",
        &format!("{one}/posts"),
        json_body(json!({ "title": "Replicas", "body": "Streaming." })),
    );
    assert_eq!(post.status, 201, "{:?}", post.body);
    caught_up();
    let before = counts();
    let by_id = request("GET", &one, None);
    assert_eq!(by_id.status, 200, "{:?}", by_id.body);
    assert_eq!(by_id.body, created.body);
    let nested = request("GET", &svc.url("/v1/authors/999999/posts"), None);
    assert_eq!(nested.status, 404, "{:?}", nested.body);
    let listed = svc.url("/v1/posts?include=author,comments&count=exact");
    let page = request("GET", &listed, None);
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["items"][0]["title"], "Replicas");
    assert_eq!(page.body["items"][0]["author"]["handle"], "ann");
    assert_eq!(page.body["total"], 1, "{:?}", page.body);
    let after = counts();
    assert_eq!(after.0, before.0, "no read reached the primary");
    assert!(
        after.1 >= before.1 + 6,
        "every read statement ran on the standby"
    );
    let health = request("GET", &svc.url("/health"), None);
    assert_eq!(health.body["database_replica"], "up", "{:?}", health.body);

    // The standby goes away: reads fall back to the primary, without an
    // error, and readiness holds.
    standby.ctl("stop");
    for _ in 0..3 {
        let by_id = request("GET", &one, None);
        assert_eq!(by_id.status, 200, "fallback: {:?}", by_id.body);
        assert_eq!(by_id.body, created.body);
        let page = request("GET", &listed, None);
        assert_eq!(page.status, 200, "fallback: {:?}", page.body);
        assert_eq!(page.body["items"][0]["author"]["handle"], "ann");
    }
    assert_eq!(request("GET", &svc.url("/readyz"), None).status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let health = request("GET", &svc.url("/health"), None);
        assert_eq!(health.status, 200, "{:?}", health.body);
        if health.body["database_replica"] == "down" {
            assert_eq!(health.body["database"], "up");
            break;
        }
        assert!(Instant::now() < deadline, "/health: {:?}", health.body);
        std::thread::sleep(Duration::from_millis(200));
    }
    let metrics = http()
        .get(svc.url("/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let counted = |pool: &str| {
        let series = format!("db_reads_total{{pool=\"{pool}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series.as_str()))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{series} in:\n{metrics}"))
    };
    assert!(counted("replica") >= 6 && counted("primary") >= 1 && counted("fallback") >= 1);
    let logs = svc.logs();
    let served_5xx = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .any(|line| line["status"].as_u64().is_some_and(|status| status >= 500));
    assert!(!served_5xx, "no 5xx was served:\n{logs}");
    assert!(logs.contains("the read replica failed"), "{logs}");
}

/// Two processes of one service with `REDIS_URL` set share one limit: a
/// client gets the spec's capacity across both, not per process. Then Redis
/// dies, and each process follows its `RATE_LIMIT_ON_REDIS_ERROR` policy:
/// `local` limits with its own buckets, `deny` answers 503, `allow` lets
/// everything through; none answers 500.
#[test]
fn rate_limit_is_shared_through_redis_and_fails_by_policy() {
    let (bin, _tmp) = build_variant(
        "blog",
        "service: blog",
        "service: limit-blog\nrate_limit: { capacity: 6, refill_per_second: 0.01 }",
        "limit-blog",
    );

    let db = format!("scaffold_e2e_limit_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let port = free_port();
    let redis = Redis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let start = |policy: &str| {
        Running::start_with(
            &bin,
            &db,
            &[
                ("REDIS_URL", url.as_str()),
                ("RATE_LIMIT_ENABLED", "true"),
                ("RATE_LIMIT_ON_REDIS_ERROR", policy),
            ],
        )
    };
    let local = start("local");
    let deny = start("deny");
    let allow = start("allow");
    for svc in [&local, &deny, &allow] {
        let health = request("GET", &svc.url("/health"), None);
        assert_eq!(
            health.body["rate_limit"]["backend"], "redis",
            "{:?}",
            health.body
        );
    }

    // One client (127.0.0.1), alternating between two processes: 6 tokens in
    // all, where buckets per process would give 12.
    let mut statuses = Vec::new();
    for i in 0..10 {
        let svc = if i % 2 == 0 { &local } else { &deny };
        let r = request("GET", &svc.url("/v1/authors"), None);
        if r.status == 429 {
            assert_eq!(r.header("ratelimit-remaining"), Some("0"));
            let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!(retry >= 1, "Retry-After {retry}");
            assert_eq!(r.body["status"], 429, "{:?}", r.body);
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 200, 429, 429, 429, 429],
        "one shared bucket of 6"
    );
    let key = "{limit-blog:rl}:global:ip:127.0.0.1";
    assert_eq!(
        redis
            .cli(&["HGET", key, "tokens"])
            .parse::<f64>()
            .unwrap()
            .floor(),
        0.0
    );
    let ttl: i64 = redis.cli(&["PTTL", key]).parse().unwrap();
    assert!(
        ttl > 0,
        "the bucket expires once it would be full again: {ttl}"
    );
    assert_eq!(
        metric(&local, "rate_limit_errors_total") + metric(&deny, "rate_limit_errors_total"),
        0.0
    );

    // Redis dies.
    drop(redis);
    for _ in 0..4 {
        let r = request("GET", &deny.url("/v1/authors"), None);
        assert_eq!(r.status, 503, "fail closed: {:?}", r.body);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.body["status"], 503, "{:?}", r.body);
    }
    for _ in 0..8 {
        let r = request("GET", &allow.url("/v1/authors"), None);
        assert_eq!(r.status, 200, "fail open: {:?}", r.body);
    }
    // `local`: this process's own buckets, full at first, then empty.
    let local_statuses: Vec<u16> = (0..8)
        .map(|_| request("GET", &local.url("/v1/authors"), None).status)
        .collect();
    assert_eq!(local_statuses, [200, 200, 200, 200, 200, 200, 429, 429]);
    for svc in [&local, &deny, &allow] {
        let health = request("GET", &svc.url("/health"), None);
        assert_eq!(health.status, 200, "{:?}", health.body);
        assert_eq!(
            health.body["rate_limit"]["breaker"], "open",
            "{:?}",
            health.body
        );
        assert!(metric(svc, "rate_limit_errors_total") >= 3.0);
        assert_eq!(metric(svc, "rate_limit_breaker_state"), 1.0);
        assert!(!svc.logs().contains("\"status\":500"), "{}", svc.logs());
    }
    drop((local, deny, allow));
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// Runs `<bin> healthcheck` with `BIND_ADDR` as the container has it; its
/// exit code.
fn healthcheck(bin: &Path, bind_addr: &str) -> Option<i32> {
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("healthcheck")
        .env("BIND_ADDR", bind_addr)
        .output()
        .expect("healthcheck runs");
    // Its own deadline is 2 s; a container runtime gives it about 3.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "healthcheck took {:?}",
        started.elapsed()
    );
    out.status.code()
}

/// There is no Docker engine or cluster here, so the deployment files
/// (Dockerfile, compose.yaml, deploy/k8s/; tests/deploy.rs checks their
/// shape) are kept honest by running the commands they run: `migrate` twice
/// at once against a fresh database, as two replicas of the migration job
/// would; the service with compose.yaml's environment (MIGRATE_ON_START=false
/// after the `migrate` service); `healthcheck` with the image's wildcard
/// BIND_ADDR, 0 while the service is ready and 1 once it has stopped.
#[test]
fn deployment_commands_work() {
    // Its own package name (other tests build `shop` into the same target
    // directory), with an underscore: compose and Kubernetes names use `-`.
    let package = "shop_deploy";
    let (bin, tmp) = build_variant("shop", "service: shop", "service: shop_deploy", package);
    let dir = tmp.path().join(package);
    let db = format!("scaffold_e2e_deploy_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");

    // compose.yaml's service and its environment.
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("compose.yaml")).unwrap()).unwrap();
    let services = &compose["services"];
    assert_eq!(services["migrate"]["command"][0], "migrate");
    let service = &services["shop-deploy"];
    let compose_env: Vec<(String, String)> = service["environment"]
        .as_mapping()
        .expect("compose.yaml has the service `shop-deploy` with an environment")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .collect();
    let compose_var = |name: &str| {
        compose_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("compose.yaml sets {name}"))
    };
    assert_eq!(compose_var("MIGRATE_ON_START"), "false");
    assert_eq!(service["healthcheck"]["test"][2], "healthcheck");

    // Before the migration job, a replica with MIGRATE_ON_START=false
    // refuses to start and says what to run.
    let early = Command::new(&bin)
        .env("DATABASE_URL", &url)
        .env("JWT_SECRET", "e2e-secret-that-is-long-enough-for-hs256")
        .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("MIGRATE_ON_START", "false")
        .output()
        .unwrap();
    let early_logs = String::from_utf8_lossy(&early.stdout).to_string()
        + &String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(1), "{early_logs}");
    assert!(
        early_logs.contains("is not applied") && early_logs.contains("shop_deploy migrate"),
        "{early_logs}"
    );

    // Two migration jobs at once: both succeed, each migration once.
    let spawn_migrate = || {
        Command::new(&bin)
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn_migrate(), spawn_migrate());
    for job in [first, second] {
        let out = job.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "migrate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut versions: Vec<String> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.split('_')
                .next()
                .unwrap()
                .trim_start_matches('0')
                .to_string()
        })
        .collect();
    versions.sort();
    let applied = psql(
        &db,
        "SELECT string_agg(version || ':' || n, ',' ORDER BY version) FROM \
         (SELECT version, count(*) AS n FROM _sqlx_migrations WHERE success GROUP BY version) v",
    );
    let expected: Vec<String> = versions.iter().map(|v| format!("{v}:1")).collect();
    assert_eq!(applied, expected.join(","));
    assert_eq!(
        psql(
            &db,
            "SELECT count(*) FROM _sqlx_migrations WHERE NOT success"
        ),
        "0"
    );
    // A later job has nothing to do and still succeeds.
    assert!(spawn_migrate().wait().unwrap().success());

    // The service with compose.yaml's environment, pointed at this machine's
    // PostgreSQL and Redis instead of compose's `postgres` and `redis`.
    let mut env: Vec<(String, String)> = compose_env
        .iter()
        .filter(|(k, _)| {
            !["DATABASE_URL", "REDIS_URL", "BIND_ADDR", "JWT_SECRET"].contains(&k.as_str())
        })
        .cloned()
        .collect();
    env.push(("REDIS_URL".into(), "redis://127.0.0.1:6379".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let svc = Running::start_with(&bin, &db, &env);
    let port = svc.base.rsplit(':').next().unwrap().to_string();
    // The image's BIND_ADDR is the wildcard address; the probe goes to
    // loopback on the same port.
    let bind_addr = compose_var("BIND_ADDR").replace(":8080", &format!(":{port}"));
    assert!(bind_addr.starts_with("0.0.0.0:"), "{bind_addr}");
    assert_eq!(healthcheck(&bin, &bind_addr), Some(0), "{}", svc.logs());
    stop(svc);
    assert_eq!(healthcheck(&bin, &bind_addr), Some(1));

    // The service with the ConfigMap's settings (the Secret's are the
    // test's): every value parses, /metrics and /health answer on the
    // internal port only, and the probes and the API on the public one.
    let configmap: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(dir.join("deploy/k8s/configmap.yaml")).unwrap(),
    )
    .unwrap();
    let data = configmap["data"]
        .as_mapping()
        .expect("configmap.yaml has data");
    let internal_port = free_port();
    let mut env: Vec<(String, String)> = data
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        // The test's own port; no load balancer to wait for on shutdown.
        .filter(|(k, _)| !["BIND_ADDR", "SHUTDOWN_DELAY"].contains(&k.as_str()))
        .collect();
    for (key, value) in &mut env {
        if key == "INTERNAL_BIND_ADDR" {
            assert_eq!(value, "0.0.0.0:9090");
            *value = format!("127.0.0.1:{internal_port}");
        }
    }
    assert!(env.iter().any(|(k, _)| k == "INTERNAL_BIND_ADDR"));
    env.push(("REDIS_URL".into(), "redis://127.0.0.1:6379".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let svc = Running::start_with(&bin, &db, &env);
    let internal = format!("http://127.0.0.1:{internal_port}");
    for path in ["/metrics", "/health"] {
        assert_eq!(
            request("GET", &format!("{}{path}", svc.base), None).status,
            404,
            "{path}"
        );
        assert_eq!(
            request("GET", &format!("{internal}{path}"), None).status,
            200,
            "{path}"
        );
    }
    for base in [&svc.base, &internal] {
        assert_eq!(
            request("GET", &format!("{base}/readyz"), None).status,
            200,
            "{base}"
        );
    }
    // The API is on the public port (an order list needs a token).
    assert_eq!(
        request("GET", &format!("{}/v1/orders", svc.base), None).status,
        401
    );
    stop(svc);

    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// Every node of an EXPLAIN (FORMAT JSON) plan, depth first.
fn plan_nodes<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(node);
    for child in node["Plans"].as_array().into_iter().flatten() {
        plan_nodes(child, out);
    }
}

/// A database URL that makes every statement of its sessions planned the
/// way a prepared statement is after its sixth execution
/// (`plan_cache_mode = force_generic_plan`: parameters unknown) and sends
/// each executed plan to the client as a NOTICE (`auto_explain`), which the
/// service logs.
fn explaining_url(db: &str) -> String {
    let options = [
        "-c session_preload_libraries=auto_explain",
        "-c auto_explain.log_min_duration=0",
        "-c auto_explain.log_level=notice",
        "-c auto_explain.log_format=json",
        "-c plan_cache_mode=force_generic_plan",
    ]
    .join(" ")
    .replace(' ', "%20")
    .replace('=', "%3D");
    format!("postgres://postgres@127.0.0.1:5432/{db}?options={options}")
}

/// A service on [`explaining_url`], logging the plans it is sent.
fn start_explaining(bin: &Path, db: &str) -> Running {
    let url = explaining_url(db);
    Running::start_with(
        bin,
        db,
        &[
            ("DATABASE_URL", url.as_str()),
            ("RUST_LOG", "warn,sqlx::postgres::notice=info"),
        ],
    )
}

/// The service's log and its plans of `big`'s lists (each checked by
/// [`assert_no_seq_scan`]) once there are `want` of them, or after five
/// seconds: the log reaches the test through a reader thread, so the last
/// request's plan can still be on its way when its response has arrived.
fn logged_plans(svc: &Running, big: &[&str], want: usize) -> (String, usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logs = svc.logs();
        let plans = assert_no_seq_scan(&logs, big);
        if plans >= want || Instant::now() >= deadline {
            return (logs, plans);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every plan in `logs` (see [`explaining_url`]) of a statement that reads
/// one of the `big` tables, each checked for a sequential scan of any of
/// them; returns how many there were.
fn assert_no_seq_scan(logs: &str, big: &[&str]) -> usize {
    let mut plans = 0;
    for line in logs.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        // JSON log lines carry the event's fields at the top level.
        let message = event["message"].as_str().unwrap_or_default();
        let Some(start) = message.find('{') else {
            continue;
        };
        let Ok(explained) = serde_json::from_str::<Value>(&message[start..]) else {
            continue;
        };
        let text = explained["Query Text"].as_str().unwrap_or_default();
        // `?count=estimated` asks the planner (`EXPLAIN`), which reads no
        // row whatever plan it reports.
        if text.starts_with("EXPLAIN") {
            continue;
        }
        if !big.iter().any(|t| text.contains(&format!("FROM \"{t}\""))) {
            continue;
        }
        plans += 1;
        let mut nodes = Vec::new();
        plan_nodes(&explained["Plan"], &mut nodes);
        for node in nodes {
            let relation = node["Relation Name"].as_str().unwrap_or_default();
            assert!(
                !(node["Node Type"] == "Seq Scan" && big.contains(&relation)),
                "a sequential scan of {relation} for {text}:\n{explained:#}"
            );
        }
    }
    plans
}

/// Sends `GET {route}?{query}&limit=5` for every route and query, and the
/// second page of each (the keyset condition has its own plan), every one
/// a 200; returns how many requests were sent.
fn list_pages(svc: &Running, token: Option<&str>, routes: &[String], queries: &[String]) -> usize {
    let mut sent = 0;
    for route in routes {
        for query in queries {
            let url = svc.url(&format!("{route}?{query}&limit=5"));
            let page = request_as(token, "GET", &url, None);
            assert_eq!(page.status, 200, "{route}?{query}: {:?}", page.body);
            sent += 1;
            if let Some(cursor) = page.body["next_cursor"].as_str() {
                let next = svc.url(&format!("{route}?{query}&limit=5&cursor={cursor}"));
                let page = request_as(token, "GET", &next, None);
                assert_eq!(page.status, 200, "{route}?{query} page 2: {:?}", page.body);
                sent += 1;
            }
        }
    }
    sent
}

/// The starter's order lists over 200,000 rows: every filter and order the
/// spec declares, owner-scoped (a customer) and not (an admin), direct and nested, first
/// pages and later ones, each planned generically (see [`explaining_url`]);
/// no plan may scan `orders` sequentially.
#[test]
fn shop_list_plans_use_indexes_on_a_big_table() {
    let (bin, credentials, _tmp) = build_shop_as("plans-shop");
    let db = format!("scaffold_e2e_plans_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let svc = start_explaining(&bin, &db);
    let (alice, alice_token) = sign_up(&svc, &credentials, 0);
    let (_admin, _) = sign_up(&svc, &credentials, 1);
    psql(
        &db,
        "UPDATE users SET role = 'admin' WHERE id <> (SELECT min(id) FROM users)",
    );
    let admin_email = body_for(&credentials, 1, &[], None)["email"].clone();
    let admin = send(
        "POST",
        &svc.url("/v1/auth/login"),
        &json!({ "email": admin_email, "password": "correct horse battery staple" }),
    );
    let admin_token = admin.body["access_token"].as_str().unwrap().to_string();

    // 1,000 other customers and 200,000 orders, a few hundred of them Alice's.
    psql(
        &db,
        "INSERT INTO users (email, name, role, password_hash) \
         SELECT 'user' || g || '@example.com', 'user ' || g, 'customer', 'x' \
         FROM generate_series(1, 1000) AS g",
    );
    psql(
        &db,
        "INSERT INTO orders (user_id, total_cents, status, created_at, updated_at) \
         SELECT (SELECT min(id) FROM users) + g % 1002, g, \
                (ARRAY['pending', 'paid', 'shipped'])[1 + g % 3]::order_status, \
                now() - g * interval '1 second', now() \
         FROM generate_series(1, 200000) AS g",
    );
    psql(&db, "ANALYZE");

    let since = "2020-01-01T00:00:00Z";
    let queries: Vec<String> = vec![
        String::new(),
        "status=paid".into(),
        "status.in=paid,shipped".into(),
        format!("created_at.gte={since}"),
        format!("created_at.lt={since}"),
        "sort=-created_at".into(),
        "sort=created_at".into(),
        format!("sort=-created_at&status=paid&created_at.gte={since}"),
    ];
    let routes = [
        "/v1/orders".to_string(),
        format!("/v1/users/{}/orders", id_path(&alice)),
    ];
    let sent = list_pages(&svc, Some(&alice_token), &routes, &queries)
        + list_pages(&svc, Some(&admin_token), &routes, &queries);

    let (logs, plans) = logged_plans(&svc, &["orders"], sent);
    assert!(
        plans >= sent,
        "{plans} plans of order lists logged for {sent} requests:\n{logs}"
    );
    drop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// The blog's post lists over 200,000 posts with 200,000 comments: each
/// filter (equality, prefix, trigram `contains`, date range, null), each
/// order, full-text search alone and with filters and orders, and the
/// include of each post's author and comments, on the whole table and
/// nested under an author, first pages and later ones, each planned
/// generically (see [`explaining_url`]); no plan may scan `posts` or
/// `comments` sequentially. `?count=exact` is left out: an exact total
/// reads every matching row by definition, which is why it is opt-in and
/// `estimated` exists.
#[test]
fn blog_list_plans_use_indexes_on_a_big_table() {
    // The title without its `max_length`, so a long one reaches the index.
    let source = example("blog")
        .replace("service: blog", "service: plans-blog")
        .replace(
            "title: { type: string, min_length: 1, max_length: 200 }",
            "title: { type: string, min_length: 1 }",
        );
    assert!(
        source.contains("title: { type: string, min_length: 1 }"),
        "blog.yaml's title moved"
    );
    let (bin, _tmp) = build_source(&source, "plans-blog", |_| {});
    let db = format!("scaffold_e2e_plans_blog_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let svc = start_explaining(&bin, &db);
    // Titles and bodies from a few words, so search, prefix and contains
    // each match a slice of the table; every other post is published, every
    // third has no publication date.
    psql(
        &db,
        "INSERT INTO authors (handle, display_name) \
         SELECT 'author_' || g, 'Author ' || g FROM generate_series(1, 1000) AS g",
    );
    psql(
        &db,
        "INSERT INTO posts (author_id, title, body, published, published_on, created_at) \
         SELECT (SELECT min(id) FROM authors) + g % 1000, \
                (ARRAY['Rust', 'Postgres', 'Gardening', 'Cooking', 'Chess'])[1 + g % 5] \
                    || ' notes ' || g, \
                (ARRAY['running a service', 'baking bread', 'planting trees'])[1 + g % 3] \
                    || ' on day ' || g, \
                g % 2 = 0, \
                CASE WHEN g % 3 = 0 THEN NULL ELSE date '2020-01-01' + g % 2000 END, \
                now() - g * interval '1 second' \
         FROM generate_series(1, 200000) AS g",
    );
    psql(
        &db,
        "INSERT INTO comments (post_id, body, rating) \
         SELECT id, 'first!', 5 FROM posts",
    );
    psql(&db, "ANALYZE");

    // A title over the btree entry limit (incompressible text, so
    // PostgreSQL's index compression cannot bring it under) is the
    // client's fault: a 422 problem, never a 500.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let long: String = (0..4000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(b'a' + (state >> 59) as u8 % 26)
        })
        .collect();
    let author_id: i64 = psql(&db, "SELECT min(id) FROM authors").parse().unwrap();
    let path = format!("/v1/authors/{author_id}/posts");
    send(
        "POST",
        &svc.url(&path),
        &json!({ "title": long, "body": "long" }),
    )
    .assert_problem(422, &path);

    let queries: Vec<String> = [
        "",
        "title=Rust%20notes%2010",
        "title.prefix=Rus",
        "title.contains=arden",
        "published=true",
        "published_on.gte=2021-01-01",
        "published_on.lt=2021-01-01&published_on.gte=2020-06-01",
        "published_on.null=true",
        "published_on.null=false",
        "sort=-created_at",
        "sort=title",
        "sort=published,-created_at",
        "published=true&sort=published,-created_at",
        "title.prefix=Che&sort=title",
        "q=bread",
        "q=running%20-trees&sort=-created_at",
        "q=rust&published=true&sort=title",
        "include=author,comments",
        "include=comments&sort=-created_at&title.contains=ooki",
        "count=estimated&published=true",
    ]
    .iter()
    .map(|q| q.to_string())
    .collect();
    let author: i64 = psql(&db, "SELECT min(id) FROM authors")
        .trim()
        .parse()
        .unwrap();
    let routes = [
        "/v1/posts".to_string(),
        format!("/v1/authors/{author}/posts"),
    ];
    let mut sent = list_pages(&svc, None, &routes, &queries);
    // The comments' own lists: by id, whole and nested.
    let post = psql(&db, "SELECT id FROM posts ORDER BY id LIMIT 1");
    let comment_routes = [
        "/v1/comments".to_string(),
        format!("/v1/posts/{}/comments", post.trim()),
    ];
    sent += list_pages(&svc, None, &comment_routes, &[String::new()]);

    let (logs, plans) = logged_plans(&svc, &["posts", "comments"], sent);
    assert!(
        plans >= sent,
        "{plans} plans of post and comment lists logged for {sent} requests:\n{logs}"
    );
    drop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// `?include=` on the tracker: a task list embeds each task's label (a
/// parent every member may read) and project (a parent only its owner
/// reads), and a project list embeds its tasks (children, owned two hops
/// away), capped per project. A member never sees another member's rows
/// through an include, and each included relation costs exactly one more
/// statement whatever the page size. `?fields=` keeps only the keys asked
/// for; bad values of either are a 400 naming the parameter. The same build
/// has a custom route that panics (a problem+json 500, and the service
/// serves on) and task hooks that panic: they never run on another member's
/// task.
#[test]
fn list_includes_cost_one_statement_per_relation() {
    // A custom route (src/custom.rs, the user's own file) that panics: the
    // service answers a problem+json 500 and goes on serving.
    let (bin, tmp) = build_variant_with(
        "tracker",
        "service: tracker",
        "service: tracker-inc",
        "tracker-inc",
        |dir| {
            let custom = r#"use axum::Router;
use axum::routing::get;

use crate::state::AppState;

async fn boom() -> &'static str {
    panic!("kaboom")
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/boom", get(boom))
}
"#;
            std::fs::write(dir.join("src/custom.rs"), custom).unwrap();
            // Hooks (the user's own files too) that panic whenever they run:
            // a 500 shows a hook ran, a 404 that it never saw the row.
            let hooks = dir.join("src/hooks/task.rs");
            let text = std::fs::read_to_string(&hooks).unwrap();
            let refused = "panic!(\"a task hook ran\")";
            let update = "    _changes: &mut Changes,\n) -> Result<(), ApiError> {\n    Ok(())";
            let delete = "_id: Id) -> Result<(), ApiError> {\n    Ok(())";
            assert!(text.contains(update) && text.contains(delete), "{text}");
            let text = text
                .replace(update, &update.replace("Ok(())", refused))
                .replace(delete, &delete.replace("Ok(())", refused));
            std::fs::write(hooks, text).unwrap();
        },
    );
    let credentials = credentials_of(&tmp.path().join("tracker-inc"));
    let db = format!("scaffold_e2e_includes_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));
    let counter = StatementCounter::start();
    let svc = Running::start_with(&bin, &db, &[("DATABASE_URL", &counter.url(&db))]);

    let boom = request("GET", &svc.url("/v1/boom"), None);
    boom.assert_problem(500, "/v1/boom");
    assert!(boom.header("x-request-id").is_some());
    assert!(
        !boom.body.to_string().contains("kaboom"),
        "the panic stays in the log: {:?}",
        boom.body
    );
    let logs = svc.logs();
    assert!(
        logs.contains("a request handler panicked") && logs.contains("kaboom"),
        "{logs}"
    );
    assert_eq!(request("GET", &svc.url("/readyz"), None).status, 200);

    let (alice, alice_token) = sign_up(&svc, &credentials, 30);
    let (bob, bob_token) = sign_up(&svc, &credentials, 31);
    let make = |token: &str, route: &str, body: Value| {
        let made = send_as(token, "POST", &svc.url(route), &body);
        assert_eq!(made.status, 201, "{route}: {:?}", made.body);
        made.body
    };
    let label = make(&alice_token, "/v1/labels", json!({ "name": "urgent" }));
    let alices = make(&alice_token, "/v1/projects", json!({ "name": "alice's" }));
    let bobs = make(&bob_token, "/v1/projects", json!({ "name": "bob's" }));
    assert_eq!(alices["member_id"], alice);
    assert_eq!(bobs["member_id"], bob);
    let mut alice_tasks = Vec::new();
    for n in 0..12 {
        let body = json!({ "title": format!("task {n}"), "label_id": label["id"], "project_id": alices["id"] });
        alice_tasks.push(make(&alice_token, "/v1/tasks", body)["id"].clone());
    }
    let body = json!({ "title": "bob's task", "label_id": label["id"], "project_id": bobs["id"] });
    let bobs_task = make(&bob_token, "/v1/tasks", body);

    // Parents: every task of Alice's page carries her project and the label.
    let tasks = request_as(
        Some(&alice_token),
        "GET",
        &svc.url("/v1/tasks?include=project,label&limit=5"),
        None,
    );
    assert_eq!(tasks.status, 200, "{:?}", tasks.body);
    let items = tasks.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        assert_eq!(item["project"], alices, "{item}");
        assert_eq!(item["label"], label, "{item}");
        assert_eq!(item["project_id"], alices["id"]);
    }
    // The cursor still pages, and includes do not change which rows a page holds.
    let next = tasks.body["next_cursor"].as_str().unwrap();
    let page2 = request_as(
        Some(&alice_token),
        "GET",
        &svc.url(&format!("/v1/tasks?include=project&limit=5&cursor={next}")),
        None,
    );
    assert_eq!(page2.status, 200, "{:?}", page2.body);
    assert_eq!(page2.body["items"][0]["id"], alice_tasks[5]);
    assert!(
        page2.body["items"][0].get("label").is_none(),
        "only what was asked"
    );

    // Children: Alice's project with its first ten tasks by id, none of Bob's.
    let projects = request_as(
        Some(&alice_token),
        "GET",
        &svc.url("/v1/projects?include=tasks"),
        None,
    );
    assert_eq!(projects.status, 200, "{:?}", projects.body);
    let items = projects.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only Alice's project: {items:?}");
    let embedded: Vec<Value> = items[0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(embedded, alice_tasks[..10].to_vec(), "capped at 10, by id");
    // Bob's list embeds his one task, never Alice's.
    let projects = request_as(
        Some(&bob_token),
        "GET",
        &svc.url("/v1/projects?include=tasks"),
        None,
    );
    let items = projects.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["tasks"], json!([bobs_task]));

    // An admin lists every project: each embeds its owner's tasks only.
    psql(
        &db,
        &format!(
            "UPDATE members SET role = 'admin' WHERE id = {}",
            id_path(&bob)
        ),
    );
    let admin_token = {
        let login = login_field(&credentials);
        let body = body_for(&credentials, 31, &[], None);
        let tokens = send(
            "POST",
            &svc.url("/v1/auth/login"),
            &json!({ login.clone(): body[&login], "password": "correct horse battery staple" }),
        );
        assert_eq!(tokens.status, 200, "{:?}", tokens.body);
        tokens.body["access_token"].as_str().unwrap().to_string()
    };
    let projects = request_as(
        Some(&admin_token),
        "GET",
        &svc.url("/v1/projects?include=tasks"),
        None,
    );
    assert_eq!(projects.status, 200, "{:?}", projects.body);
    let items = projects.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    for item in items {
        for task in item["tasks"].as_array().unwrap() {
            assert_eq!(task["project_id"], item["id"], "{item}");
        }
    }

    // Sparse fields: `id` and what was asked, plus the includes.
    let sparse = request_as(
        Some(&alice_token),
        "GET",
        &svc.url("/v1/tasks?fields=title&include=label&limit=2"),
        None,
    );
    assert_eq!(sparse.status, 200, "{:?}", sparse.body);
    for item in sparse.body["items"].as_array().unwrap() {
        // (This client's JSON objects sort their keys.)
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "label", "title"], "{item}");
    }

    // Bad values are a 400 naming the parameter and what is allowed.
    for (query, named) in [
        ("include=comments", "`label`, `project`"),
        ("include=", "include"),
        ("fields=colour", "`title`"),
        ("fields=", "fields"),
    ] {
        let path = format!("/v1/tasks?{query}");
        let bad = request_as(Some(&alice_token), "GET", &svc.url(&path), None);
        bad.assert_problem(400, &path);
        assert!(
            bad.body["detail"].as_str().unwrap().contains(named),
            "{query}: {:?}",
            bad.body
        );
    }

    // Bob's PATCH or DELETE of Alice's task never reaches her hooks: a 404
    // before any user code runs. Her own PATCH does reach them (the hook
    // panics: a 500), and nothing changed either way.
    let task = format!("/v1/tasks/{}", id_path(&alice_tasks[0]));
    let before = row_json(&db, "tasks", &alice_tasks[0]);
    let change = json!({ "title": "hooked" });
    let theirs = send_as(&bob_token, "PATCH", &svc.url(&task), &change);
    theirs.assert_problem(404, &task);
    let theirs = request_as(Some(&bob_token), "DELETE", &svc.url(&task), None);
    theirs.assert_problem(404, &task);
    let own = send_as(&alice_token, "PATCH", &svc.url(&task), &change);
    own.assert_problem(500, &task);
    assert!(svc.logs().contains("a task hook ran"));
    assert_eq!(row_json(&db, "tasks", &alice_tasks[0]), before);

    // Statements: each relation is one more, for a page of 2 or of 12.
    let count = |path: &str| {
        counter.statements(|| {
            let page = request_as(Some(&alice_token), "GET", &svc.url(path), None);
            assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        })
    };
    for limit in [2, 12] {
        let plain = count(&format!("/v1/tasks?limit={limit}"));
        let two = count(&format!("/v1/tasks?limit={limit}&include=label,project"));
        assert_eq!(
            two,
            plain + 2,
            "limit {limit}: {plain} statements without includes, {two} with two"
        );
        let plain = count(&format!("/v1/projects?limit={limit}"));
        let one = count(&format!("/v1/projects?limit={limit}&include=tasks"));
        assert_eq!(
            one,
            plain + 1,
            "limit {limit}: {plain} statements without includes, {one} with one"
        );
    }
    drop(svc);
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}

/// `tests/otlp_receiver.py`: an OTLP/HTTP trace receiver that decodes each
/// export with `opentelemetry-proto` and prints its spans, one JSON line per
/// request. Killed on drop.
struct OtlpReceiver {
    child: Child,
    endpoint: String,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl OtlpReceiver {
    fn start() -> OtlpReceiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otlp_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let port = serde_json::from_str::<Value>(&first)
            .ok()
            .and_then(|line| line["port"].as_u64())
            .unwrap_or_else(|| {
                panic!(
                    "the OTLP receiver did not start: {first:?} (opentelemetry-proto comes \
                     from `python3 -m pip install opentelemetry-proto==1.45.2`; .ci/test \
                     installs it)"
                )
            });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        OtlpReceiver {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            lines,
        }
    }

    /// Export requests received so far.
    fn requests(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Every span received so far.
    fn spans(&self) -> Vec<Value> {
        let lines = self.lines.lock().unwrap();
        for line in lines.iter() {
            assert!(line.get("unexpected").is_none(), "{line}");
        }
        lines
            .iter()
            .flat_map(|line| line["spans"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// OpenTelemetry, against a real OTLP/HTTP receiver: a create and a cached
/// read sent with a caller's `traceparent` are server spans of the caller's
/// trace, parented under the caller's span, with their SQL statement (and the
/// cache lookup) as child spans, under the service's `service.name`; the
/// response tells the trace back in `traceresponse`, and the JSON log lines
/// of the request carry its trace and span ids. The spans arrive although the
/// batch interval has not passed: SIGTERM flushes them. Without
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, nothing is sent.
#[test]
fn shop_exports_traces_over_otlp() {
    let receiver = OtlpReceiver::start();
    let (bin, credentials, _tmp) = build_shop_as("otel_shop");
    let db = format!("scaffold_e2e_otel_{}", std::process::id());
    psql("test", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql("test", &format!("CREATE DATABASE \"{db}\""));

    let svc = Running::start_with(
        &bin,
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint),
            ("OTEL_SERVICE_NAME", "otel-shop-e2e"),
            // Longer than the test: only the flush on SIGTERM sends them.
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let (_, token) = sign_up(&svc, &credentials, 1);
    let bearer = format!("Bearer {token}");
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller = "b7ad6b7169203331";
    let traceparent = format!("00-{trace}-{caller}-01");
    let created = request_with(
        &[
            ("traceparent", traceparent.clone()),
            ("authorization", bearer.clone()),
        ],
        "POST",
        &svc.url("/v1/orders"),
        Some(json_body(&json!({ "total_cents": 1250 }))),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let told = created.header("traceresponse").expect("a traceresponse");
    let parts: Vec<&str> = told.split('-').collect();
    assert_eq!(parts.len(), 4, "{told}");
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        ("00", trace, "01"),
        "{told}"
    );
    let server = parts[2].to_string();
    assert_ne!(server, caller);
    let id = created.body["id"].clone();
    let read_caller = "c8be7c8270314442";
    let read = request_with(
        &[
            ("traceparent", format!("00-{trace}-{read_caller}-01")),
            ("authorization", bearer.clone()),
        ],
        "GET",
        &svc.url(&format!("/v1/orders/{}", id_path(&id))),
        None,
    );
    assert_eq!(read.status, 200, "{:?}", read.body);
    // An account route's statements are child spans too.
    let me_caller = "d9cf8d9381425553";
    let me = request_with(
        &[
            ("traceparent", format!("00-{trace}-{me_caller}-01")),
            ("authorization", bearer.clone()),
        ],
        "GET",
        &svc.url("/v1/auth/me"),
        None,
    );
    assert_eq!(me.status, 200, "{:?}", me.body);

    // The request's log lines carry the trace and the server span.
    let logged: Vec<Value> = svc
        .logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["span"]["span_id"] == server.as_str())
        .collect();
    assert!(
        !logged.is_empty(),
        "no log line of the request:\n{}",
        svc.logs()
    );
    for line in &logged {
        assert_eq!(line["span"]["trace_id"], trace, "{line}");
    }
    // Every request is traced (none lost its span).
    for line in svc.logs().lines() {
        if line.contains("finished processing request") {
            assert!(line.contains("\"trace_id\""), "an untraced request: {line}");
        }
    }
    let svc_logs = svc.logs();
    stop(svc);

    let deadline = Instant::now() + Duration::from_secs(10);
    let spans = loop {
        let spans: Vec<Value> = receiver
            .spans()
            .into_iter()
            .filter(|span| span["trace_id"] == trace)
            .collect();
        // The receiver prints an export before it answers, and the service
        // has exited, so only the reading thread may still lag.
        let expected = [
            "POST /v1/orders",
            "GET /v1/orders/{id}",
            "GET /v1/auth/me",
            "cache.get",
            "db.query",
        ];
        let all = expected
            .iter()
            .all(|name| spans.iter().any(|span| span["name"] == *name));
        if all || Instant::now() > deadline {
            break spans;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    let by_id = |id: &str| spans.iter().find(|span| span["span_id"] == id);
    let post = by_id(&server).unwrap_or_else(|| panic!("no server span {server}: {names:?}"));
    assert_eq!(post["name"], "POST /v1/orders", "{post}");
    assert_eq!(post["kind"], "SPAN_KIND_SERVER", "{post}");
    assert_eq!(post["parent_span_id"], caller, "{post}");
    assert_eq!(post["attributes"]["http.request.method"], "POST", "{post}");
    assert_eq!(post["attributes"]["http.route"], "/v1/orders", "{post}");
    assert_eq!(
        post["attributes"]["http.response.status_code"], 201,
        "{post}"
    );
    assert_eq!(post["resource"]["service.name"], "otel-shop-e2e", "{post}");
    // A span's ancestors within the trace, nearest first.
    let ancestors = |span: &Value| {
        let mut chain = Vec::new();
        let mut parent = span["parent_span_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        while let Some(up) = by_id(&parent) {
            chain.push(parent.clone());
            parent = up["parent_span_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        }
        chain.push(parent);
        chain
    };
    let insert = spans
        .iter()
        .find(|span| {
            span["name"] == "db.query"
                && span["attributes"]["db.operation.name"] == "INSERT"
                && ancestors(span).contains(&server)
        })
        .unwrap_or_else(|| panic!("no INSERT under the server span: {spans:#?}"));
    assert_eq!(
        insert["attributes"]["db.system.name"], "postgresql",
        "{insert}"
    );
    assert_eq!(insert["kind"], "SPAN_KIND_CLIENT", "{insert}");
    let text = insert["attributes"]["db.query.text"].as_str().unwrap();
    assert!(
        text.contains("INSERT INTO \"orders\"") && text.contains("$1"),
        "{text}"
    );
    assert!(
        !text.contains("1250"),
        "a bound value in the statement: {text}"
    );
    // The read: its own server span under its caller, the cache lookup
    // under it and the statement under the lookup.
    let get = spans
        .iter()
        .find(|span| span["name"] == "GET /v1/orders/{id}")
        .unwrap_or_else(|| {
            panic!(
                "no GET span: {names:?} ({} exports)\n{}",
                receiver.requests(),
                svc_logs
            )
        });
    assert_eq!(get["parent_span_id"], read_caller, "{get}");
    let get_id = get["span_id"].as_str().unwrap().to_string();
    let lookup = spans
        .iter()
        .find(|span| span["name"] == "cache.get" && span["parent_span_id"] == get_id.as_str())
        .unwrap_or_else(|| panic!("no cache.get under the GET: {names:?}"));
    let lookup_id = lookup["span_id"].as_str().unwrap();
    assert!(
        spans
            .iter()
            .any(|span| span["name"] == "db.query" && span["parent_span_id"] == lookup_id),
        "no statement under the cache lookup: {names:?}"
    );
    let me = spans
        .iter()
        .find(|span| span["name"] == "GET /v1/auth/me" && span["parent_span_id"] == me_caller)
        .unwrap_or_else(|| panic!("no GET /v1/auth/me span under its caller: {names:?}"));
    let me_id = me["span_id"].as_str().unwrap().to_string();
    assert!(
        spans.iter().any(|span| span["name"] == "db.query"
            && span["attributes"]["db.query.text"]
                .as_str()
                .is_some_and(|text| text.contains("FROM \"users\""))
            && ancestors(span).contains(&me_id)),
        "no account statement under GET /v1/auth/me: {spans:#?}"
    );

    // Unset: no exporter, no traceresponse, nothing sent.
    let before = receiver.requests();
    let svc = Running::start(&bin, &db);
    let (_, token) = sign_up(&svc, &credentials, 2);
    let quiet = request_with(
        &[
            ("traceparent", traceparent.clone()),
            ("authorization", format!("Bearer {token}")),
        ],
        "POST",
        &svc.url("/v1/orders"),
        Some(json_body(&json!({ "total_cents": 1 }))),
    );
    assert_eq!(quiet.status, 201, "{:?}", quiet.body);
    assert_eq!(quiet.header("traceresponse"), None);
    assert!(
        !svc.logs().contains(trace),
        "a trace id logged without an exporter:\n{}",
        svc.logs()
    );
    stop(svc);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        receiver.requests(),
        before,
        "spans sent without an endpoint"
    );
    psql(
        "test",
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
}
