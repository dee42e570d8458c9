//! The request log: what each API and token call looked like on the wire
//! (never its body), so tests can check what a client sent.
//!
//! An entry is written once a request has been through the bearer check
//! (a request refused there is logged with its 401, so that a test sees a
//! client's replay after one) and completed with its status when the
//! answer leaves; a call whose connection was dropped (a close fault, or the
//! client going away) keeps `status: None`.
//!
//! Nothing a caller sends can make it grow without bound: an entry holds at
//! most [`Limits::request_log_entry_bytes`](crate::Limits) of path, query
//! and headers (longer values are cut, and the entry is marked
//! `truncated`), and the log keeps the latest entries that fit both its
//! count and its byte bound.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::faults::Fault;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Headers whose values are masked in the log.
const MASKED_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// One request as the emulator received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path exactly as sent, percent-encoding kept.
    pub path: String,
    /// Query string exactly as sent, without the `?`.
    pub query: Option<String>,
    /// Headers by lower-case name (repeated headers joined with `", "`);
    /// `authorization`, `proxy-authorization` and `cookie` are masked
    /// (`"Bearer ***"`).
    pub headers: BTreeMap<String, String>,
    /// Contract operation name, `"Token"` for the token endpoint, `None` for
    /// a path that is neither.
    pub operation: Option<String>,
    /// Status answered, `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// The kind of the fault the request met, if any (`"status"`,
    /// `"closeAfterProcessing"`, ...: the `kind` of its JSON form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// When a fault replaced the answer of a call that was processed
    /// (`closeAfterProcessing`, `statusAfterProcessing`): the status the
    /// call itself answered, which tells whether its change was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_status: Option<u16>,
    /// Wall-clock arrival time, RFC 3339.
    pub time: String,
    /// Milliseconds from the emulator's start to the request's arrival, on
    /// tokio's clock (tests with paused time see paused time).
    pub elapsed_ms: f64,
    /// Whether the path, the query or headers were cut to the entry's bound
    /// ([`Limits::request_log_entry_bytes`](crate::Limits)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// For a CreateUser the emulator carried out, the login of the user it
    /// created, whatever became of the answer (a fault may have dropped it):
    /// counted per login, it shows a client that created a user twice, which
    /// the directory's unique logins alone would hide. (A valid login, so
    /// bounded by the contract's length.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_login: Option<String>,
}

/// What an entry holds beyond its text: its fields, the map's nodes (a
/// rough count, enough to bound the log's memory).
const ENTRY_OVERHEAD: usize = 256;
/// What each header costs beyond its name and value.
const HEADER_OVERHEAD: usize = 64;

/// What is left of an entry's bound as its text is taken in.
struct Budget {
    left: usize,
    cut: bool,
}

impl Budget {
    /// `text`, or as much of it as the budget holds (at a character
    /// boundary).
    fn take(&mut self, text: &str) -> String {
        if text.len() <= self.left {
            self.left -= text.len();
            return text.to_owned();
        }
        self.cut = true;
        let mut end = self.left;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.left = 0;
        text[..end].to_owned()
    }
}

impl RecordedRequest {
    /// The entry of a request that has just arrived (status not known
    /// yet), holding at most `max_bytes` of path, query and headers.
    pub(crate) fn arriving(
        parts: &http::request::Parts,
        operation: Option<&str>,
        elapsed_ms: f64,
        max_bytes: usize,
    ) -> Self {
        let mut budget = Budget {
            left: max_bytes,
            cut: false,
        };
        let path = budget.take(parts.uri.path());
        let query = parts.uri.query().map(|query| budget.take(query));
        let mut headers = BTreeMap::<String, String>::new();
        for (name, value) in &parts.headers {
            if budget.left <= name.as_str().len() {
                budget.cut = true;
                break;
            }
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = if MASKED_HEADERS.contains(&name.as_str()) {
                mask(&value)
            } else {
                value.into_owned()
            };
            let joined = headers.contains_key(name.as_str());
            let name = budget.take(name.as_str());
            let value = budget.take(&value);
            headers
                .entry(name)
                .and_modify(|all| {
                    all.push_str(", ");
                    all.push_str(&value);
                })
                .or_insert(value);
            if joined {
                budget.left = budget.left.saturating_sub(2);
            }
        }
        Self {
            method: parts.method.as_str().to_owned(),
            path,
            query,
            headers,
            operation: operation.map(str::to_owned),
            status: None,
            fault: None,
            processed_status: None,
            time: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            elapsed_ms,
            truncated: budget.cut,
            created_login: None,
        }
    }

    /// Roughly what the entry holds in memory, in bytes.
    fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len() + HEADER_OVERHEAD)
            .sum();
        ENTRY_OVERHEAD
            + self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + headers
            + self.operation.as_ref().map_or(0, String::len)
            + self.time.len()
    }
}

/// Keeps the authentication scheme of a credential header and hides the rest.
fn mask(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('=') => format!("{scheme} ***"),
        _ => "***".to_owned(),
    }
}

/// How many requests the log keeps by default
/// ([`Limits::request_log_entries`](crate::Limits)): the most recent ones,
/// so that an emulator left running does not grow without bound (an entry
/// is about a kilobyte).
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// The log itself: the latest entries in arrival order, as many as fit its
/// bounds, each with a sequence number so that completing one is safe even
/// after the log was cleared or the entry dropped.
#[derive(Debug)]
pub(crate) struct RequestLog {
    max_entries: usize,
    max_bytes: usize,
    entries: Mutex<LogEntries>,
}

#[derive(Debug, Default)]
struct LogEntries {
    next: u64,
    /// What the entries hold, together ([`RecordedRequest::size`]).
    bytes: usize,
    /// Consecutive sequence numbers, oldest first, with each entry's size.
    entries: VecDeque<(u64, usize, RecordedRequest)>,
}

/// Identifies one entry of the log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryId(u64);

impl RequestLog {
    /// An empty log keeping at most `max_entries` entries and `max_bytes`
    /// bytes of them (the latest).
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            max_bytes,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogEntries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an arriving request, dropping the oldest entries it has no
    /// room for.
    pub(crate) fn push(&self, request: RecordedRequest) -> EntryId {
        let size = request.size();
        let mut log = self.lock();
        let id = log.next;
        log.next += 1;
        while log.entries.len() >= self.max_entries
            || (!log.entries.is_empty() && log.bytes + size > self.max_bytes)
        {
            if let Some((_, dropped, _)) = log.entries.pop_front() {
                log.bytes -= dropped;
            }
        }
        log.bytes += size;
        log.entries.push_back((id, size, request));
        EntryId(id)
    }

    /// How many bytes the entries hold, together.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Sets the status answered to an entry (a no-op if the log was cleared).
    pub(crate) fn complete(&self, id: EntryId, status: u16) {
        self.update(id, |entry| entry.status = Some(status));
    }

    /// Notes on an entry the fault its request met and, when the call was
    /// processed first, the status it answered.
    pub(crate) fn faulted(&self, id: EntryId, fault: &Fault, processed_status: Option<u16>) {
        self.update(id, |entry| {
            entry.fault = Some(fault.kind().to_owned());
            entry.processed_status = processed_status;
        });
    }

    /// Notes on an entry the login of the user its CreateUser created.
    pub(crate) fn created(&self, id: EntryId, login: &str) {
        self.update(id, |entry| entry.created_login = Some(login.to_owned()));
    }

    fn update(&self, id: EntryId, change: impl FnOnce(&mut RecordedRequest)) {
        let mut log = self.lock();
        let Some(&(oldest, _, _)) = log.entries.front() else {
            return;
        };
        let index =
            id.0.checked_sub(oldest)
                .and_then(|index| usize::try_from(index).ok());
        if let Some((_, _, entry)) = index.and_then(|index| log.entries.get_mut(index)) {
            change(entry);
        }
    }

    /// Every entry, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock()
            .entries
            .iter()
            .map(|(_, _, entry)| entry.clone())
            .collect()
    }

    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        let mut log = self.lock();
        log.entries.clear();
        log.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry bound larger than any request of these tests.
    const ROOMY: usize = 64 * 1024;

    fn parts(request: http::Request<()>) -> http::request::Parts {
        request.into_parts().0
    }

    fn arriving(request: &http::request::Parts, elapsed_ms: f64) -> RecordedRequest {
        RecordedRequest::arriving(request, None, elapsed_ms, ROOMY)
    }

    #[test]
    fn records_raw_path_query_and_masks_credentials() {
        let request = http::Request::post("/identity/api/users/a%2Fb?includeRoles=True&x=%20")
            .header("Authorization", "Bearer secret-token")
            .header("Proxy-Authorization", "Basic dXNlcjpwYXNz")
            .header("Cookie", "session=abc")
            .header("X-Multi", "1")
            .header("X-Multi", "2")
            .body(())
            .unwrap();
        let entry = RecordedRequest::arriving(&parts(request), Some("GetUser"), 12.5, ROOMY);
        assert_eq!(entry.path, "/identity/api/users/a%2Fb");
        assert_eq!(entry.query.as_deref(), Some("includeRoles=True&x=%20"));
        assert_eq!(entry.headers["authorization"], "Bearer ***");
        assert_eq!(entry.headers["proxy-authorization"], "Basic ***");
        assert_eq!(entry.headers["cookie"], "***");
        assert_eq!(entry.headers["x-multi"], "1, 2");
        assert!(!entry.truncated);
        let text = serde_json::to_string(&entry).unwrap();
        assert!(!text.contains("secret-token") && !text.contains("dXNlcjpwYXNz"));
        assert!(text.contains("\"elapsedMs\":12.5"));
        assert!(!text.contains("truncated"), "only when it is: {text}");
        assert!(time::OffsetDateTime::parse(&entry.time, &Rfc3339).is_ok());
    }

    #[test]
    fn an_entry_holds_at_most_its_bound_and_says_it_was_cut() {
        let mut request =
            http::Request::get("/identity/api/users?q=".to_owned() + &"a".repeat(100))
                .header("X-Small", "kept");
        for n in 0..50 {
            request = request.header(format!("x-big-{n:02}"), "v".repeat(4_000));
        }
        let request = parts(request.body(()).unwrap());
        let entry = RecordedRequest::arriving(&request, None, 0.0, 2_048);
        let text: usize = entry.path.len()
            + entry.query.as_ref().map_or(0, String::len)
            + entry
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        assert!(text <= 2_048, "{text}");
        assert!(entry.truncated);
        assert_eq!(entry.path, "/identity/api/users");
        assert_eq!(
            entry.headers.get("x-small").map(String::as_str),
            Some("kept")
        );
        // Cut at a character boundary, never inside one.
        let mut budget = Budget {
            left: 2,
            cut: false,
        };
        assert_eq!(budget.take("héllo"), "h");
        assert!(budget.cut);
    }

    #[test]
    fn the_log_keeps_the_latest_entries_that_fit_its_count() {
        let log = RequestLog::new(100, usize::MAX);
        let request = parts(http::Request::get("/x").body(()).unwrap());
        let first = log.push(arriving(&request, 0.0));
        let mut last = first;
        for n in 1..105 {
            last = log.push(arriving(&request, n as f64));
        }
        log.complete(first, 500); // dropped: a no-op
        log.complete(last, 200);
        let entries = log.snapshot();
        assert_eq!(entries.len(), 100);
        assert_eq!(entries[0].elapsed_ms, 5.0, "the five oldest were dropped");
        assert!(entries[..99].iter().all(|entry| entry.status.is_none()));
        assert_eq!(entries[99].status, Some(200));
    }

    #[test]
    fn the_log_keeps_the_latest_entries_that_fit_its_bytes() {
        let request = parts(
            http::Request::get("/x")
                .header("x-filler", "f".repeat(1_000))
                .body(())
                .unwrap(),
        );
        let one = arriving(&request, 0.0).size();
        let log = RequestLog::new(usize::MAX, 10 * one + one / 2);
        for n in 0..1_000 {
            log.push(arriving(&request, f64::from(n)));
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[9].elapsed_ms, 999.0, "the latest are kept");
        assert!(log.bytes() <= 10 * one + one / 2);
        log.clear();
        assert_eq!(log.bytes(), 0);
    }

    #[test]
    fn completing_after_a_clear_is_harmless() {
        let log = RequestLog::new(10, usize::MAX);
        let request = parts(http::Request::get("/x").body(()).unwrap());
        let old = log.push(arriving(&request, 0.0));
        log.clear();
        let new = log.push(arriving(&request, 1.0));
        log.complete(old, 500);
        log.complete(new, 200);
        let entries = log.snapshot();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].status, Some(200));
    }
}
