//! `cargo xtask bench --profile CLIENT [--list] [--calls N]`: one client
//! making N GetUser calls (or ListUsers of 10,000 users, with `--list`) one
//! after another against the benchmark server, and nothing else, for a
//! profiler to watch:
//!
//! ```text
//! cargo build --release -p xtask
//! valgrind --tool=callgrind target/release/xtask bench --profile sdk --calls 2000
//! valgrind --tool=callgrind target/release/xtask bench --profile sdk --calls 1000
//! ```
//!
//! The difference of the two runs' instruction counts, over 1,000, is the
//! cost of one call (client, server and runtime); the same for the floor
//! shows what the SDK adds. `callgrind_annotate --inclusive=yes` says where.

use std::time::Instant;

use super::alloc::Counting;
use super::clients::{Api, Client, Kind, with_api};
use super::fixtures::USER_ID;
use super::measure::sequential_latencies;
use super::server::BenchServer;
use super::suite::TOKEN;

/// Users in the ListUsers answer of `--list`.
const LIST_SIZE: usize = 10_000;

/// Runs `calls` calls of `kind` and prints what they cost.
pub(crate) async fn run(kind: Kind, list: bool, calls: usize) -> Result<(), String> {
    let server = BenchServer::start(if list { LIST_SIZE } else { 1 }).await?;
    let client = Client::new(kind, &server.base_url(), TOKEN)?;
    with_api!(&client, api => repeat(api, list, calls.min(10)).await)?;
    let counting = Counting::start();
    let started = Instant::now();
    with_api!(&client, api => repeat(api, list, calls).await)?;
    let elapsed = started.elapsed();
    let counted = counting.stop();
    let per_call = |total: u64| total as f64 / calls.max(1) as f64;
    let operation = if list { "ListUsers" } else { "GetUser" };
    println!(
        "{}: {calls} {operation} calls in {:.1} ms; per call {:.1} us, {:.1} allocations, {:.0} bytes allocated",
        kind.name(),
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1_000_000.0 / calls.max(1) as f64,
        per_call(counted.allocations),
        per_call(counted.allocated_bytes),
    );
    Ok(())
}

async fn repeat(api: &impl Api, list: bool, calls: usize) -> Result<(), String> {
    if !list {
        return sequential_latencies(api, USER_ID, calls).await.map(drop);
    }
    for _ in 0..calls {
        let users = api.list_users().await?;
        if users.len() != LIST_SIZE {
            return Err(format!("ListUsers answered {} users", users.len()));
        }
    }
    Ok(())
}
