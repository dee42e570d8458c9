//! `users sync FILE`: keeps the domain in line with a directory file,
//! through the SDK's [`finbourne_identity::sync`], of which this is a thin
//! front end:
//!
//! 1. The file is read as a stream by the bulk input ([`lines`]: the
//!    columns and empty-cell rules of import and export), and planned
//!    against the domain's streamed list ([`sync::plan`]), or a saved plan
//!    is read (`--from-plan`).
//! 2. `--out` saves the plan (a temporary file renamed into place).
//! 3. Without `--apply`, the plan is shown ([`show`]) and the exit code
//!    tells: 0 nothing to do, 10 changes pending, 9 some lines of the file
//!    are not valid.
//! 4. With `--apply`, the prune's guard is checked (nothing is changed
//!    when it refuses: exit 2), and the plan applied ([`apply`]), with a
//!    `--report` that resumes ([`resume`]).

mod apply;
mod lines;
mod resume;
mod show;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use finbourne_identity::sync::{self, Guard, Key, Plan, Prune, SyncError, SyncOptions};
use finbourne_identity::{IdentityClient, UserType};

use crate::args::SyncArgs;
use crate::commands::bulk::report::ReportFile;
use crate::commands::bulk::source::{Source, SourceError};
use crate::errors::{CliError, Exit};
use crate::files::{Input, check_target, same_file};
use crate::output::{Output, note};
use crate::temporary::{remove_stale_temporaries, temporary_file_for};
use lines::{InputStopped, SyncLines};

/// Runs `users sync`.
pub(crate) async fn run(
    args: &SyncArgs,
    output: Output,
    client: impl Fn() -> Result<IdentityClient, CliError>,
) -> Result<(), CliError> {
    let guard = Guard {
        max_deletes: args.max_deletes,
        max_deletes_percent: args.max_deletes_percent,
    };
    if let (Some(out), Some(report)) = (&args.out, &args.report)
        && same_file(out, report)
    {
        return Err(CliError::UnsafePath {
            path: out.display().to_string(),
            reason: "--out and --report name the same file: the plan would take the report's \
                     place; name two files"
                .to_owned(),
        });
    }
    let client = client()?;
    let (plan, input, left) = match (&args.from_plan, &args.file) {
        (Some(path), _) => (read_saved(path)?, Input::new(path), 0),
        (None, Some(file)) => planned(args, &client, file).await?,
        (None, None) => {
            return Err(CliError::BadInput {
                what: "users sync".to_owned(),
                message: "name the directory FILE, or a saved plan with --from-plan".to_owned(),
            });
        }
    };
    if let Some(out) = &args.out {
        save(&plan, out, &input)?;
        note(&format!("plan saved to {}", out.display()));
    }
    let summary = *plan.summary();
    if !(args.apply && output.is_json()) {
        show::show(&plan, output.is_json() && !args.apply)?;
    }
    show::summary(&summary, left);
    if !args.apply {
        if let Err(why) = guard.check(&summary) {
            note(&format!("warning: --apply would change nothing: {why}"));
        }
        return if summary.invalid > 0 {
            Err(CliError::Reported(Exit::SomeLinesFailed))
        } else if !summary.is_empty() {
            Err(CliError::Reported(Exit::ChangesPending))
        } else {
            Ok(())
        };
    }
    // Refused (another service, the guard) before the report is opened.
    let applying = plan.apply(&client, &guard).map_err(|error| match error {
        SyncError::Guard(why) => CliError::BadInput {
            what: "the plan".to_owned(),
            message: format!("{why}; nothing was changed"),
        },
        other => cli_error(other, "the plan"),
    })?;
    let (report, resumed) = match &args.report {
        Some(path) => ReportFile::open::<resume::Resumed>(path, &input, resume::REPORT_KIND)?,
        None => (ReportFile::none(), resume::Resumed::default()),
    };
    let done = resumed.of_plan(&plan.info().id);
    apply::run(&plan, applying, &client, args, report, done, output).await
}

/// The plan of the directory `file` against the client's domain, its
/// input, and how many rows of users who left it had.
async fn planned(
    args: &SyncArgs,
    client: &IdentityClient,
    file: &Path,
) -> Result<(Plan, Input, u64), CliError> {
    let source = Source::open(file, args.format)?;
    let input = source.input.clone();
    let what = source.what.clone();
    let mut options = SyncOptions::new().input(input.name());
    if let Some(key) = &args.key {
        options = options.key(Key::AlternativeUserId(key.clone()));
    }
    if args.prune {
        let types: Vec<UserType> = if args.prune_types.is_empty() {
            vec![UserType::Personal]
        } else {
            args.prune_types
                .iter()
                .map(|kind| UserType::from(*kind))
                .collect()
        };
        let mut prune = Prune::new().types(types);
        if let Some(me) = &args.me {
            prune = prune.caller(me.as_str());
        }
        options = options.prune(prune);
    }
    let records = source.read(SyncLines)?;
    let left = Arc::new(AtomicU64::new(0));
    let desired = lines::desired(records, Arc::clone(&left));
    let plan = sync::plan(client, desired, &options)
        .await
        .map_err(|error| cli_error(error, &what))?;
    Ok((plan, input, left.load(Ordering::Relaxed)))
}

/// A saved plan, read.
fn read_saved(path: &Path) -> Result<Plan, CliError> {
    let what = path.display().to_string();
    let file = File::open(path).map_err(|source| CliError::Read {
        what: what.clone(),
        source,
    })?;
    Plan::read_json(BufReader::new(file)).map_err(|error| cli_error(error, &what))
}

/// Writes `plan` to `path` through a temporary file renamed over it when
/// complete (never the input, never through a link).
fn save(plan: &Plan, path: &Path, input: &Input) -> Result<(), CliError> {
    check_target(path, Some(input), "the plan")?;
    remove_stale_temporaries(path, "plan");
    let shown = path.display().to_string();
    let failed = |source: io::Error| CliError::Write {
        what: format!("the plan {shown}"),
        source,
    };
    let temporary = temporary_file_for(path, "plan").map_err(failed)?;
    let mut out = BufWriter::new(temporary);
    plan.write_json(&mut out).map_err(|error| match error {
        SyncError::Disk(source) => failed(source),
        other => failed(io::Error::other(other.to_string())),
    })?;
    out.flush().map_err(failed)?;
    let temporary = out
        .into_inner()
        .map_err(|error| failed(error.into_error()))?;
    temporary
        .persist(path)
        .map_err(|error| failed(error.error))?;
    Ok(())
}

/// The CLI's error for a failure of the SDK's sync (`what`: the input).
pub(crate) fn cli_error(error: SyncError, what: &str) -> CliError {
    match error {
        SyncError::Input(error) => match error.downcast::<InputStopped>() {
            Ok(stopped) => match stopped.0 {
                SourceError::Read(source) => CliError::Read {
                    what: what.to_owned(),
                    source,
                },
                SourceError::Bad(message) => CliError::BadInput {
                    what: what.to_owned(),
                    message,
                },
            },
            Err(other) => CliError::BadInput {
                what: what.to_owned(),
                message: other.to_string(),
            },
        },
        SyncError::Domain(error) => CliError::Sdk(error),
        SyncError::Disk(source) => CliError::Write {
            what: "a temporary file of the plan".to_owned(),
            source,
        },
        SyncError::CallerUnknown => CliError::BadInput {
            what: "--prune".to_owned(),
            message: "the account the sync runs as is never pruned, and a personal access \
                      token does not say whose it is: name it with --me LOGIN"
                .to_owned(),
        },
        other @ (SyncError::NotAPlan(_) | SyncError::Guard(_) | SyncError::OtherService { .. }) => {
            CliError::BadInput {
                what: what.to_owned(),
                message: other.to_string(),
            }
        }
        other => CliError::BadInput {
            what: what.to_owned(),
            message: other.to_string(),
        },
    }
}
