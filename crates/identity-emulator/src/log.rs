//! The request log: what each API and token call looked like on the wire
//! (never its body), so tests can check what a client sent.
//!
//! An entry is written when a request arrives and completed with its status
//! when the answer leaves; a call whose connection was dropped (a close fault,
//! or the client going away) keeps `status: None`.

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
}

impl RecordedRequest {
    /// The entry of a request that has just arrived (status not known yet).
    pub(crate) fn arriving(
        parts: &http::request::Parts,
        operation: Option<&str>,
        elapsed_ms: f64,
    ) -> Self {
        let mut headers = BTreeMap::<String, String>::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = if MASKED_HEADERS.contains(&name.as_str()) {
                mask(&value)
            } else {
                value.into_owned()
            };
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert(value);
        }
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            operation: operation.map(str::to_owned),
            status: None,
            fault: None,
            processed_status: None,
            time: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            elapsed_ms,
        }
    }
}

/// Keeps the authentication scheme of a credential header and hides the rest.
fn mask(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('=') => format!("{scheme} ***"),
        _ => "***".to_owned(),
    }
}

/// How many requests the log keeps: the most recent ones, so that an
/// emulator left running does not grow without bound (an entry is about a
/// kilobyte).
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// The log itself: the latest [`REQUEST_LOG_CAPACITY`] entries in arrival
/// order, each with a sequence number so that completing one is safe even
/// after the log was cleared or the entry dropped.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<LogEntries>,
}

#[derive(Debug, Default)]
struct LogEntries {
    next: u64,
    /// Consecutive sequence numbers, oldest first.
    entries: VecDeque<(u64, RecordedRequest)>,
}

/// Identifies one entry of the log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryId(u64);

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, LogEntries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an arriving request.
    pub(crate) fn push(&self, request: RecordedRequest) -> EntryId {
        let mut log = self.lock();
        let id = log.next;
        log.next += 1;
        if log.entries.len() == REQUEST_LOG_CAPACITY {
            log.entries.pop_front();
        }
        log.entries.push_back((id, request));
        EntryId(id)
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

    fn update(&self, id: EntryId, change: impl FnOnce(&mut RecordedRequest)) {
        let mut log = self.lock();
        let Some(&(oldest, _)) = log.entries.front() else {
            return;
        };
        let index =
            id.0.checked_sub(oldest)
                .and_then(|index| usize::try_from(index).ok());
        if let Some((_, entry)) = index.and_then(|index| log.entries.get_mut(index)) {
            change(entry);
        }
    }

    /// Every entry, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock()
            .entries
            .iter()
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(request: http::Request<()>) -> http::request::Parts {
        request.into_parts().0
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
        let entry = RecordedRequest::arriving(&parts(request), Some("GetUser"), 12.5);
        assert_eq!(entry.path, "/identity/api/users/a%2Fb");
        assert_eq!(entry.query.as_deref(), Some("includeRoles=True&x=%20"));
        assert_eq!(entry.headers["authorization"], "Bearer ***");
        assert_eq!(entry.headers["proxy-authorization"], "Basic ***");
        assert_eq!(entry.headers["cookie"], "***");
        assert_eq!(entry.headers["x-multi"], "1, 2");
        let text = serde_json::to_string(&entry).unwrap();
        assert!(!text.contains("secret-token") && !text.contains("dXNlcjpwYXNz"));
        assert!(text.contains("\"elapsedMs\":12.5"));
        assert!(time::OffsetDateTime::parse(&entry.time, &Rfc3339).is_ok());
    }

    #[test]
    fn the_log_keeps_the_latest_entries_only() {
        let log = RequestLog::default();
        let request = parts(http::Request::get("/x").body(()).unwrap());
        let first = log.push(RecordedRequest::arriving(&request, None, 0.0));
        let mut last = first;
        for n in 1..REQUEST_LOG_CAPACITY + 5 {
            last = log.push(RecordedRequest::arriving(&request, None, n as f64));
        }
        log.complete(first, 500); // dropped: a no-op
        log.complete(last, 200);
        let entries = log.snapshot();
        assert_eq!(entries.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(entries[0].elapsed_ms, 5.0, "the five oldest were dropped");
        assert!(
            entries[..REQUEST_LOG_CAPACITY - 1]
                .iter()
                .all(|entry| entry.status.is_none())
        );
        assert_eq!(entries[REQUEST_LOG_CAPACITY - 1].status, Some(200));
    }

    #[test]
    fn completing_after_a_clear_is_harmless() {
        let log = RequestLog::default();
        let request = parts(http::Request::get("/x").body(()).unwrap());
        let old = log.push(RecordedRequest::arriving(&request, None, 0.0));
        log.clear();
        let new = log.push(RecordedRequest::arriving(&request, None, 1.0));
        log.complete(old, 500);
        log.complete(new, 200);
        let entries = log.snapshot();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].status, Some(200));
    }
}
