//! The open connections: what each is doing (a request in flight, waiting
//! for one, part-way through a head), the deadline that follows from it,
//! and the cap on how many are open ([`Limits`](crate::Limits)).
//!
//! Each connection has a [`ConnectionWatch`], shared by its socket
//! ([`WatchedIo`](crate::watched_io::WatchedIo), which enforces the
//! deadlines and eviction), its service (which marks requests in flight
//! with [`InFlight`]) and the [`Connections`] registry. The deadlines, with
//! no request in flight:
//!
//! - a new connection's first head must arrive within the head timeout
//!   (from the connection, or from the head's first byte, whichever is
//!   later);
//! - after an answer, the connection may wait the idle timeout for its next
//!   request (longer than the SDK's pool idle timeout: see
//!   [`SDK_POOL_IDLE_TIMEOUT`](crate::SDK_POOL_IDLE_TIMEOUT)); once a
//!   head's first byte arrives, the head has the head timeout to arrive
//!   whole.
//!
//! HTTP/2 (prior knowledge) carries frames of its own between requests
//! (settings, pings, window updates), so its bytes start no head clock: an
//! HTTP/2 connection with no stream open is closed at the head timeout
//! before its first request and the idle timeout after.
//!
//! hyper's own `header_read_timeout` is not used: it runs from the moment a
//! connection goes idle, so it is the idle timeout too, and a short head
//! timeout would then close connections a client keeps in its pool.
//!
//! At the cap, a new connection takes the place of the one that has waited
//! longest for a request (idle, or still sending its head): an idle or slow
//! client cannot keep others, or the health check, out. Only when every
//! open connection has a request in flight is the new one refused, with a
//! 503 and `Retry-After` written before anything of it is read
//! ([`crate::server`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use tokio::time::Instant;

use crate::shared::lock;

/// The HTTP/2 connection preface's first bytes (RFC 9113 §3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// What one connection is doing, and its deadlines.
#[derive(Debug)]
pub(crate) struct ConnectionWatch {
    head_timeout: Duration,
    idle_timeout: Duration,
    activity: Mutex<Activity>,
}

#[derive(Debug)]
struct Activity {
    /// Requests whose answer is not yet all sent.
    in_flight: usize,
    /// Requests whose head has arrived.
    requests: u64,
    /// Since when no request is in flight (the connection, or the end of
    /// the last answer).
    waiting_since: Instant,
    /// When the first byte of the head being read arrived (HTTP/1.1).
    head_started: Option<Instant>,
    /// Bytes of the connection's start compared with the HTTP/2 preface.
    preface_seen: usize,
    http2: bool,
    /// Told to close (a newer connection took its place).
    evicted: bool,
    /// The task waiting on the socket, to wake when the deadline changes
    /// or the connection is evicted.
    waker: Option<Waker>,
}

impl ConnectionWatch {
    /// A connection accepted now.
    pub(crate) fn new(head_timeout: Duration, idle_timeout: Duration) -> Self {
        Self {
            head_timeout,
            idle_timeout,
            activity: Mutex::new(Activity {
                in_flight: 0,
                requests: 0,
                waiting_since: Instant::now(),
                head_started: None,
                preface_seen: 0,
                http2: false,
                evicted: false,
                waker: None,
            }),
        }
    }

    /// `bytes` were read from the client.
    pub(crate) fn read(&self, bytes: &[u8]) {
        let mut activity = lock(&self.activity);
        if activity.preface_seen < HTTP2_PREFACE.len() && activity.requests == 0 {
            let start = activity.preface_seen;
            let compared = bytes.len().min(HTTP2_PREFACE.len() - start);
            if bytes[..compared] == HTTP2_PREFACE[start..start + compared] {
                activity.preface_seen += compared;
                activity.http2 = activity.preface_seen == HTTP2_PREFACE.len();
            } else {
                // Not HTTP/2: never compare again.
                activity.preface_seen = HTTP2_PREFACE.len();
            }
        }
        if activity.in_flight == 0 && activity.head_started.is_none() && !activity.http2 {
            activity.head_started = Some(Instant::now());
        }
    }

    /// A request's head has arrived; it is in flight until the guard is
    /// dropped (with its answer's body, or its handler).
    pub(crate) fn request_started(self: &Arc<Self>) -> InFlight {
        let mut activity = lock(&self.activity);
        activity.in_flight += 1;
        activity.requests += 1;
        activity.head_started = None;
        InFlight(self.clone())
    }

    /// When the connection is to be closed, if nothing arrives first:
    /// `None` while a request is in flight (one that started as it was
    /// evicted is answered first). `Err` when it was evicted.
    /// Remembers `waker`, to wake when that changes.
    pub(crate) fn deadline(&self, waker: &Waker) -> Result<Option<Instant>, Evicted> {
        let mut activity = lock(&self.activity);
        if !activity.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            activity.waker = Some(waker.clone());
        }
        if activity.in_flight > 0 {
            return Ok(None);
        }
        if activity.evicted {
            return Err(Evicted);
        }
        let deadline = match activity.head_started {
            Some(started) => started.max(activity.waiting_since) + self.head_timeout,
            None if activity.requests == 0 => activity.waiting_since + self.head_timeout,
            None => activity.waiting_since + self.idle_timeout,
        };
        Ok(Some(deadline))
    }

    /// Since when it has waited for a request; `None` while one is in
    /// flight (it cannot be evicted then).
    fn waiting_since(&self) -> Option<Instant> {
        let activity = lock(&self.activity);
        (activity.in_flight == 0).then_some(activity.waiting_since)
    }

    /// Tells the connection to close, unless a request is in flight on it
    /// (one may have started since it was chosen): whether it was told.
    fn try_evict(&self) -> bool {
        let waker = {
            let mut activity = lock(&self.activity);
            if activity.in_flight > 0 {
                return false;
            }
            activity.evicted = true;
            activity.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}

/// The connection was told to close.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Evicted;

/// A request in flight on a connection: while it lives, the connection has
/// no deadline and cannot be evicted.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<ConnectionWatch>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let waker = {
            let mut activity = lock(&self.0.activity);
            activity.in_flight = activity.in_flight.saturating_sub(1);
            if activity.in_flight > 0 {
                return;
            }
            activity.waiting_since = Instant::now();
            // The idle deadline starts now: the socket's task may be
            // waiting with none armed.
            activity.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Every open connection, up to the cap.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnectionWatch>>>,
}

impl Connections {
    /// No connection yet; at most `max` at once.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a new connection in, evicting the one that has waited longest
    /// when at the cap; `None` when every open one has a request in flight.
    pub(crate) fn admit(self: &Arc<Self>, watch: Arc<ConnectionWatch>) -> Option<Admitted> {
        let mut open = lock(&self.open);
        if open.len() >= self.max && !evict_longest_waiting(&mut open) {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        open.insert(id, watch);
        Some(Admitted {
            id,
            connections: self.clone(),
        })
    }

    /// Evicts the connection that has waited longest for a request (to
    /// free a file descriptor); `false` when none can be.
    pub(crate) fn evict_one(&self) -> bool {
        evict_longest_waiting(&mut lock(&self.open))
    }

    /// How many connections are open.
    #[cfg(test)]
    fn open(&self) -> usize {
        lock(&self.open).len()
    }
}

/// Evicts and forgets the connection that has waited longest; `false` when
/// every one has a request in flight.
fn evict_longest_waiting(open: &mut HashMap<u64, Arc<ConnectionWatch>>) -> bool {
    let mut waiting: Vec<(Instant, u64)> = open
        .iter()
        .filter_map(|(id, watch)| watch.waiting_since().map(|since| (since, *id)))
        .collect();
    waiting.sort_unstable();
    for (_, id) in waiting {
        if open.get(&id).is_some_and(|watch| watch.try_evict()) {
            open.remove(&id);
            return true;
        }
    }
    false
}

/// A connection's place among the open ones, given up when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    id: u64,
    connections: Arc<Connections>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        lock(&self.connections.open).remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(120);

    fn deadline(watch: &ConnectionWatch) -> Option<Instant> {
        watch.deadline(Waker::noop()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_what_the_connection_does() {
        let start = Instant::now();
        let watch = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        assert_eq!(
            deadline(&watch),
            Some(start + HEAD),
            "first head: from the connection"
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        watch.read(b"GET / HT");
        assert_eq!(
            deadline(&watch),
            Some(start + Duration::from_secs(3) + HEAD)
        );
        let request = watch.request_started();
        assert_eq!(deadline(&watch), None, "no deadline in flight");
        tokio::time::advance(Duration::from_secs(60)).await;
        drop(request);
        let answered = Instant::now();
        assert_eq!(
            deadline(&watch),
            Some(answered + IDLE),
            "idle after an answer"
        );
        tokio::time::advance(Duration::from_secs(100)).await;
        watch.read(b"G");
        assert_eq!(
            deadline(&watch),
            Some(answered + Duration::from_secs(100) + HEAD)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn http2_frames_start_no_head_clock() {
        let start = Instant::now();
        let watch = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        watch.read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        tokio::time::advance(Duration::from_secs(1)).await;
        drop(watch.request_started());
        let answered = Instant::now();
        watch.read(b"\0\0\0\x04\x01\0\0\0\0"); // a SETTINGS ack
        assert_eq!(deadline(&watch), Some(answered + IDLE));
        assert!(answered > start);
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_longest_waiting_is_evicted_and_busy_ones_never() {
        let connections = Arc::new(Connections::new(2));
        let first = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        let _first_place = connections.admit(first.clone()).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let second = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        let _second_place = connections.admit(second.clone()).unwrap();
        let third = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        let third_place = connections.admit(third.clone()).unwrap();
        assert!(first.deadline(Waker::noop()).is_err(), "the oldest went");
        assert!(second.deadline(Waker::noop()).is_ok());
        assert_eq!(connections.open(), 2);
        // Both left have a request in flight: a fourth is refused.
        let _busy = (second.request_started(), third.request_started());
        assert!(
            connections
                .admit(Arc::new(ConnectionWatch::new(HEAD, IDLE)))
                .is_none()
        );
        drop(third_place);
        assert_eq!(connections.open(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_starts_as_its_connection_is_evicted_is_answered_first() {
        let watch = Arc::new(ConnectionWatch::new(HEAD, IDLE));
        let request = watch.request_started();
        assert!(!watch.try_evict(), "busy: not evicted");
        drop(request);
        assert!(watch.try_evict());
        // A head that arrived before the connection saw its eviction.
        let late = watch.request_started();
        assert_eq!(deadline(&watch), None, "served, not aborted");
        drop(late);
        assert!(watch.deadline(Waker::noop()).is_err(), "then closed");
    }
}
