//! Resuming an import from the report of an earlier run: the lines it
//! finished (created, or skipped because the user exists), 8 bytes a
//! line, its number and a hash of its login. A line of the input whose
//! number is there with the same login is not sent again; a line whose
//! login changed (the input was edited) is sent, and the service's answer
//! settles it.

use serde::Deserialize;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::commands::bulk::report::Resume;

/// What the header line's `report` says.
pub(crate) const REPORT_KIND: &str = "fbn-identity users import";

/// One outcome line read back, as far as resuming needs it.
#[derive(Deserialize)]
struct Recorded {
    line: u64,
    #[serde(default)]
    login: Option<String>,
    outcome: String,
    #[serde(default)]
    reason: Option<String>,
}

impl Recorded {
    /// Whether the line needs no more work: created, or skipped because
    /// the user exists (a row skipped for its status is looked at again,
    /// in case this run is asked to recreate it).
    fn is_finished(&self) -> bool {
        match self.outcome.as_str() {
            "created" => true,
            "skipped" => self
                .reason
                .as_deref()
                .is_none_or(|reason| reason == "exists"),
            _ => false,
        }
    }
}

/// The lines an earlier run finished, by line number and login.
#[derive(Debug, Default)]
pub(crate) struct Resumed {
    /// Sorted by line number: (line, hash of the login).
    done: Vec<(u32, u32)>,
}

impl Resumed {
    /// How many lines an earlier run finished.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether an earlier run finished no line.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Whether line `line`, asking for `login`, was finished by an earlier
    /// run.
    pub(crate) fn is_done(&self, line: usize, login: &str) -> bool {
        let Ok(line) = u32::try_from(line) else {
            return false;
        };
        match self.done.binary_search_by_key(&line, |(done, _)| *done) {
            Ok(at) => self.done[at].1 == login_hash(login),
            Err(_) => false,
        }
    }
}

impl Resume for Resumed {
    fn take(&mut self, line: &[u8]) {
        // A line cut short by a crash, or not ours, is not a finished
        // line: the import sends it again and the service settles it.
        let Ok(recorded) = serde_json::from_slice::<Recorded>(line) else {
            return;
        };
        if let (true, Ok(line)) = (recorded.is_finished(), u32::try_from(recorded.line)) {
            self.done
                .push((line, login_hash(recorded.login.as_deref().unwrap_or(""))));
        }
    }

    fn finish(&mut self) {
        // The last record of a line wins (a line failed, then created).
        let done = &mut self.done;
        done.reverse();
        done.sort_by_key(|(line, _)| *line);
        done.dedup_by_key(|(line, _)| *line);
        done.shrink_to_fit();
    }
}

/// A login's hash: the same within a run, which is all it is used for.
fn login_hash(login: &str) -> u32 {
    let mut hasher = DefaultHasher::new();
    login.hash(&mut hasher);
    let hash = hasher.finish();
    (hash ^ (hash >> 32)) as u32
}
