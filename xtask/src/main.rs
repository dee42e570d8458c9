//! `cargo xtask`: the project's tasks, written in Rust so that they run the
//! same on every machine with nothing but cargo.
//!
//! - `cargo xtask ci`: format check, clippy with `-D warnings`, every test;
//!   what `.ci/run` runs.
//! - `cargo xtask demo`: the whole user lifecycle against an embedded emulator.
//! - `cargo xtask bench [--quick] [--target-url URL --access-token TOKEN]`:
//!   the client against the floor (a bare hyper-util client) and reqwest.
//! - `cargo xtask soak`: the long form of the fault soak test.
//! - `cargo xtask compat`: FINBOURNE's official Python SDK against the
//!   emulator, unchanged.
//! - `cargo xtask hostile`: the emulator, as its own process, against
//!   hostile clients (large heads, idle and slow connections, huge grants,
//!   exposure): the figures of BENCHMARKS.md's "Hostile clients".

mod bench;
mod ci;
mod compat;
mod hostile;
mod soak;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match task {
        "ci" => ci::run(rest),
        "demo" => ci::cargo(&["run", "--quiet", "-p", "identity-cli", "--", "demo"]),
        "bench" => bench::run(rest),
        "soak" => soak::run(rest),
        "compat" => compat::run(rest),
        "hostile" => hostile::run(rest),
        _ => {
            eprintln!("usage: cargo xtask <ci | demo | bench | soak | compat | hostile>");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}
