//! What a hostile or broken answer's body may cost: memory in proportion to
//! what arrived, never to what the answer declares, at most 64 KiB of an
//! error answer's body kept, and at most about 1 MiB held for one user of a
//! streamed list.
//!
//! Each test runs the client on a current-thread runtime on its own thread,
//! measured by the binary's counting allocator (`support::alloc`), while the
//! raw server runs on a runtime of its own, not counted. A body that
//! declares 60 MB and stalls ends by the attempt's read timeout, kept short
//! (the test checks memory, never the time taken).

use std::time::Duration;

use finbourne_identity::IdentityClient;

use crate::support::alloc::measure;
use crate::support::raw_server::{RawServer, Reply, USER_JSON, full, head};
use crate::support::{self, TOKEN};

const DECLARED: usize = 60_000_000;

/// A server on a runtime of its own, whose every request gets `reply`.
fn server(reply: Reply) -> (tokio::runtime::Runtime, RawServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(RawServer::start(move |_, _| reply.clone()));
    (runtime, server)
}

/// A client of `server` whose attempt gives up after a short silence and
/// is not retried; built before the measurement (it loads the trust store).
fn client(server: &RawServer) -> IdentityClient {
    support::builder(&server.base_url())
        .access_token(TOKEN)
        .read_timeout(Duration::from_millis(300))
        .transient_retries(0)
        .build()
        .unwrap()
}

/// The least a measured call holds at its peak: the request, the
/// connection's buffers, the answer's head. A peak below it would mean the
/// allocator did not see the client's work, and the upper bounds proved
/// nothing.
const SEEN_AT_LEAST: usize = 4 * 1024;

/// Runs `call` on a current-thread runtime on this thread, measured.
fn measured<T>(call: impl Future<Output = T>) -> (T, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (value, seen) = measure(|| runtime.block_on(call));
    assert!(
        seen.peak_bytes >= SEEN_AT_LEAST,
        "the allocator saw {} bytes: not the client's work",
        seen.peak_bytes
    );
    (value, seen.peak_bytes)
}

/// A head that declares [`DECLARED`] bytes, then `start` of the body.
fn declared_then(status: &str, start: &[u8]) -> Reply {
    let length = DECLARED.to_string();
    let mut bytes = head(
        status,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &length),
        ],
    );
    bytes.extend_from_slice(start);
    Reply::BytesThenHang(bytes)
}

#[test]
fn a_list_that_declares_60_mb_and_stalls_costs_kilobytes() {
    // Eight users: enough for the list decoder to estimate the list's size
    // from the declared length.
    let mut start = b"[".to_vec();
    for _ in 0..8 {
        start.extend_from_slice(USER_JSON.as_bytes());
        start.push(b',');
    }
    let (_runtime, server) = server(declared_then("200 OK", &start));
    let client = client(&server);
    let (result, peak) = measured(client.users().list_users().send());
    let error = result.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        peak < 1024 * 1024,
        "a stalled body declaring {DECLARED} bytes cost {peak} bytes"
    );
}

#[test]
fn an_error_answer_that_declares_60_mb_and_stalls_costs_kilobytes() {
    let (_runtime, server) = server(declared_then(
        "500 Internal Server Error",
        br#"{"code":500,"title":"Internal"#,
    ));
    let client = client(&server);
    let (result, peak) = measured(client.users().get_user("00u1").send());
    let error = result.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        peak < 1024 * 1024,
        "a stalled error body declaring {DECLARED} bytes cost {peak} bytes"
    );
}

#[test]
fn an_error_answer_of_10_mb_keeps_64_kib_and_is_not_read_to_its_end() {
    let mut body = br#"{"code":500,"title":"Internal Server Error","detail":""#.to_vec();
    body.resize(10 * 1024 * 1024, b'x');
    let (_runtime, server) = server(Reply::Bytes(full(
        "500 Internal Server Error",
        &[("Content-Type", "application/json")],
        &body,
    )));
    let client = client(&server);
    let (result, peak) = measured(client.users().get_user("00u1").send());
    let error = result.unwrap_err();
    let Some(api) = error.api() else {
        panic!("not an API error: {error:?}");
    };
    assert_eq!(api.status, 500);
    assert_eq!(
        api.body.len(),
        finbourne_identity::layers::users::MAX_ERROR_BODY_BYTES
    );
    assert!(api.body.starts_with(br#"{"code":500"#));
    assert!(
        peak >= api.body.len(),
        "the 64 KiB kept were not seen: {peak}"
    );
    assert!(
        peak < 2 * 1024 * 1024,
        "an error answer of {} bytes cost {peak} bytes",
        body.len()
    );
}

#[test]
fn a_streamed_user_over_1_mib_ends_the_stream_with_a_typed_error_at_a_bounded_cost() {
    use futures_util::StreamExt;
    let mut body = format!("[{USER_JSON},{{\"id\":\"00u2\",\"firstName\":\"").into_bytes();
    body.resize(body.len() + 20 * 1024 * 1024, b'x');
    body.extend_from_slice(format!("\"}},{USER_JSON}]").as_bytes());
    let (_runtime, server) = server(Reply::Bytes(full(
        "200 OK",
        &[("Content-Type", "application/json")],
        &body,
    )));
    let client = client(&server);
    let (items, peak) = measured(client.users().list_users().stream().collect::<Vec<_>>());
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().id, "00u1");
    let error = items[1].as_ref().unwrap_err();
    assert!(
        matches!(
            error,
            finbourne_identity::Error::Call(
                finbourne_identity::layers::users::Error::ElementTooLarge {
                    limit: finbourne_identity::layers::users::MAX_STREAMED_USER_BYTES,
                    ..
                }
            )
        ),
        "{error:?}"
    );
    assert!(
        peak >= finbourne_identity::layers::users::MAX_STREAMED_USER_BYTES,
        "the 1 MiB held of the user was not seen: {peak}"
    );
    assert!(
        peak < 4 * 1024 * 1024,
        "a user of 20 MiB in a streamed list cost {peak} bytes"
    );
}
