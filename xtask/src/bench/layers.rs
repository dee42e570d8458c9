//! `cargo xtask bench --layers`: what each layer of the SDK's stack costs
//! a GetUser call on its own.
//!
//! Each stack is `UsersApi` over our `HttpClient` with one layer, or none
//! (`bare`), configured as the facade configures it. The floor and the
//! whole SDK are measured beside them. Every stack has its own connection
//! to the benchmark server. As in the suite, the stacks take turns in
//! rounds, in an order rotated each round, and a figure is the median of
//! the rounds: the p50 latency of 500 calls made one after another, its
//! ratio to `bare` in the same round, and (counted apart) the allocations
//! of one call.
//!
//! The bare stack sends three headers fewer than the floor (the SDK's own,
//! which the headers layer adds): the headers row includes sending them.
//! The `no-op` row is a control: a layer that wraps the future and does
//! nothing else (`map_err` to the same error). It costs nothing measurable,
//! so what a row adds is what that layer does, not the nesting itself. The
//! sum of the rows' extra costs is roughly the whole stack's.

use std::time::Duration;

use finbourne_identity::layers::auth::{AuthLayer, StaticToken, TokenCache};
use finbourne_identity::layers::transport::timeout::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT,
};
use finbourne_identity::layers::transport::{
    AttemptTimeoutLayer, HeadersConfig, HttpClient, RetryConfig, RetryLayer, SdkHeadersLayer,
    ThrottleLayer, TotalTimeoutLayer, TraceLayer, TransportError,
};
use finbourne_identity::{BaseUrl, SecretString, UsersApi};
use futures_util::future::BoxFuture;
use serde_json::json;
use tower::Layer;
use tower::util::MapErrLayer;

use super::alloc::Counting;
use super::clients::{Api, Floor, Sdk};
use super::fixtures::USER_ID;
use super::measure::{median, micros, percentile, sequential_latencies};
use super::server::BenchServer;
use super::suite::TOKEN;

/// Calls per round of each stack, and calls counted for allocations.
const CALLS: usize = 500;
const COUNTED_CALLS: usize = 300;

/// Makes `calls` GetUser calls one after another with one stack and
/// returns their latencies. Boxed once per round, not per call: each
/// stack's calls stay monomorphic.
type Measure =
    Box<dyn Fn(usize) -> BoxFuture<'static, Result<Vec<Duration>, String>> + Send + Sync>;

fn measure(api: impl Api) -> Measure {
    Box::new(move |calls| {
        let api = api.clone();
        Box::pin(async move { sequential_latencies(&api, USER_ID, calls).await })
    })
}

/// One stack's figures.
struct Figures {
    name: &'static str,
    p50: Vec<f64>,
    vs_bare: Vec<f64>,
    allocations: f64,
}

/// Runs `rounds` rounds and prints the table (also written as JSON).
pub(crate) async fn run(rounds: usize) -> Result<serde_json::Value, String> {
    let server = BenchServer::start(1).await?;
    let base_url = server.base_url();
    let base: BaseUrl = base_url
        .parse()
        .map_err(|e| format!("the benchmark server's URL: {e}"))?;
    let http = || HttpClient::builder().build().map_err(|e| e.to_string());
    let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from(TOKEN)));
    let headers = SdkHeadersLayer::new(HeadersConfig::default()).map_err(|e| e.to_string())?;

    let stacks: Vec<(&'static str, Measure)> = vec![
        ("floor", measure(Floor::new(&base_url, TOKEN)?)),
        ("bare", measure(over(&base, http()?))),
        (
            "no-op (map_err)",
            measure(over(
                &base,
                MapErrLayer::new(std::convert::identity::<TransportError>).layer(http()?),
            )),
        ),
        ("headers", measure(over(&base, headers.layer(http()?)))),
        (
            "total timeout",
            measure(over(
                &base,
                TotalTimeoutLayer::new(DEFAULT_TOTAL_TIMEOUT).layer(http()?),
            )),
        ),
        (
            "retry",
            measure(over(
                &base,
                RetryLayer::new(RetryConfig::default()).layer(http()?),
            )),
        ),
        (
            "throttle",
            measure(over(&base, ThrottleLayer::default().layer(http()?))),
        ),
        (
            "auth",
            measure(over(&base, AuthLayer::new(tokens).layer(http()?))),
        ),
        (
            "attempt timeout",
            measure(over(
                &base,
                AttemptTimeoutLayer::new(DEFAULT_ATTEMPT_TIMEOUT).layer(http()?),
            )),
        ),
        (
            "trace",
            measure(over(&base, TraceLayer::attempt().layer(http()?))),
        ),
        ("sdk", measure(Sdk::new(&base_url, TOKEN)?)),
    ];
    const BARE: usize = 1;

    let mut figures: Vec<Figures> = stacks
        .iter()
        .map(|(name, _)| Figures {
            name,
            p50: Vec::new(),
            vs_bare: Vec::new(),
            allocations: f64::NAN,
        })
        .collect();
    for (_, measure) in &stacks {
        measure(CALLS).await?;
    }
    for round in 0..rounds {
        let mut p50 = vec![0.0; stacks.len()];
        for turn in 0..stacks.len() {
            let index = (round + turn) % stacks.len();
            let mut latencies = (stacks[index].1)(CALLS).await?;
            latencies.sort_unstable();
            p50[index] = micros(percentile(&latencies, 50.0));
        }
        for (figures, own) in figures.iter_mut().zip(&p50) {
            figures.p50.push(*own);
            figures.vs_bare.push(own / p50[BARE]);
        }
    }
    for ((_, measure), figures) in stacks.iter().zip(&mut figures) {
        let counting = Counting::start();
        measure(COUNTED_CALLS).await?;
        figures.allocations = counting.stop().allocations as f64 / COUNTED_CALLS as f64;
    }

    println!(
        "{:<16} {:>10} {:>8} {:>12}",
        "GetUser over", "p50 (us)", "vs bare", "allocations"
    );
    for figures in &figures {
        println!(
            "{:<16} {:>10.1} {:>8.3} {:>12.1}",
            figures.name,
            median(&figures.p50),
            median(&figures.vs_bare),
            figures.allocations
        );
    }
    Ok(json!({
        "rounds": rounds,
        "callsPerRound": CALLS,
        "stacks": figures.iter().map(|figures| json!({
            "stack": figures.name,
            "p50Micros": median(&figures.p50),
            "p50VsBare": median(&figures.vs_bare),
            "allocationsPerCall": figures.allocations,
        })).collect::<Vec<_>>(),
    }))
}

/// The Users operations over `service`.
fn over<S: Clone>(base: &BaseUrl, service: S) -> UsersApi<S> {
    UsersApi::new(service, base.clone())
}
