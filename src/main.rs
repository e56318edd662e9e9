//! The command line: parse arguments, call the library, pick the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use scaffold::{diag, write};

/// Generate a production-grade axum + sqlx service from a YAML resource spec.
#[derive(Debug, Parser)]
#[command(name = "scaffold", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new service in DIR (which must be absent or empty).
    New {
        /// Directory to create the service in.
        dir: PathBuf,
        /// The spec to generate from; without it, a starter spec (users and
        /// their orders) is written to DIR/scaffold.yaml and used.
        #[arg(long, value_name = "FILE")]
        spec: Option<PathBuf>,
    },
    /// Regenerate an existing service from its scaffold.yaml.
    Generate {
        /// The service's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Write nothing; exit 1 with a unified diff when the files differ
        /// from what the spec generates (for CI).
        #[arg(long, conflicts_with = "dry_run")]
        check: bool,
        /// Write nothing; print what would be created, updated, removed.
        #[arg(long)]
        dry_run: bool,
        /// Overwrite generated files that were edited by hand.
        #[arg(long)]
        force: bool,
        /// Allow a migration that drops columns or tables (and their data).
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Check a spec and print every problem in it.
    Validate {
        /// The spec file to check.
        file: PathBuf,
    },
    /// Print the route table a spec generates.
    Routes {
        /// The spec file.
        file: PathBuf,
    },
    /// Print the JSON Schema of the spec format (for editor validation and
    /// completion; `scaffold new` also writes it next to scaffold.yaml).
    Schema,
}

/// The generator holds the whole service in memory while it renders: many
/// small strings and JSON trees, made and freed in bulk. mimalloc serves
/// that faster than glibc's allocator, whose free-list consolidation grew
/// with the spec's size (bench/RESULTS.md, 2026-11-30).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes: 0 success, 1 failure, 2 invalid spec or usage.
const EXIT_FAILURE: u8 = 1;
const EXIT_INVALID: u8 = 2;

enum Outcome {
    Ok,
    Invalid,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(EXIT_INVALID),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Generate {
            dir,
            check,
            dry_run,
            force,
            allow_destructive,
        } => generate(&dir, check, dry_run, force, allow_destructive),
        Command::Schema => {
            print!("{}", scaffold::render::jsonschema::spec_schema_text());
            Ok(Outcome::Ok)
        }
        Command::Routes { file } => {
            let source = read_spec(&file)?;
            match scaffold::check(&source) {
                Ok(service) => {
                    print!("{}", routes_table(&service));
                    Ok(Outcome::Ok)
                }
                Err(diags) => {
                    eprint!("{}", diag::render(&file.display().to_string(), &diags));
                    Ok(Outcome::Invalid)
                }
            }
        }
        Command::Validate { file } => {
            let source = read_spec(&file)?;
            match scaffold::check(&source) {
                Ok(service) => {
                    eprintln!(
                        "{}: ok ({} resources)",
                        file.display(),
                        service.resources.len()
                    );
                    Ok(Outcome::Ok)
                }
                Err(diags) => {
                    eprint!("{}", diag::render(&file.display().to_string(), &diags));
                    Ok(Outcome::Invalid)
                }
            }
        }
        Command::New { dir, spec } => {
            if !write::is_empty_or_missing(&dir)? {
                anyhow::bail!(
                    "`{}` already exists and is not empty\nhelp: choose a new directory, or use `scaffold generate` to regenerate an existing service",
                    dir.display()
                );
            }
            let (source, shown) = match &spec {
                Some(path) => (read_spec(path)?, path.display().to_string()),
                None => (
                    scaffold::STARTER_SPEC.to_string(),
                    "scaffold.yaml".to_string(),
                ),
            };
            let files = match scaffold::compile(&source) {
                Ok(files) => files,
                Err(diags) => {
                    eprint!("{}", diag::render(&shown, &diags));
                    return Ok(Outcome::Invalid);
                }
            };
            with_progress(files.len(), |step| {
                write::write_new_tree(&dir, &files, step)
            })?;
            eprintln!(
                "created `{}` ({} files) from {shown}",
                dir.display(),
                files.len()
            );
            eprintln!(
                "next: cd {} && export DATABASE_URL=postgres://localhost/{} && cargo run",
                dir.display(),
                service_db_name(&dir)
            );
            Ok(Outcome::Ok)
        }
    }
}

fn generate(
    dir: &Path,
    check: bool,
    dry_run: bool,
    force: bool,
    allow_destructive: bool,
) -> Result<Outcome> {
    let spec_path = dir.join("scaffold.yaml");
    let lock_path = dir.join(scaffold::regen::lock::LOCK_PATH);
    let source = read_spec(&spec_path)?;
    let lock_text = std::fs::read_to_string(&lock_path).with_context(|| {
        format!(
            "cannot read `{}`: is `{}` a service created by `scaffold new`?",
            lock_path.display(),
            dir.display()
        )
    })?;
    let previous = scaffold::regen::lock::Lock::parse(&lock_text)
        .with_context(|| format!("`{}` is not a valid scaffold.lock", lock_path.display()))?;
    let options = scaffold::regen::schema::DiffOptions { allow_destructive };
    let regen = match scaffold::regenerate(&source, &previous, options) {
        Ok(r) => r,
        Err(diags) => {
            eprint!("{}", diag::render(&spec_path.display().to_string(), &diags));
            return Ok(Outcome::Invalid);
        }
    };
    let plan = write::plan(dir, &regen, &previous)?;
    if check {
        if plan.changes() == 0 && plan.edited.is_empty() {
            eprintln!("{}: up to date with scaffold.yaml", dir.display());
            return Ok(Outcome::Ok);
        }
        print!("{}", write::drift(dir, &regen, &plan)?);
        anyhow::bail!(
            "`{}` differs from what scaffold.yaml generates ({} files); run `scaffold generate`",
            dir.display(),
            plan.changes() + plan.edited.len()
        );
    }
    if dry_run {
        print!("{}", plan.render());
        return Ok(Outcome::Ok);
    }
    if !plan.edited.is_empty() && !force {
        let list = plan
            .edited
            .iter()
            .map(|p| format!("  {p}\n"))
            .collect::<String>();
        anyhow::bail!(
            "these generated files were edited by hand since the last generation:\n{list}help: move the changes into the hooks or custom routes, or pass `--force` to overwrite them"
        );
    }
    with_progress(plan.changes(), |step| {
        write::apply(dir, &regen, &plan, force, step)
    })?;
    eprintln!(
        "{}: {} created, {} updated, {} removed, {} unchanged",
        dir.display(),
        plan.created.len(),
        plan.updated.len(),
        plan.removed.len(),
        plan.unchanged.len()
    );
    for m in &regen.new_migrations {
        eprintln!("new migration: {m}");
    }
    Ok(Outcome::Ok)
}

/// `METHOD  PATH  OPERATION` for every route.
fn routes_table(service: &scaffold::model::Service) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for route in service.resources.iter().flat_map(|r| &r.routes) {
        let op = match &route.parent {
            Some(parent) => format!("{} under {parent}", route.action.as_str()),
            None => route.action.as_str().to_string(),
        };
        rows.push((route.method.into(), route.path.clone(), op));
    }
    for (path, op) in [
        ("/health", "health summary"),
        ("/livez", "liveness"),
        ("/readyz", "readiness"),
    ] {
        rows.push(("GET".into(), path.into(), op.into()));
    }
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(m, p, op)| format!("{m:<7} {p:<width$}  {op}\n"))
        .collect()
}

fn read_spec(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read spec `{}`", path.display()))
}

fn service_db_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().replace('-', "_"))
        .unwrap_or_else(|| "app".to_string())
}

/// Runs `work`, which reports each file it writes, behind a progress bar.
fn with_progress<T>(len: usize, work: impl FnOnce(&mut dyn FnMut(&str)) -> Result<T>) -> Result<T> {
    let bar = progress(len);
    let mut step = |path: &str| {
        if let Some(bar) = &bar {
            bar.set_message(path.to_string());
            bar.inc(1);
        }
    };
    let out = work(&mut step);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    out
}

/// A progress bar on stderr, only when stderr is a terminal: CI logs and
/// pipes get plain lines.
fn progress(len: usize) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}
