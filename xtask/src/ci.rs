//! `cargo xtask ci`: the checks every change must pass, in the order that
//! fails fastest: formatting, the SDK's `testing` feature free of the
//! emulator's command line, lints (clippy's `incompatible_msrv` among
//! them, so the declared rust-version holds), the tests (the examples are
//! built with them; the transport's TLS tests also under the trust-root
//! features the workspace does not enable), the docs with every rustdoc warning an error, and every
//! publishable crate packaged and built from its packaged sources alone.

use std::process::{Command, Stdio};

/// What a program's tests must not pull in through the SDK's `testing`
/// feature: the emulator's command line (its `cli` feature).
const NOT_IN_TESTING: [&str; 2] = ["clap", "tracing-subscriber"];

/// Runs the format check, the dependency check, clippy, the whole test
/// suite, the docs and the packaging.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    testing_feature_is_lean()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace"])?;
    // The transport's choices of trust roots that the workspace's own
    // features do not build: the Mozilla roots, and none at all.
    for features in [&["--features", "webpki-roots"][..], &[]] {
        let mut args = vec![
            "test",
            "-p",
            "identity-transport",
            "--no-default-features",
            "--lib",
        ];
        args.extend_from_slice(features);
        args.push("tls");
        cargo(&args)?;
    }
    cargo_with(
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "xtask",
        "--exclude",
        "identity-e2e",
        "--allow-dirty",
    ])?;
    Ok(())
}

/// `cargo tree -p finbourne-identity --features testing -e normal` names
/// none of [`NOT_IN_TESTING`]: the emulator comes without its `cli`; nor
/// does the blocking test emulator's (`--features testing,blocking`).
fn testing_feature_is_lean() -> Result<(), String> {
    for features in ["testing", "testing,blocking"] {
        features_are_lean(features)?;
    }
    Ok(())
}

/// `cargo tree -p finbourne-identity --features FEATURES -e normal` names
/// none of [`NOT_IN_TESTING`].
fn features_are_lean(features: &str) -> Result<(), String> {
    let args = [
        "tree",
        "-p",
        "finbourne-identity",
        "--features",
        features,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ];
    eprintln!("$ cargo {}", args.join(" "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed ({})",
            args.join(" "),
            output.status
        ));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let found: Vec<&str> = tree
        .lines()
        .filter(|line| {
            let name = line.split_whitespace().next().unwrap_or_default();
            NOT_IN_TESTING.contains(&name)
        })
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "finbourne-identity's `{features}` features pull in {found:?}: its identity-emulator \
             must come without the `cli` feature (default-features = false)"
        ))
    }
}

/// Runs `cargo` with `args`, failing when it does.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with(args, &[])
}

/// Runs `cargo` with `args` and the environment variables `env`.
fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}
