//! `cargo xtask bench`: our client against the best a client can do, on
//! the same server, in the same run.
//!
//! ```text
//! cargo xtask bench                 # every scenario (about 70 s on 2 cores)
//! cargo xtask bench --quick         # the same, briefly: a smoke test for CI
//! cargo xtask bench --target-url http://127.0.0.1:8080/identity \
//!     --access-token TOKEN [--user-id ID]   # GetUser and ListUsers against a running server
//! cargo xtask bench --profile sdk [--list] [--calls N]   # one client alone, for a profiler
//! cargo xtask bench --layers        # what each layer of the stack costs alone
//! cargo xtask bench --scale [PART,...]  # export, import and the emulator at a million users
//!                                   # (parts: export, rate, memory, large, kill)
//! cargo xtask bench --fanout        # many calls at once through one client, at a rate limit
//! ```
//!
//! Three clients make the same calls to the same loopback server and
//! decode into the same `identity-models` types: the floor (a bare
//! hyper-util client with serde_json), the SDK (`IdentityClient`, its whole
//! stack on) and reqwest with serde_json. Each figure is printed with its
//! ratio to the floor's in the same run, and written as JSON to
//! `target/bench/latest.json` (`quick.json` with `--quick`, `target.json`
//! with `--target-url`). See [`suite`] for the scenarios.
//!
//! How it measures:
//! - In release: the `cargo xtask` alias builds xtask in debug, so a debug
//!   build runs `cargo run --release -p xtask -- bench ARGS` and waits.
//! - One multi-threaded tokio runtime of 2 worker threads (the machine has
//!   2 cores) runs the server and the clients alike. A runtime of its own
//!   for the server was tried: its 2 more threads fight the clients' for
//!   the 2 cores, and the OS's scheduling, not the clients, then ruled the
//!   figures (p50 latency 3 to 4 times higher, p99 in milliseconds, and
//!   rankings that changed from run to run). The counting allocator
//!   ([`alloc`]) still charges each client with its own allocations only:
//!   the server's futures run inside [`alloc::Uncounted`].
//! - Every client is warmed up first (connections open, code paged in).
//! - Rounds: in each, every client runs the scenario once, in an order
//!   rotated each round; a figure is the median of its rounds.
//! - Speed is never asserted: goals are printed (met or MISSED) for a
//!   person to read.

mod alloc;
mod clients;
mod fanout;
mod fixtures;
mod layers;
mod measure;
mod profile;
mod report;
mod scale;
mod server;
mod suite;
mod target;

use std::path::{Path, PathBuf};
use std::process::Command;

use tokio::runtime::Runtime;

use self::clients::Kind;
use self::suite::Settings;
use self::target::Target;

/// Worker threads of the runtime: the machine's 2 cores.
const WORKER_THREADS: usize = 2;

/// Rounds of `--layers` (about 17 s on 2 cores).
const LAYER_ROUNDS: usize = 100;

/// The environment variable that carries the access token to the release
/// build, rather than its command line (which other users can read).
const TOKEN_VARIABLE: &str = "FBN_ACCESS_TOKEN";

const USAGE: &str = "usage: cargo xtask bench [--quick] \
[--target-url URL [--access-token TOKEN] [--user-id ID]] [--profile CLIENT [--list] [--calls N]]
  [--layers] [--scale]
  --quick         every scenario, briefly (a smoke test; asserts nothing about speed)
  --target-url    measure GetUser and ListUsers against a running server instead
  --access-token  its bearer token (default: $FBN_ACCESS_TOKEN)
  --user-id       the user GetUser asks for (default: the first of ListUsers)
  --profile       only N GetUser calls (default 1000) of one client (floor, sdk or
                  reqwest), for a profiler such as valgrind --tool=callgrind
  --list          with --profile: ListUsers of 10,000 users instead
  --layers        what each layer of the SDK's stack costs a GetUser call alone
                  (with --quick: 3 rounds instead of 100)
  --scale [PARTS]  the bulk paths at scale with the release CLI, every part or those
                  named (comma-separated): export (10k, 100k and 1M users, and the
                  emulator's GetUser at 1M), rate (import of 10,000 at a rate limit),
                  memory (import of 1M lines, --dry-run and real), large (5 lines into
                  1M users), kill (the emulator killed during an import of 10,000, the
                  import resumed); with --quick: small sizes, a smoke test";

/// Runs `cargo xtask bench ARGS`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    if cfg!(debug_assertions) {
        return run_in_release(args);
    }
    // Other work on the machine moves the figures: say how busy it was.
    let load_before = load_average();
    if options.layers {
        let rounds = if options.quick { 3 } else { LAYER_ROUNDS };
        let figures = runtime()?.block_on(spawned(layers::run(rounds)))?;
        let path = report::write_json(&output_dir(), "layers.json", &figures)?;
        println!("written to {}", path.display());
        return Ok(());
    }
    if options.fanout {
        let cli = build_cli()?;
        let work = output_dir().join("fanout");
        let mut figures = runtime()?.block_on(spawned(fanout::run(cli, work, options.quick)))?;
        figures["date"] = serde_json::json!(now());
        figures["machine"] = serde_json::json!(machine());
        figures["loadAverage"] = serde_json::json!([load_before, load_average()]);
        let name = if options.quick {
            "fanout-quick.json"
        } else {
            "fanout.json"
        };
        let path = report::write_json(&output_dir(), name, &figures)?;
        println!("written to {}", path.display());
        return Ok(());
    }
    if let Some(parts) = options.scale {
        let cli = build_cli()?;
        let work = output_dir().join("scale");
        let every = parts == scale::Part::ALL;
        let names: Vec<&str> = parts.iter().map(|part| part.name()).collect();
        let mut figures =
            runtime()?.block_on(spawned(scale::run(cli, work, parts.clone(), options.quick)))?;
        figures["date"] = serde_json::json!(now());
        figures["machine"] = serde_json::json!(machine());
        figures["loadAverage"] = serde_json::json!([load_before, load_average()]);
        // A run of some parts does not replace the figures of them all.
        let name = match (options.quick, every) {
            (true, _) => "scale-quick.json".to_owned(),
            (false, true) => "scale.json".to_owned(),
            (false, false) => format!("scale-{}.json", names.join("-")),
        };
        let path = report::write_json(&output_dir(), &name, &figures)?;
        println!("written to {}", path.display());
        return Ok(());
    }
    if let Some((kind, calls)) = options.profile {
        return runtime()?.block_on(spawned(profile::run(kind, options.list, calls)));
    }
    // Neither a smoke test nor a run against another server replaces the
    // figures of the last full run.
    let (mut report, file) = match options.target {
        Some(target) => {
            let report = runtime()?.block_on(spawned(target::run(target, options.quick)))?;
            (report, "target.json")
        }
        None => {
            let settings = if options.quick {
                Settings::quick()
            } else {
                Settings::full()
            };
            let report = runtime()?.block_on(spawned(suite::run(settings)))?;
            (
                report,
                if options.quick {
                    "quick.json"
                } else {
                    "latest.json"
                },
            )
        }
    };
    let context = &mut report.context;
    context.insert("date".into(), serde_json::json!(now()));
    context.insert("machine".into(), serde_json::json!(machine()));
    let load = [load_before, load_average()];
    context.insert("loadAverage".into(), serde_json::json!(load));
    print!("{}", report.table());
    let path = report.write_json(&output_dir(), file)?;
    println!("written to {}", path.display());
    Ok(())
}

/// The command line.
#[derive(Default)]
struct Options {
    quick: bool,
    help: bool,
    target: Option<Target>,
    /// `--profile`: the client and its number of calls.
    profile: Option<(Kind, usize)>,
    /// `--list`: profile ListUsers rather than GetUser.
    list: bool,
    /// `--layers`: the cost of each layer of the stack alone.
    layers: bool,
    /// `--scale [PARTS]`: the bulk paths at scale, those parts.
    scale: Option<Vec<scale::Part>>,
    /// `--fanout`: many calls at once through one client, at a rate limit.
    fanout: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options::default();
        let (mut url, mut token, mut user_id) = (None, None, None);
        let (mut profile, mut calls) = (None, None);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |what: &str| {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| format!("{name} needs {what}\n{USAGE}"))
            };
            match name {
                "--quick" => options.quick = true,
                "--layers" => options.layers = true,
                "--fanout" => options.fanout = true,
                "--scale" => {
                    // The parts, when named: inline, or the next argument
                    // when it is not a flag.
                    let named = inline.clone().or_else(|| {
                        args.clone()
                            .next()
                            .filter(|next| !next.starts_with('-'))
                            .cloned()
                    });
                    options.scale = Some(match named {
                        Some(list) => {
                            if inline.is_none() {
                                args.next();
                            }
                            scale::Part::parse_list(&list)?
                        }
                        None => scale::Part::ALL.to_vec(),
                    });
                }
                "--list" => options.list = true,
                "--help" | "-h" => options.help = true,
                "--target-url" => url = Some(value("a URL")?),
                "--access-token" => token = Some(value("a token")?),
                "--user-id" => user_id = Some(value("an id")?),
                "--profile" => {
                    let name = value("a client: floor, sdk or reqwest")?;
                    let kind = Kind::ALL.into_iter().find(|kind| kind.name() == name);
                    profile = Some(kind.ok_or(format!("no client {name:?}\n{USAGE}"))?);
                }
                "--calls" => {
                    let count = value("a number")?;
                    calls = Some(
                        count
                            .parse()
                            .map_err(|_| format!("--calls {count:?} is not a number"))?,
                    );
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        options.target = match (url, token, user_id) {
            (Some(url), token, user_id) => {
                let access_token =
                    token
                        .or_else(|| std::env::var(TOKEN_VARIABLE).ok())
                        .ok_or(format!(
                            "--target-url needs --access-token or ${TOKEN_VARIABLE}"
                        ))?;
                Some(Target {
                    url,
                    access_token,
                    user_id,
                })
            }
            (None, None, None) => None,
            (None, _, _) => {
                return Err(format!(
                    "--access-token and --user-id go with --target-url\n{USAGE}"
                ));
            }
        };
        if options.layers && (profile.is_some() || options.target.is_some()) {
            return Err(format!("--layers goes alone (or with --quick)\n{USAGE}"));
        }
        if options.list && profile.is_none() {
            return Err(format!("--list goes with --profile\n{USAGE}"));
        }
        options.profile = match (profile, calls) {
            (Some(kind), calls) => Some((kind, calls.unwrap_or(1000))),
            (None, None) => None,
            (None, Some(_)) => return Err(format!("--calls goes with --profile\n{USAGE}")),
        };
        Ok(options)
    }
}

/// Runs this command again in a release build. An access token given on
/// the command line travels in the environment instead.
fn run_in_release(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(["run", "--release", "--quiet", "-p", "xtask", "--", "bench"]);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--access-token" {
            if let Some(token) = args.next() {
                command.env(TOKEN_VARIABLE, token);
            }
        } else if let Some(token) = arg.strip_prefix("--access-token=") {
            command.env(TOKEN_VARIABLE, token);
        } else {
            command.arg(arg);
        }
    }
    eprintln!("bench: building and running the release build (cargo run --release -p xtask)");
    let status = command
        .status()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the release build of the benchmark failed ({status})"
        ))
    }
}

/// The runtime; its threads' allocations are counted.
fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("bench")
        .on_thread_start(alloc::count_this_thread)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the runtime: {e}"))
}

/// Runs `future` as a task of the runtime, on its worker threads (not on
/// the thread that blocks on it, whose allocations are not counted).
async fn spawned<T: Send + 'static>(
    future: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    tokio::spawn(future)
        .await
        .map_err(|e| format!("the benchmark task failed: {e}"))?
}

/// The load average of the last minute (Linux), if known.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The time now, RFC 3339 in UTC.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The machine, as far as it says: cores, CPU model, OS.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}, {}", std::env::consts::OS)
}

/// `target/bench` of the workspace (or of `$CARGO_TARGET_DIR`).
/// Builds the CLI in release and answers the path of its binary.
pub(crate) fn build_cli() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "identity-cli"])
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build of the CLI failed".into());
    }
    let target = output_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(target
        .join("release")
        .join(format!("fbn-identity{}", std::env::consts::EXE_SUFFIX)))
}

fn output_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("bench")
}

/// How many connections a burst may open: two descriptors each (the
/// client's and the server's, both in this process), under the soft limit
/// of open files with room to spare. Unknown limit: 1,000.
pub(crate) fn open_file_budget() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        });
    match limit {
        Some(limit) => limit.saturating_sub(256) / 2,
        None => 1000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_line_is_read_with_both_value_forms() -> Result<(), String> {
        let options = parse(&[
            "--quick",
            "--target-url=http://127.0.0.1:8080/identity",
            "--access-token",
            "t",
            "--user-id",
            "00u1",
        ])?;
        assert!(options.quick);
        let target = options.target.ok_or("no target")?;
        assert_eq!(target.url, "http://127.0.0.1:8080/identity");
        assert_eq!(target.access_token, "t");
        assert_eq!(target.user_id.as_deref(), Some("00u1"));
        let options = parse(&["--profile", "sdk", "--list", "--calls", "20"])?;
        assert_eq!(options.profile, Some((Kind::Sdk, 20)));
        assert!(options.list);
        assert_eq!(parse(&["--scale"])?.scale, Some(scale::Part::ALL.to_vec()));
        assert_eq!(
            parse(&["--scale", "kill,memory", "--quick"])?.scale,
            Some(vec![scale::Part::Kill, scale::Part::Memory])
        );
        let options = parse(&["--scale=large", "--quick"])?;
        assert_eq!(options.scale, Some(vec![scale::Part::Large]));
        assert!(options.quick);
        assert!(parse(&["--scale", "everything"]).is_err());
        Ok(())
    }

    #[test]
    fn wrong_command_lines_are_refused() {
        for args in [
            &["--bogus"][..],
            &["--user-id", "00u1"],
            &["--target-url"],
            &["--profile", "curl"],
            &["--calls", "5"],
            &["--profile", "sdk", "--calls", "many"],
            &["--list"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
