//! Resuming the apply of a plan from the report of an earlier run: the
//! changes that run applied, by the plan's id and the change's number. A
//! report holds the runs of any number of plans (a nightly job may keep
//! one); only the changes of the plan being applied count, so a plan made
//! again (a new id) starts afresh, and its changes already made are found
//! made by the apply itself.

use serde::Deserialize;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::commands::bulk::report::Resume;

/// What the header line's `report` says.
pub(crate) const REPORT_KIND: &str = "fbn-identity users sync";

/// One outcome line read back, as far as resuming needs it.
#[derive(Deserialize)]
struct Recorded {
    plan: String,
    #[serde(default)]
    number: Option<u64>,
    outcome: String,
}

/// The changes earlier runs applied: (hash of the plan's id, number).
#[derive(Debug, Default)]
pub(crate) struct Resumed {
    done: Vec<(u64, u64)>,
}

impl Resumed {
    /// The numbers of the changes of the plan `id` that earlier runs
    /// applied, sorted.
    pub(crate) fn of_plan(self, id: &str) -> Vec<u64> {
        let plan = plan_hash(id);
        let mut numbers: Vec<u64> = self
            .done
            .into_iter()
            .filter(|(of, _)| *of == plan)
            .map(|(_, number)| number)
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }
}

impl Resume for Resumed {
    fn take(&mut self, line: &[u8]) {
        // A line cut short by a crash is not a change applied: the apply
        // finds it made, or makes it.
        let Ok(recorded) = serde_json::from_slice::<Recorded>(line) else {
            return;
        };
        if let (Some(number), "applied") = (recorded.number, recorded.outcome.as_str()) {
            self.done.push((plan_hash(&recorded.plan), number));
        }
    }
}

/// A plan id's hash: the same within a run, which is all it is used for.
fn plan_hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_changes_applied_in_this_plan_are_done() {
        let report = "\
{\"plan\":\"p1\",\"number\":1,\"action\":\"create\",\"outcome\":\"applied\"}
{\"plan\":\"p1\",\"number\":2,\"action\":\"update\",\"outcome\":\"failed\"}
{\"plan\":\"p2\",\"number\":3,\"action\":\"update\",\"outcome\":\"applied\"}
{\"plan\":\"p1\",\"action\":\"conflict\",\"outcome\":\"notAttempted\"}
{\"plan\":\"p1\",\"number\":4,\"act";
        let resumed: Resumed =
            crate::commands::bulk::report::read_outcomes(&mut report.as_bytes()).unwrap();
        assert_eq!(resumed.of_plan("p1"), [1]);
    }
}
