//! `cargo xtask hostile`: the emulator (`fbn-identity emulator`, release,
//! its own process, at most 1,024 open files) against hostile clients, on
//! loopback only, and the figures of BENCHMARKS.md's "Hostile clients":
//!
//! 1. **Headers.** 3,000 requests without a token, 360 KB of headers each,
//!    32 at a time: the emulator's memory grows at most 64 MB. Then 3,000
//!    more with 57 KB of headers (under the head bound, so each is logged
//!    with its 401) against a log bounded to 8 MiB: the log keeps no more
//!    entries than fit.
//! 2. **Connections.** 2,000 idle connections (one request each, then
//!    nothing) and 1,000 slow-header ones (a byte a second), while the
//!    health check is asked every 100 ms on a new connection: it answers
//!    within 1 s throughout, and the slow heads are closed at the head
//!    timeout (or earlier, to make room).
//! 3. **Grants.** 300 password grants with a 2 MB `scope` (the public
//!    default credentials): refused, memory growth at most 16 MB. Then 300
//!    with a 4 KB scope in a form under the form's bound: each refused by
//!    the scope's own bound (400), and a grant with a short scope passes.
//! 4. **Exposure.** `--allow-remote --bind 0.0.0.0:0` with the public
//!    default credentials exits 2; with credentials of its own, the CLI
//!    reaches it by a name that is not loopback by its spelling
//!    (`identity-emulator.test`, sent to 127.0.0.1 by a CONNECT proxy of
//!    this task's, as a compose network's DNS would: no hosts file, no
//!    lookup) with `--allow-insecure-http` or `FBN_ALLOW_INSECURE_HTTP`,
//!    and is refused without, naming the opt-in. The machine's other
//!    addresses, which the ready line lists, are counted, never contacted.
//!
//! Memory is the resident set's peak (`VmHWM`) over its size before, from
//! `/proc` (Linux). The task fails when a bound is broken.

mod emulator;
mod proxy;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use emulator::{EmulatorProcess, Memory, run_cli};

/// The emulator's open files: the measurement's condition.
const EMULATOR_OPEN_FILES: u32 = 1024;
/// A static token of the emulator's (long enough for `--allow-remote`).
const TOKEN: &str = "hostile-task-static-token-0001";
/// The bounds the figures are held to.
const HEADER_FLOOD_MAX_MB: f64 = 64.0;
const GRANTS_MAX_MB: f64 = 16.0;
const HEALTH_MAX: Duration = Duration::from_secs(1);
/// The emulator's default head timeout.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the four measurements; `Err` names the bounds broken.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "unexpected argument {arg:?}; usage: cargo xtask hostile"
        ));
    }
    eprintln!("hostile: building the CLI in release");
    let cli = crate::bench::build_cli()?;
    let open_files = raise_open_files(8192);
    println!("hostile: this task may open {open_files} files; the emulator {EMULATOR_OPEN_FILES}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("runtime: {error}"))?;
    let mut broken = Vec::new();
    runtime.block_on(headers(&cli, &mut broken))?;
    runtime.block_on(connections(&cli, open_files, &mut broken))?;
    runtime.block_on(grants(&cli, &mut broken))?;
    exposure(&cli, &runtime, &mut broken)?;
    if broken.is_empty() {
        println!("hostile: every bound held");
        Ok(())
    } else {
        Err(format!("bounds broken: {}", broken.join("; ")))
    }
}

/// Raises this process's soft limit of open files towards `wanted` (as far
/// as the hard limit allows); the limit in force.
fn raise_open_files(wanted: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let target = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
    if limit.current.is_some_and(|soft| soft >= target) {
        return limit.current.unwrap_or(target);
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(_) => limit.current.unwrap_or(1024),
    }
}

/// Memory now, waiting a moment for the emulator to settle.
async fn settled_memory(emulator: &EmulatorProcess) -> Result<Memory, String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    emulator
        .memory()
        .ok_or_else(|| "no /proc/PID/status: the memory figures need Linux".to_owned())
}

/// Counts of statuses (`closed` for none).
fn tally(statuses: impl IntoIterator<Item = Option<u16>>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for status in statuses {
        let key = status.map_or_else(|| "closed".to_owned(), |status| status.to_string());
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// The request log through the hook: its entries and its JSON's size.
async fn request_log(addr: SocketAddr) -> Result<(usize, usize), String> {
    let body = reqwest::Client::new()
        .get(format!("http://{addr}/_emulator/requests"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("request log: {error}"))?
        .bytes()
        .await
        .map_err(|error| format!("request log: {error}"))?;
    let entries = serde_json::from_slice::<Vec<serde_json::Value>>(&body)
        .map_err(|error| format!("request log: {error}"))?
        .len();
    Ok((entries, body.len()))
}

/// 1. Unauthenticated requests with large heads.
async fn headers(cli: &Path, broken: &mut Vec<String>) -> Result<(), String> {
    let emulator = EmulatorProcess::start(
        cli,
        EMULATOR_OPEN_FILES,
        &["--bind", "127.0.0.1:0", "--access-token", TOKEN],
    )?;
    let addr = emulator.addr;
    let before = settled_memory(&emulator).await?;
    let head = wire::padded_head(addr, "/identity/api/users", 360 * 1024);
    let started = Instant::now();
    let statuses: Vec<Option<u16>> = futures_util::stream::iter(0..3_000)
        .map(|_| wire::send(addr, &head, &[]))
        .buffer_unordered(32)
        .collect()
        .await;
    let took = started.elapsed();
    let growth = settled_memory(&emulator).await?.growth_mb(before);
    let (entries, _) = request_log(addr).await?;
    println!(
        "hostile: headers: 3,000 requests without a token, 360 KB of headers each, 32 at a time, \
         in {took:.1?}: {:?}; memory +{growth:.1} MB (bound {HEADER_FLOOD_MAX_MB} MB); log: {entries} entries",
        tally(statuses)
    );
    if growth > HEADER_FLOOD_MAX_MB {
        broken.push(format!("header flood grew memory by {growth:.1} MB"));
    }
    drop(emulator);

    // Heads under the bound reach the token check and the log.
    let log_bytes: usize = 8 * 1024 * 1024;
    let entry_bytes: usize = 16 * 1024;
    let log_bound = log_bytes.to_string();
    let filler = 56 * 1024;
    let emulator = EmulatorProcess::start(
        cli,
        EMULATOR_OPEN_FILES,
        &[
            "--bind",
            "127.0.0.1:0",
            "--access-token",
            TOKEN,
            "--request-log-bytes",
            &log_bound,
        ],
    )?;
    let addr = emulator.addr;
    let before = settled_memory(&emulator).await?;
    let head = wire::padded_head(addr, "/identity/api/users", filler);
    let statuses: Vec<Option<u16>> = futures_util::stream::iter(0..3_000)
        .map(|_| wire::send(addr, &head, &[]))
        .buffer_unordered(32)
        .collect()
        .await;
    let growth = settled_memory(&emulator).await?.growth_mb(before);
    let (entries, json) = request_log(addr).await?;
    println!(
        "hostile: headers: 3,000 requests without a token, {} KB of headers each (under the head \
         bound): {:?}; log: {entries} entries, {:.1} MB as JSON (bound {:.1} MB, entries cut to \
         16 KiB); memory +{growth:.1} MB",
        filler / 1000,
        tally(statuses),
        json as f64 / 1e6,
        log_bytes as f64 / 1e6,
    );
    if entries * entry_bytes > log_bytes {
        broken.push(format!(
            "the log kept {entries} entries of up to 16 KiB in 8 MiB"
        ));
    }
    Ok(())
}

/// One connection that stays idle after one request.
async fn idle_connection(addr: SocketAddr) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET /_emulator/health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    wire::read_status(&mut stream).await?;
    Some(stream)
}

/// One connection sending its head a byte a second: how long it lived from
/// its first byte to the emulator closing it (`None`: not connected, or
/// still open when told to stop).
async fn slow_connection(addr: SocketAddr, stop: Arc<AtomicBool>) -> Option<Duration> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let (mut reader, mut writer) = stream.into_split();
    let first_byte = Instant::now();
    let start = format!("GET /_emulator/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ");
    writer.write_all(start.as_bytes()).await.ok()?;
    let mut sink = [0_u8; 64];
    while !stop.load(Ordering::Relaxed) {
        tokio::select! {
            // Closed (or answered, which closes it too).
            _ = reader.read(&mut sink) => return Some(first_byte.elapsed()),
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if writer.write_all(b"a").await.is_err() {
                    return Some(first_byte.elapsed());
                }
            }
        }
    }
    None
}

/// 2. Idle and slow connections against the health check.
async fn connections(cli: &Path, open_files: u64, broken: &mut Vec<String>) -> Result<(), String> {
    let emulator = EmulatorProcess::start(cli, EMULATOR_OPEN_FILES, &["--bind", "127.0.0.1:0"])?;
    let addr = emulator.addr;
    let (idle_wanted, slow_wanted) = if open_files >= 4_096 {
        (2_000, 1_000)
    } else {
        let room = usize::try_from(open_files.saturating_sub(256)).unwrap_or(0);
        println!("hostile: connections: only {open_files} open files here: fewer connections");
        (room * 2 / 3, room / 3)
    };
    let before = settled_memory(&emulator).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let prober_stop = stop.clone();
    let prober = tokio::spawn(async move {
        let mut probes = Vec::new();
        while !prober_stop.load(Ordering::Relaxed) {
            let asked = Instant::now();
            let status =
                tokio::time::timeout(Duration::from_secs(5), wire::get(addr, "/_emulator/health"))
                    .await
                    .ok()
                    .flatten();
            probes.push((status, asked.elapsed()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        probes
    });
    let opened = Instant::now();
    let idle: Vec<TcpStream> = futures_util::stream::iter(0..idle_wanted)
        .map(|_| idle_connection(addr))
        .buffer_unordered(64)
        .filter_map(|stream| async move { stream })
        .collect()
        .await;
    let idle_opened = idle.len();
    // Opened 64 at a time, as the idle ones: a burst of a thousand SYNs
    // at once would measure the kernel's accept queue, not the emulator.
    let mut slow = Vec::with_capacity(slow_wanted);
    for batch in 0..slow_wanted.div_ceil(64) {
        for _ in (batch * 64)..slow_wanted.min(batch * 64 + 64) {
            slow.push(tokio::spawn(slow_connection(addr, stop.clone())));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Every slow head is closed by the head timeout; a margin beyond it.
    tokio::time::sleep(HEAD_TIMEOUT + Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lifetimes = Vec::new();
    for task in slow {
        if let Ok(Some(lived)) = task.await {
            lifetimes.push(lived);
        }
    }
    let probes = prober.await.map_err(|error| format!("prober: {error}"))?;
    let peak = settled_memory(&emulator).await?.growth_mb(before);
    let answered: Vec<Duration> = probes
        .iter()
        .filter(|(status, _)| *status == Some(200))
        .map(|(_, took)| *took)
        .collect();
    let slowest = answered.iter().max().copied().unwrap_or_default();
    let failed = probes.len() - answered.len();
    let at_timeout = lifetimes
        .iter()
        .filter(|lived| **lived >= HEAD_TIMEOUT - Duration::from_millis(500))
        .count();
    let latest = lifetimes.iter().max().copied().unwrap_or_default();
    println!(
        "hostile: connections: {idle_opened} idle and {slow_wanted} slow-header connections over \
         {:.1?}, the emulator at {EMULATOR_OPEN_FILES} open files: health asked {} times, {failed} \
         without a 200, slowest answer {slowest:.1?} (bound {HEALTH_MAX:?}); slow heads closed: \
         {} ({at_timeout} at the head timeout of {HEAD_TIMEOUT:?}, the rest earlier to make room), \
         the last after {latest:.1?}; memory +{peak:.1} MB",
        opened.elapsed(),
        probes.len(),
        lifetimes.len(),
    );
    drop(idle);
    if failed > 0 || slowest > HEALTH_MAX {
        broken.push(format!(
            "health: {failed} probes failed, slowest {slowest:.1?}"
        ));
    }
    if lifetimes.len() < slow_wanted || latest > HEAD_TIMEOUT + Duration::from_secs(2) {
        broken.push(format!(
            "slow heads: {} of {slow_wanted} closed, the last after {latest:.1?}",
            lifetimes.len()
        ));
    }
    Ok(())
}

/// 3. Password grants asking a 2 MB scope.
async fn grants(cli: &Path, broken: &mut Vec<String>) -> Result<(), String> {
    let emulator = EmulatorProcess::start(cli, EMULATOR_OPEN_FILES, &["--bind", "127.0.0.1:0"])?;
    let addr = emulator.addr;
    let before = settled_memory(&emulator).await?;
    let body = format!(
        "grant_type=password&username=emulator-user&password=emulator-password\
         &client_id=emulator-client&client_secret=emulator-client-secret&scope={}",
        "s".repeat(2_000_000)
    );
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let statuses: Vec<Option<u16>> = futures_util::stream::iter(0..300)
        .map(|_| wire::send(addr, head.as_bytes(), body.as_bytes()))
        .buffer_unordered(32)
        .collect()
        .await;
    let growth = settled_memory(&emulator).await?.growth_mb(before);
    let counts = tally(statuses);
    let granted = counts.get("200").copied().unwrap_or(0);
    println!(
        "hostile: grants: 300 password grants with a 2 MB scope, 32 at a time: {counts:?}; memory \
         +{growth:.1} MB (bound {GRANTS_MAX_MB} MB)"
    );
    if granted > 0 || growth > GRANTS_MAX_MB {
        broken.push(format!("grants: {granted} granted, memory +{growth:.1} MB"));
    }
    // A form under the size bound, with a scope over its own: the scope's
    // bound, not the form's, must refuse it (400 invalid_scope).
    let form = |scope: &str| {
        let body = format!(
            "grant_type=password&username=emulator-user&password=emulator-password\
             &client_id=emulator-client&client_secret=emulator-client-secret&scope={scope}"
        );
        let head = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        (head, body)
    };
    let (head, body) = form(&"s".repeat(4_000));
    let statuses: Vec<Option<u16>> = futures_util::stream::iter(0..300)
        .map(|_| wire::send(addr, head.as_bytes(), body.as_bytes()))
        .buffer_unordered(32)
        .collect()
        .await;
    let counts = tally(statuses);
    let (ok_head, ok_body) = form("openid");
    let control = wire::send(addr, ok_head.as_bytes(), ok_body.as_bytes()).await;
    println!(
        "hostile: grants: 300 grants with a 4 KB scope (a 4 KB form): {counts:?}; one with the \
         default scope: {control:?}"
    );
    if counts.get("400").copied() != Some(300) || control != Some(200) {
        broken.push(format!(
            "grants: a 4 KB scope answered {counts:?}, a short one {control:?}"
        ));
    }
    Ok(())
}

/// Runs `fbn-identity ARGS` that must stop by itself within 30 s; its
/// exit code (`None` when it had to be killed).
fn run_briefly(cli: &Path, args: &[&str]) -> Result<Option<i32>, String> {
    let mut child = std::process::Command::new(cli)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot run {}: {error}", cli.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
            return Ok(status.code());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// 4. What `--allow-remote` exposes, and reaching it by name.
fn exposure(
    cli: &Path,
    runtime: &tokio::runtime::Runtime,
    broken: &mut Vec<String>,
) -> Result<(), String> {
    let public = run_briefly(cli, &["emulator", "--bind", "0.0.0.0:0", "--allow-remote"])?;
    println!(
        "hostile: exposure: --allow-remote on 0.0.0.0 with the public credentials: exit {public:?}"
    );
    if public != Some(2) {
        broken.push(format!(
            "--allow-remote with public credentials exited {public:?}"
        ));
    }

    let (password, secret) = ("hostile-task-password", "hostile-task-client-secret");
    let emulator = EmulatorProcess::start(
        cli,
        EMULATOR_OPEN_FILES,
        &[
            "--bind",
            "0.0.0.0:0",
            "--allow-remote",
            "--password",
            password,
            "--client-secret",
            secret,
            "--access-token",
            TOKEN,
        ],
    )?;
    let others = emulator.ready["other_addresses"]
        .as_array()
        .map_or(0, Vec::len);
    let proxy = runtime.block_on(proxy::NameProxy::start(emulator.addr))?;
    let port = emulator.addr.port();
    let base_url = format!("http://identity-emulator.test:{port}/identity");
    let token_url = format!("http://identity-emulator.test:{port}/oauth2/token");
    let proxy_url = format!("http://{}", proxy.addr);
    let with_token = [
        ("FBN_IDENTITY_URL", base_url.as_str()),
        ("FBN_ACCESS_TOKEN", TOKEN),
        ("FBN_PROXY_ADDRESS", proxy_url.as_str()),
    ];
    let with_password = [
        ("FBN_IDENTITY_URL", base_url.as_str()),
        ("FBN_TOKEN_URL", token_url.as_str()),
        ("FBN_USERNAME", "emulator-user"),
        ("FBN_PASSWORD", password),
        ("FBN_CLIENT_ID", "emulator-client"),
        ("FBN_CLIENT_SECRET", secret),
        ("FBN_PROXY_ADDRESS", proxy_url.as_str()),
        ("FBN_ALLOW_INSECURE_HTTP", "true"),
    ];
    let list = ["users", "list"];
    let (refused, message) = run_cli(cli, &list, &with_token)?;
    let (flagged, _) = run_cli(
        cli,
        &["--allow-insecure-http", "users", "list"],
        &with_token,
    )?;
    let (by_variable, _) = run_cli(cli, &list, &with_password)?;
    let names_opt_in =
        message.contains("--allow-insecure-http") && message.contains("FBN_ALLOW_INSECURE_HTTP");
    println!(
        "hostile: exposure: bound to 0.0.0.0 with credentials of its own (ready line: loopback \
         URLs, {others} other address(es) listed, not contacted); by the name \
         identity-emulator.test through a loopback proxy: without opt-in exit {refused} (names the \
         opt-in: {names_opt_in}), --allow-insecure-http exit {flagged}, FBN_ALLOW_INSECURE_HTTP=true \
         with the password grant exit {by_variable}"
    );
    if refused != 2 || !names_opt_in || flagged != 0 || by_variable != 0 {
        broken.push(format!(
            "reaching by name: without {refused}, flag {flagged}, variable {by_variable}"
        ));
    }
    drop(proxy);
    Ok(())
}
