//! `cargo xtask soak [--calls N] [--tasks N] [--seed N]`: the long form of
//! the fault soak (`tests/tests/e2e/soak.rs`), in release, 20,000 calls by
//! default; CI runs its short form (1,500 calls) with the other tests.
//!
//! The settings reach the test as `SOAK_CALLS`, `SOAK_TASKS` and
//! `SOAK_SEED`; it prints its counts at the end.

use std::process::Command;

/// Calls of the long form.
const DEFAULT_CALLS: &str = "20000";

/// Runs the soak test in release with the long form's settings.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut settings = vec![("SOAK_CALLS", DEFAULT_CALLS.to_owned())];
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let name = match flag.as_str() {
            "--calls" => "SOAK_CALLS",
            "--tasks" => "SOAK_TASKS",
            "--seed" => "SOAK_SEED",
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: cargo xtask soak [--calls N] [--tasks N] [--seed N]"
                ));
            }
        };
        let value = args
            .next()
            .filter(|value| value.parse::<u64>().is_ok())
            .ok_or_else(|| format!("{flag} takes a number"))?;
        settings.retain(|(set, _)| *set != name);
        settings.push((name, value.clone()));
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The soak is the module `soak` of the end-to-end test binary.
    let test = [
        "test",
        "--release",
        "-p",
        "identity-e2e",
        "--test",
        "e2e",
        "--",
        "soak::",
        "--nocapture",
    ];
    let shown: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!("$ {} cargo {}", shown.join(" "), test.join(" "));
    let status = Command::new(cargo)
        .args(test)
        .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
        .status()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the soak failed ({status})"))
    }
}
