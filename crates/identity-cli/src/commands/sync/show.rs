//! How a plan is shown: one line per entry on stdout, as they are read
//! from the plan (memory does not grow with it), then its counts on
//! stderr; or with `--json` the plan's JSON document, the same a saved
//! plan holds. The users kept (not in the file, not pruned) are listed up
//! to [`KEPT_SHOWN`] in the text form; `--json` lists them all.

use std::io::{self, BufWriter, Write};

use finbourne_identity::sync::{Change, ConflictReason, KeepReason, Plan, Summary};

use crate::errors::CliError;
use crate::escape::untrusted;
use crate::output::note;

/// The kept users the text form lists.
pub(crate) const KEPT_SHOWN: u64 = 20;

/// Prints `plan` on stdout, as text or JSON.
pub(crate) fn show(plan: &Plan, json: bool) -> Result<(), CliError> {
    let mut out = BufWriter::new(io::stdout().lock());
    if json {
        plan.write_json(&mut out).map_err(|error| match error {
            finbourne_identity::sync::SyncError::Disk(error) => CliError::Output(error),
            other => CliError::Output(io::Error::other(other.to_string())),
        })?;
        return Ok(());
    }
    let mut kept = 0;
    for change in plan.changes() {
        let change =
            change.map_err(|error| CliError::Output(io::Error::other(error.to_string())))?;
        if let Change::Keep { .. } = change {
            kept += 1;
            if kept > KEPT_SHOWN {
                continue;
            }
        }
        writeln!(out, "{}", line_of(&change))?;
    }
    if kept > KEPT_SHOWN {
        writeln!(
            out,
            "keep      ... and {} more not in the file (--json lists them all)",
            kept - KEPT_SHOWN
        )?;
    }
    out.flush()?;
    Ok(())
}

/// One entry as a line of text, the file's and the service's text escaped
/// for the terminal.
pub(crate) fn line_of(change: &Change) -> String {
    let who = |login: Option<&str>, id: Option<&str>| {
        let login = untrusted(login.unwrap_or("?"));
        match id {
            Some(id) => format!("{login} ({})", untrusted(id)),
            None => login.into_owned(),
        }
    };
    let at = |line: Option<u64>| line.map_or(String::new(), |line| format!("line {line}: "));
    match change {
        Change::Create { line, login, .. } => {
            format!("create    {}{}", at(Some(*line)), untrusted(login))
        }
        Change::Update {
            line,
            id,
            login,
            changes,
            ..
        } => {
            let fields: Vec<String> = changes
                .iter()
                .map(|change| {
                    format!(
                        "{} {} -> {}",
                        change.field,
                        value(change.old.as_deref()),
                        value(change.new.as_deref())
                    )
                })
                .collect();
            format!(
                "update    {}{}: {}",
                at(Some(*line)),
                who(Some(login), Some(id)),
                fields.join("; ")
            )
        }
        Change::Delete { id, login, .. } => format!("delete    {}", who(Some(login), Some(id))),
        Change::Conflict {
            line,
            id,
            login,
            reason,
            message,
        } => format!(
            "conflict  {}{}: {}: {}",
            at(*line),
            who(login.as_deref(), id.as_deref()),
            conflict_name(*reason),
            untrusted(message)
        ),
        Change::Invalid {
            line,
            login,
            message,
            field_errors,
        } => {
            let mut text = format!(
                "invalid   {}{}: {}",
                at(Some(*line)),
                who(login.as_deref(), None),
                untrusted(message)
            );
            for (field, messages) in field_errors {
                text.push_str(&format!(
                    "; {}: {}",
                    untrusted(field),
                    untrusted(&messages.join(" "))
                ));
            }
            text
        }
        Change::Keep { id, login, reason } => format!(
            "keep      {}: {}",
            who(Some(login), Some(id)),
            match reason {
                KeepReason::NotInFile => "not in the file (no --prune)",
                KeepReason::Caller => "not in the file; the account the sync runs as",
                KeepReason::TypeNotPruned => "not in the file; a type --prune-type does not name",
            }
        ),
    }
}

/// A value of a change: quoted and escaped, or "(none)".
fn value(value: Option<&str>) -> String {
    value.map_or_else(
        || "(none)".to_owned(),
        |value| format!("\"{}\"", untrusted(value)),
    )
}

fn conflict_name(reason: ConflictReason) -> &'static str {
    match reason {
        ConflictReason::Type => "type",
        ConflictReason::Roles => "roles",
        ConflictReason::Deprovisioned => "deprovisioned",
        ConflictReason::DuplicateInFile => "duplicate in the file",
        ConflictReason::DuplicateInDomain => "duplicate in the domain",
        ConflictReason::LoginTaken => "login taken",
    }
}

/// The plan's counts, on stderr.
pub(crate) fn summary(summary: &Summary, left: u64) {
    let mut text = format!(
        "plan: create {}, update {}, delete {}, conflicts {}, invalid lines {}; unchanged {}, \
         not in the file and kept {}",
        summary.create,
        summary.update,
        summary.delete,
        summary.conflict,
        summary.invalid,
        summary.unchanged,
        summary.keep
    );
    if summary.unmanaged > 0 {
        text.push_str(&format!(
            ", without the key (not the file's) {}",
            summary.unmanaged
        ));
    }
    if summary.deprovisioned > 0 {
        text.push_str(&format!(", left already {}", summary.deprovisioned));
    }
    if left > 0 {
        text.push_str(&format!(
            "; {left} rows of users who left (DEPROVISIONED) taken as not in the file"
        ));
    }
    note(&text);
    if summary.roles_not_compared > 0 {
        note(&format!(
            "roles of {} existing users not compared: ListUsers does not return roles (the \
             file's roles are those a new user is created with)",
            summary.roles_not_compared
        ));
    }
}

#[cfg(test)]
mod tests {
    use finbourne_identity::sync::{FieldChange, UserField};

    use super::*;

    #[test]
    fn an_update_shows_each_field_old_and_new_escaped() {
        let change = Change::Update {
            number: 1,
            line: 4,
            id: "00u1".into(),
            login: "ann@acme.com".into(),
            changes: vec![
                FieldChange {
                    field: UserField::LastName,
                    old: Some("Lee".into()),
                    new: Some("Lee\u{1b}[2J".into()),
                },
                FieldChange {
                    field: UserField::AlternativeUserId("desk".into()),
                    old: None,
                    new: Some("FX".into()),
                },
            ],
        };
        assert_eq!(
            line_of(&change),
            "update    line 4: ann@acme.com (00u1): lastName \"Lee\" -> \"Lee\\x1b[2J\"; \
             alternativeUserIds.desk (none) -> \"FX\""
        );
    }
}
