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
    /// Check a spec and print every problem in it.
    Validate {
        /// The spec file to check.
        file: PathBuf,
    },
}

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
            let bar = progress(files.len());
            write::write_new_tree(&dir, &files, |path| {
                if let Some(bar) = &bar {
                    bar.set_message(path.to_string());
                    bar.inc(1);
                }
            })?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
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

fn read_spec(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read spec `{}`", path.display()))
}

fn service_db_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().replace('-', "_"))
        .unwrap_or_else(|| "app".to_string())
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
