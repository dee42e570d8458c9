//! [`Plan`]: what a sync would change, as a value: its [`Change`]s (kept
//! on disk, read one at a time), their [`Summary`], and the settings it was
//! made with ([`PlanInfo`]). It is written and read back as one JSON
//! document ([`Plan::write_json`], [`Plan::read_json`]), the saved plan an
//! administrator reviews and applies later.
//!
//! The saved plan's form is shown on [`Plan`].

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Write};

use identity_models::{CreateUserRequest, UserType};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::compare::{FieldChange, Snapshot};
use super::spool::{Spool, SpoolReader, SpoolWriter};
use super::{Key, SyncError};

/// The `format` of a saved plan.
pub const PLAN_FORMAT: &str = "fbn-identity-sync-plan/1";

/// One entry of a plan: a change to make (`create`, `update`, `delete`,
/// numbered from 1 in the order of the plan), or what is not changed and
/// why (`conflict`, `invalid`, `keep`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Change {
    /// A user of the directory who is not in the domain.
    Create {
        /// The change's number in the plan.
        number: u64,
        /// The directory's line.
        line: u64,
        /// The login.
        login: String,
        /// The user to create.
        user: CreateUserRequest,
    },
    /// A user whose fields differ.
    Update {
        /// The change's number in the plan.
        number: u64,
        /// The directory's line.
        line: u64,
        /// The user's id.
        id: String,
        /// The user's login in the domain.
        login: String,
        /// Each field that differs: old (the domain's, when planned) and new.
        changes: Vec<FieldChange>,
    },
    /// A user of the domain not in the directory, pruned (deleted without
    /// purge: deactivated and kept for audit).
    Delete {
        /// The change's number in the plan.
        number: u64,
        /// The user's id.
        id: String,
        /// The user's login.
        login: String,
        /// The user as planned: the apply skips a user who changed since.
        before: Snapshot,
    },
    /// What the directory asks and no update can do (see
    /// [`ConflictReason`]): reported, never attempted.
    Conflict {
        /// The directory's line, when the conflict is one line's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        /// The user of the domain concerned, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The login concerned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        login: Option<String>,
        /// Why.
        reason: ConflictReason,
        /// Why, in words.
        message: String,
    },
    /// A line of the directory that is not a valid user.
    Invalid {
        /// The line.
        line: u64,
        /// Its login, when it could be read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        login: Option<String>,
        /// Why.
        message: String,
        /// The messages of each field at fault.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        field_errors: BTreeMap<String, Vec<String>>,
    },
    /// A user of the domain not in the directory, left as they are.
    Keep {
        /// The user's id.
        id: String,
        /// The user's login.
        login: String,
        /// Why they are not pruned.
        reason: KeepReason,
    },
}

impl Change {
    /// The change's number, for the three that change the domain.
    pub fn number(&self) -> Option<u64> {
        match self {
            Change::Create { number, .. }
            | Change::Update { number, .. }
            | Change::Delete { number, .. } => Some(*number),
            _ => None,
        }
    }

    /// The login the entry is about, when it has one.
    pub fn login(&self) -> Option<&str> {
        match self {
            Change::Create { login, .. }
            | Change::Update { login, .. }
            | Change::Delete { login, .. }
            | Change::Keep { login, .. } => Some(login),
            Change::Conflict { login, .. } | Change::Invalid { login, .. } => login.as_deref(),
        }
    }

    /// The user's id in the domain, when the entry has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Change::Update { id, .. } | Change::Delete { id, .. } | Change::Keep { id, .. } => {
                Some(id)
            }
            Change::Conflict { id, .. } => id.as_deref(),
            Change::Create { .. } | Change::Invalid { .. } => None,
        }
    }

    /// The directory's line, when the entry has one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Change::Create { line, .. }
            | Change::Update { line, .. }
            | Change::Invalid { line, .. } => Some(*line),
            Change::Conflict { line, .. } => *line,
            Change::Delete { .. } | Change::Keep { .. } => None,
        }
    }

    /// The entry's action, as the JSON writes it.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Create { .. } => "create",
            Change::Update { .. } => "update",
            Change::Delete { .. } => "delete",
            Change::Conflict { .. } => "conflict",
            Change::Invalid { .. } => "invalid",
            Change::Keep { .. } => "keep",
        }
    }
}

/// Why the directory's wish is a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictReason {
    /// The user's type differs: UpdateUser cannot change it.
    Type,
    /// The user's roles differ: UpdateUser deprecates roles (the Roles API
    /// manages them).
    Roles,
    /// The user left (`DEPROVISIONED`): UpdateUser refuses them, and a
    /// create would find the login taken.
    Deprovisioned,
    /// Several lines of the directory have the same key, or the same login.
    DuplicateInFile,
    /// Several users of the domain carry the same key.
    DuplicateInDomain,
    /// The login belongs to another user of the domain (one the key does
    /// not match).
    LoginTaken,
}

/// Why a user of the domain not in the directory is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeepReason {
    /// No prune was asked for.
    NotInFile,
    /// The account the sync runs as: never pruned.
    Caller,
    /// A type of user the prune was not asked to remove (by default,
    /// service users).
    TypeNotPruned,
}

/// How many users each part of a plan holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Summary {
    /// Users to create.
    pub create: u64,
    /// Users to update.
    pub update: u64,
    /// Users to delete (prune).
    pub delete: u64,
    /// Conflicts.
    pub conflict: u64,
    /// Invalid lines.
    pub invalid: u64,
    /// Invalid lines whose key could not be read (they stop a prune).
    pub unreadable: u64,
    /// Users of the domain not in the directory, kept.
    pub keep: u64,
    /// Users in the directory and the domain alike: left alone.
    pub unchanged: u64,
    /// Users of the domain that left (`DEPROVISIONED`) and are not in the
    /// directory: left alone.
    pub deprovisioned: u64,
    /// Users of the domain that do not carry the key: not the directory's.
    pub unmanaged: u64,
    /// Users whose roles the directory names but the domain's side did not
    /// show (ListUsers does not return roles): not compared.
    pub roles_not_compared: u64,
    /// Users of the domain not deleted, counted for the prune's guard.
    pub domain_users: u64,
}

impl Summary {
    /// The changes to make: creates, updates and deletes.
    pub fn changes(&self) -> u64 {
        self.create + self.update + self.delete
    }

    /// Whether the plan changes nothing and reports nothing that needs a
    /// look: the domain is in line with the directory.
    pub fn is_empty(&self) -> bool {
        self.changes() + self.conflict + self.invalid == 0
    }

    /// Counts one more entry.
    pub(crate) fn count(&mut self, change: &Change) {
        match change {
            Change::Create { .. } => self.create += 1,
            Change::Update { .. } => self.update += 1,
            Change::Delete { .. } => self.delete += 1,
            Change::Conflict { .. } => self.conflict += 1,
            Change::Invalid { .. } => self.invalid += 1,
            Change::Keep { .. } => self.keep += 1,
        }
    }
}

/// What a plan was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanInfo {
    /// [`PLAN_FORMAT`].
    pub format: String,
    /// A new id for each plan: a report of its apply names it.
    pub id: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The service it was made against (a plan is applied only there).
    pub base_url: String,
    /// What matched the users.
    pub key: Key,
    /// The prune asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneInfo>,
    /// The directory it was made from (a file's name), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// The prune a plan was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneInfo {
    /// The types of user it removes.
    pub types: Vec<UserType>,
    /// The account it never removes.
    pub caller: String,
}

/// The guard against a mass deletion: a plan may delete at most
/// `max_deletes` users and at most `max_deletes_percent` % of the domain's
/// users (the lower bound wins), and none while a line's key could not be
/// read (who is in the directory is then not known).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guard {
    /// The most users deleted.
    pub max_deletes: u64,
    /// The most users deleted, in % of the users of the domain.
    pub max_deletes_percent: f64,
}

impl Default for Guard {
    /// 10 users, and 5 % of the domain.
    fn default() -> Self {
        Self {
            max_deletes: 10,
            max_deletes_percent: 5.0,
        }
    }
}

impl Guard {
    /// How many users a plan over a domain of `users` may delete.
    pub fn allowed(&self, users: u64) -> u64 {
        let share = (self.max_deletes_percent.max(0.0) / 100.0 * users as f64).floor();
        // A share larger than u64 is capped by max_deletes anyway.
        let share = if share >= u64::MAX as f64 {
            u64::MAX
        } else {
            share as u64
        };
        self.max_deletes.min(share)
    }

    /// Why `summary`'s deletes are refused, if they are.
    pub fn check(&self, summary: &Summary) -> Result<(), String> {
        if summary.delete == 0 {
            return Ok(());
        }
        if summary.unreadable > 0 {
            return Err(format!(
                "{} line{} of the directory could not be read as far as their key: who is in it \
                 is not known, so nobody is pruned",
                summary.unreadable,
                if summary.unreadable == 1 { "" } else { "s" }
            ));
        }
        let allowed = self.allowed(summary.domain_users);
        if summary.delete > allowed {
            return Err(format!(
                "the plan deletes {} of the domain's {} users, more than the {allowed} allowed \
                 (at most {} users and {}% of the domain: --max-deletes, --max-deletes-percent)",
                summary.delete, summary.domain_users, self.max_deletes, self.max_deletes_percent
            ));
        }
        Ok(())
    }
}

/// What a sync would change. See the [module](super) and [`Change`].
///
/// The saved plan's form, one change a line so that `grep` and `diff` read
/// it too (any JSON with the same content reads back):
///
/// ```text
/// {"plan":{"format":"fbn-identity-sync-plan/1","id":"..","created":"..","baseUrl":"..",..},
/// "changes":[
/// {"action":"create","number":1,"line":7,"login":"bo@acme.com","user":{..}},
/// {"action":"update","number":2,"line":9,"id":"00u..","login":"ann@acme.com","changes":[{"field":"lastName","old":"Lee","new":"Lee-Smith"}]},
/// {"action":"delete","number":3,"id":"00u..","login":"cy@acme.com","before":{..}},
/// {"action":"conflict","line":12,"id":"00u..","login":"dee@acme.com","reason":"type","message":".."},
/// {"action":"keep","id":"00u..","login":"ed@acme.com","reason":"notInFile"}
/// ],
/// "summary":{"create":1,"update":1,"delete":1,..}}
/// ```
#[derive(Clone, Debug)]
pub struct Plan {
    pub(crate) info: PlanInfo,
    pub(crate) summary: Summary,
    pub(crate) changes: Spool,
}

impl Plan {
    /// What the plan was made with.
    pub fn info(&self) -> &PlanInfo {
        &self.info
    }

    /// How many users each part holds.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Its entries in order, read from disk one at a time.
    pub fn changes(&self) -> Changes {
        Changes {
            reader: self.changes.read(),
        }
    }

    /// Writes the plan as its JSON document (see [`Plan`]).
    pub fn write_json(&self, mut out: impl Write) -> Result<(), SyncError> {
        out.write_all(b"{\"plan\":")?;
        serde_json::to_writer(&mut out, &self.info).map_err(io::Error::from)?;
        out.write_all(b",\n\"changes\":[")?;
        let mut first = true;
        for change in self.changes() {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut out, &change?).map_err(io::Error::from)?;
        }
        out.write_all(if first {
            b"],\n\"summary\":"
        } else {
            b"\n],\n\"summary\":"
        })?;
        serde_json::to_writer(&mut out, &self.summary).map_err(io::Error::from)?;
        out.write_all(b"}\n")?;
        out.flush()?;
        Ok(())
    }

    /// Reads a plan that [`write_json`](Self::write_json) wrote, its
    /// changes as they come (a plan of any size), into a plan of its own.
    ///
    /// The counts of entries are those of the entries read, not what the
    /// document says; the others (the domain's size, the users left alone)
    /// are the document's.
    pub fn read_json(input: impl BufRead) -> Result<Plan, SyncError> {
        let mut deserializer = serde_json::Deserializer::from_reader(input);
        let plan = deserializer.deserialize_map(PlanVisitor).map_err(|error| {
            match error.io_error_kind() {
                Some(_) => SyncError::Disk(io::Error::from(error)),
                None => SyncError::NotAPlan(error.to_string()),
            }
        })?;
        deserializer
            .end()
            .map_err(|error| SyncError::NotAPlan(error.to_string()))?;
        Ok(plan)
    }
}

/// The entries of a [`Plan`], read from disk one at a time.
pub struct Changes {
    reader: SpoolReader<Change>,
}

impl Iterator for Changes {
    type Item = Result<Change, SyncError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader
            .next()
            .map(|change| change.map_err(SyncError::Disk))
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes").finish_non_exhaustive()
    }
}

/// Reads the document of a saved plan.
struct PlanVisitor;

impl<'de> Visitor<'de> for PlanVisitor {
    type Value = Plan;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a saved plan of `fbn-identity users sync`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Plan, A::Error> {
        let mut info: Option<PlanInfo> = None;
        let mut read: Option<(Spool, Summary)> = None;
        let mut said = Summary::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "plan" => {
                    let plan: PlanInfo = map.next_value()?;
                    if plan.format != PLAN_FORMAT {
                        return Err(serde::de::Error::custom(format!(
                            "a plan of format {:?}, not {PLAN_FORMAT:?}",
                            plan.format
                        )));
                    }
                    info = Some(plan);
                }
                "changes" => read = Some(map.next_value_seed(ChangesSeed)?),
                "summary" => said = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let info = info.ok_or_else(|| serde::de::Error::missing_field("plan"))?;
        let (changes, counted) = read.ok_or_else(|| serde::de::Error::missing_field("changes"))?;
        // The entries as counted; what no entry shows, as the plan said.
        let summary = Summary {
            create: counted.create,
            update: counted.update,
            delete: counted.delete,
            conflict: counted.conflict,
            invalid: counted.invalid,
            keep: counted.keep,
            ..said
        };
        Ok(Plan {
            info,
            summary,
            changes,
        })
    }
}

/// Reads the `changes` array into a spool, one change at a time.
struct ChangesSeed;

impl<'de> DeserializeSeed<'de> for ChangesSeed {
    type Value = (Spool, Summary);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChangesSeed {
    type Value = (Spool, Summary);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the list of a plan's changes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let disk = |error: io::Error| {
            serde::de::Error::custom(format!("writing the plan to a temporary file: {error}"))
        };
        let mut spool = SpoolWriter::new().map_err(disk)?;
        let mut summary = Summary::default();
        while let Some(change) = seq.next_element::<Change>()? {
            summary.count(&change);
            spool.push(&change).map_err(disk)?;
        }
        Ok((spool.finish().map_err(disk)?, summary))
    }
}
