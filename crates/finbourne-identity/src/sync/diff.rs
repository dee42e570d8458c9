//! The planner: the directory against the domain, both streamed, sorted by
//! key on disk ([`Sorter`]), then merged, one key at a time, into a plan's
//! entries ([`Spool`]). Memory holds the sorters' buffers and one key's
//! users, whatever the sizes of the directory and the domain.
//!
//! With an alternative id as the key, the logins are joined first (the
//! directory sorted by login against the domain sorted by login), so that
//! each line knows which user of the domain holds its login: a create or a
//! change of login that the service would refuse (the login is taken,
//! perhaps by a user who left) is a conflict in the plan, not a failure of
//! the apply.

use std::collections::BTreeMap;
use std::io;

use futures_util::{Stream, StreamExt};
use identity_models::{UserResponse, UserStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::compare::{Snapshot, changes, roles_differ};
use super::key::login_key;
use super::plan::{
    Change, ConflictReason, KeepReason, PLAN_FORMAT, Plan, PlanInfo, PruneInfo, Summary,
};
use super::sorter::{Sorted, Sorter};
use super::spool::SpoolWriter;
use super::{BoxError, Desired, DesiredUser, InvalidLine, Key, SyncError, SyncOptions};

/// A line of the directory, as sorted.
#[derive(Debug, Serialize, Deserialize)]
struct FileLine {
    line: u64,
    entry: Entry,
    /// With an alternative id as the key: the user of the domain holding
    /// this line's login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<Holder>,
    /// With an alternative id as the key: another line has the same login.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    login_shared: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Entry {
    User(DesiredUser),
    Invalid(InvalidLine),
}

/// A user of the domain, as far as the join of logins needs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Holder {
    id: String,
    login: String,
    deprovisioned: bool,
}

/// Plans `desired` against `domain`.
pub(crate) async fn diff<D, E, U>(
    desired: D,
    domain: U,
    options: &SyncOptions,
    base_url: String,
) -> Result<Plan, SyncError>
where
    D: Stream<Item = Result<Desired, E>>,
    E: Into<BoxError>,
    U: Stream<Item = Result<UserResponse, crate::Error>>,
{
    let key = options.key.clone();
    let by_login = matches!(key, Key::AlternativeUserId(_));
    let mut summary = Summary::default();

    // The directory: by key (and by login first, with an alternative id).
    let mut file_by_key = Sorter::<FileLine>::new();
    let mut file_by_login = Sorter::<FileLine>::new();
    // The domain: by key (and its logins, with an alternative id).
    let mut domain_by_key = Sorter::<UserResponse>::new();
    let mut logins = Sorter::<Holder>::new();

    let read_file = async {
        let mut desired = std::pin::pin!(desired);
        let mut unreadable = 0_u64;
        while let Some(item) = desired.next().await {
            let (line, entry) = match item.map_err(|error| SyncError::Input(error.into()))? {
                Desired::User { line, user } => (line, checked(&key, line, *user)),
                Desired::Invalid(invalid) => (invalid.line, Entry::Invalid(invalid)),
            };
            let sort_key = match &entry {
                Entry::User(user) => key.of_desired(user).unwrap_or_default(),
                Entry::Invalid(invalid) => invalid_key(&key, invalid),
            };
            unreadable += u64::from(sort_key.is_empty());
            let record = FileLine {
                line,
                entry,
                holder: None,
                login_shared: false,
            };
            match &record.entry {
                Entry::User(user) if by_login => {
                    file_by_login
                        .push_async(login_key(&user.login), &record)
                        .await?;
                }
                _ => file_by_key.push_async(sort_key, &record).await?,
            }
        }
        Ok::<u64, SyncError>(unreadable)
    };
    let read_domain = async {
        let mut domain = std::pin::pin!(domain);
        let (mut live, mut unmanaged) = (0_u64, 0_u64);
        while let Some(user) = domain.next().await {
            let user = user.map_err(SyncError::Domain)?;
            let left = user.status == UserStatus::Deprovisioned;
            live += u64::from(!left);
            if by_login {
                let holder = Holder {
                    id: user.id.clone(),
                    login: user.login.clone(),
                    deprovisioned: left,
                };
                logins.push_async(login_key(&user.login), &holder).await?;
            }
            match key.of_user(&user) {
                Some(user_key) => domain_by_key.push_async(user_key, &user).await?,
                None => unmanaged += u64::from(!left),
            }
        }
        Ok::<(u64, u64), SyncError>((live, unmanaged))
    };
    // The first side to fail ends the other: a bad file is not worth
    // listing the whole domain for, nor a refused listing reading the file.
    let (unreadable, domain_counts) =
        futures_util::future::try_join(read_file, read_domain).await?;
    summary.unreadable = unreadable;
    (summary.domain_users, summary.unmanaged) = domain_counts;

    let info = PlanInfo {
        format: PLAN_FORMAT.to_owned(),
        id: new_plan_id(),
        created: OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default(),
        base_url,
        key: key.clone(),
        prune: options.prune.as_ref().map(|prune| PruneInfo {
            types: prune.types.clone(),
            caller: prune.caller.clone().unwrap_or_default(),
        }),
        input: options.input.clone(),
    };
    let caller = options
        .prune
        .as_ref()
        .and_then(|prune| prune.caller.as_deref())
        .map(login_key);
    let merge = Merge {
        key,
        prune_types: options.prune.as_ref().map(|prune| prune.types.clone()),
        caller,
        summary,
        next_number: 1,
        out: SpoolWriter::new()?,
    };
    // The rest is local work on files: off the async runtime's threads.
    tokio::task::spawn_blocking(move || {
        if by_login {
            join_logins(
                &merge.key,
                file_by_login.finish()?,
                logins.finish()?,
                &mut file_by_key,
            )?;
        }
        merge.run(file_by_key.finish()?, domain_by_key.finish()?, info)
    })
    .await
    .map_err(|error| SyncError::Disk(io::Error::other(error)))?
}

/// A user of the directory, checked: invalid when the contract's rules or
/// the key say so.
fn checked(key: &Key, line: u64, user: DesiredUser) -> Entry {
    let invalid = |message: String, field_errors| {
        Entry::Invalid(InvalidLine {
            line,
            login: Some(user.login.clone()),
            alternative_user_ids: user.alternative_user_ids.clone(),
            message,
            field_errors,
        })
    };
    if let Err(errors) = user.validate() {
        return invalid("not valid".to_owned(), errors.into_map());
    }
    if key.of_desired(&user).is_none() {
        return invalid(
            format!("the line has no value for the key ({key})"),
            BTreeMap::new(),
        );
    }
    Entry::User(user)
}

/// The key of an invalid line, as far as it can be read ("" when it
/// cannot).
fn invalid_key(key: &Key, invalid: &InvalidLine) -> String {
    match key {
        Key::Login => invalid.login.as_deref().map(login_key).unwrap_or_default(),
        Key::AlternativeUserId(name) => invalid
            .alternative_user_ids
            .get(name)
            .cloned()
            .flatten()
            .unwrap_or_default(),
    }
}

/// Joins the directory's lines (valid users, by login) with the holders
/// of their logins in the domain, and sorts them by `key`.
fn join_logins(
    key: &Key,
    mut lines: Sorted<FileLine>,
    mut holders: Sorted<Holder>,
    by_key: &mut Sorter<FileLine>,
) -> Result<(), SyncError> {
    while let Some(login) = lines.peek_key().map(str::to_owned) {
        let mut group = Vec::new();
        while lines.peek_key() == Some(login.as_str()) {
            if let Some(next) = lines.next() {
                group.push(next?.1);
            }
        }
        let mut holder = None;
        while let Some(at) = holders.peek_key() {
            if at > login.as_str() {
                break;
            }
            let Some(next) = holders.next() else { break };
            let (at, found) = next?;
            if at == login {
                holder = Some(found);
            }
        }
        let shared = group.len() > 1;
        for mut record in group {
            record.holder = holder.clone();
            record.login_shared = shared;
            let sort_key = match &record.entry {
                Entry::User(user) => key.of_desired(user).unwrap_or_default(),
                Entry::Invalid(invalid) => invalid_key(key, invalid),
            };
            by_key.push(sort_key, &record)?;
        }
    }
    Ok(())
}

/// The most lines of one key a conflict names.
const NAMED_DUPLICATES: usize = 10;

/// The merge of the directory and the domain, both by key, into entries.
struct Merge {
    key: Key,
    /// The types a prune removes (`None`: no prune).
    prune_types: Option<Vec<identity_models::UserType>>,
    /// The caller's login, lower-cased.
    caller: Option<String>,
    summary: Summary,
    next_number: u64,
    out: SpoolWriter,
}

impl Merge {
    fn run(
        mut self,
        mut file: Sorted<FileLine>,
        mut domain: Sorted<UserResponse>,
        info: PlanInfo,
    ) -> Result<Plan, SyncError> {
        loop {
            let next = match (file.peek_key(), domain.peek_key()) {
                (None, None) => break,
                (Some(a), Some(b)) => a.min(b).to_owned(),
                (Some(a), None) => a.to_owned(),
                (None, Some(b)) => b.to_owned(),
            };
            // The lines of one key: a few kept, to be named in the
            // conflict; past them (a key the whole file shares, or none
            // read), each said as it is read, so memory stays flat.
            let mut lines = Vec::new();
            let mut more = false;
            while file.peek_key() == Some(next.as_str()) {
                if let Some(record) = file.next() {
                    let line = record?.1;
                    if lines.len() < NAMED_DUPLICATES {
                        lines.push(line);
                    } else {
                        more = true;
                        let message = self.duplicates(&lines, true);
                        self.not_synced(line, &message)?;
                    }
                }
            }
            if lines.is_empty() {
                // Users of the domain only, however many share the key:
                // each as it is read.
                while domain.peek_key() == Some(next.as_str()) {
                    if let Some(user) = domain.next() {
                        self.only_in_domain(user?.1)?;
                    }
                }
                continue;
            }
            let mut users = Vec::new();
            while domain.peek_key() == Some(next.as_str()) {
                if let Some(user) = domain.next() {
                    users.push(user?.1);
                }
            }
            self.group(&next, lines, more, users)?;
        }
        Ok(Plan {
            info,
            summary: self.summary,
            changes: self.out.finish()?,
        })
    }

    /// A user of the domain whose key no line has.
    fn only_in_domain(&mut self, user: UserResponse) -> io::Result<()> {
        if user.status == UserStatus::Deprovisioned {
            self.summary.deprovisioned += 1;
            Ok(())
        } else {
            self.not_in_file(user)
        }
    }

    /// Why lines of one key are not synced: the numbers of `lines`, and
    /// whether `more` lines have that key.
    fn duplicates(&self, lines: &[FileLine], more: bool) -> String {
        let numbers: Vec<String> = lines.iter().map(|line| line.line.to_string()).collect();
        let more = if more { " and more" } else { "" };
        format!(
            "lines {}{more} have the same {}: none of them is synced",
            numbers.join(", "),
            self.key
        )
    }

    /// A line of a key shared with others (or none): invalid, or a
    /// conflict saying `message`.
    fn not_synced(&mut self, line: FileLine, message: &str) -> io::Result<()> {
        match line.entry {
            Entry::Invalid(invalid) => self.invalid(invalid),
            Entry::User(user) => self.emit(Change::Conflict {
                line: Some(line.line),
                id: None,
                login: Some(user.login),
                reason: ConflictReason::DuplicateInFile,
                message: message.to_owned(),
            }),
        }
    }

    fn emit(&mut self, change: Change) -> io::Result<()> {
        self.summary.count(&change);
        self.out.push(&change)
    }

    fn number(&mut self) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        number
    }

    /// The entries of one key: its lines of the directory, its users of
    /// the domain.
    fn group(
        &mut self,
        key: &str,
        lines: Vec<FileLine>,
        more: bool,
        users: Vec<UserResponse>,
    ) -> io::Result<()> {
        let (left, live): (Vec<UserResponse>, Vec<UserResponse>) = users
            .into_iter()
            .partition(|user| user.status == UserStatus::Deprovisioned);
        if key.is_empty() || lines.len() > 1 || more {
            let message = self.duplicates(&lines, more);
            for line in lines {
                self.not_synced(line, &message)?;
            }
            return Ok(());
        }
        let Some(line) = lines.into_iter().next() else {
            return Ok(());
        };
        let user = match line.entry {
            Entry::Invalid(invalid) => return self.invalid(invalid),
            Entry::User(user) => user,
        };
        let conflict = |reason, id: Option<&str>, message: String| Change::Conflict {
            line: Some(line.line),
            id: id.map(str::to_owned),
            login: Some(user.login.clone()),
            reason,
            message,
        };
        if line.login_shared {
            return self.emit(conflict(
                ConflictReason::DuplicateInFile,
                None,
                format!(
                    "another line has the login {}: none of them is synced",
                    user.login
                ),
            ));
        }
        match live.as_slice() {
            [] => {
                if let Some(gone) = left.first() {
                    return self.emit(conflict(
                        ConflictReason::Deprovisioned,
                        Some(&gone.id),
                        format!(
                            "the user {} left (DEPROVISIONED): not changed, and not created \
                             again; bring them back with `fbn-identity users activate {}`",
                            gone.id, gone.id
                        ),
                    ));
                }
                if let Some(holder) = &line.holder {
                    let (reason, state) = if holder.deprovisioned {
                        (ConflictReason::Deprovisioned, " who left (DEPROVISIONED)")
                    } else {
                        (ConflictReason::LoginTaken, "")
                    };
                    return self.emit(conflict(
                        reason,
                        Some(&holder.id),
                        format!(
                            "the login {} belongs to the user {}{state}, who does not carry this {}: \
                             not created",
                            holder.login, holder.id, self.key
                        ),
                    ));
                }
                let number = self.number();
                self.emit(Change::Create {
                    number,
                    line: line.line,
                    login: user.login.clone(),
                    user: user.to_create_request(),
                })
            }
            [found] => {
                if found.user_type != user.user_type {
                    return self.emit(conflict(
                        ConflictReason::Type,
                        Some(&found.id),
                        format!(
                            "the user is {} in the domain and {} in the directory: an update \
                             cannot change a user's type",
                            found.user_type, user.user_type
                        ),
                    ));
                }
                if let Some(holder) = line.holder.as_ref().filter(|holder| holder.id != found.id) {
                    return self.emit(conflict(
                        ConflictReason::LoginTaken,
                        Some(&found.id),
                        format!(
                            "the new login {} belongs to another user, {}: not changed",
                            user.login, holder.id
                        ),
                    ));
                }
                match roles_differ(found, &user) {
                    Some(true) => {
                        return self.emit(conflict(
                            ConflictReason::Roles,
                            Some(&found.id),
                            "the roles differ: an update does not change roles (UpdateUser \
                             deprecates them; use the Roles API)"
                                .to_owned(),
                        ));
                    }
                    None if user.roles.is_some() => self.summary.roles_not_compared += 1,
                    _ => {}
                }
                let differences = changes(found, &user);
                if differences.is_empty() {
                    self.summary.unchanged += 1;
                    return Ok(());
                }
                let number = self.number();
                self.emit(Change::Update {
                    number,
                    line: line.line,
                    id: found.id.clone(),
                    login: found.login.clone(),
                    changes: differences,
                })
            }
            several => {
                let ids: Vec<&str> = several.iter().map(|user| user.id.as_str()).collect();
                self.emit(conflict(
                    ConflictReason::DuplicateInDomain,
                    None,
                    format!(
                        "the users {} of the domain have the same {}: none of them is synced",
                        ids.join(", "),
                        self.key
                    ),
                ))
            }
        }
    }

    fn invalid(&mut self, invalid: InvalidLine) -> io::Result<()> {
        self.emit(Change::Invalid {
            line: invalid.line,
            login: invalid.login,
            message: invalid.message,
            field_errors: invalid.field_errors,
        })
    }

    /// A user of the domain that no line names: pruned, or kept and why.
    fn not_in_file(&mut self, user: UserResponse) -> io::Result<()> {
        let reason = match &self.prune_types {
            None => Some(KeepReason::NotInFile),
            Some(_) if self.caller.as_deref() == Some(login_key(&user.login).as_str()) => {
                Some(KeepReason::Caller)
            }
            Some(types) if !types.contains(&user.user_type) => Some(KeepReason::TypeNotPruned),
            Some(_) => None,
        };
        match reason {
            Some(reason) => self.emit(Change::Keep {
                id: user.id,
                login: user.login,
                reason,
            }),
            None => {
                let number = self.number();
                let before = Snapshot::of(&user);
                self.emit(Change::Delete {
                    number,
                    id: user.id,
                    login: user.login,
                    before,
                })
            }
        }
    }
}

/// A new plan's id: the time and 64 random bits (from the standard
/// library's randomly seeded hasher, which needs no crate).
fn new_plan_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(OffsetDateTime::now_utc().unix_timestamp_nanos() as u128);
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:016x}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        hasher.finish()
    )
}
