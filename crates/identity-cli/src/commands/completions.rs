//! `fbn-identity completions SHELL`: the shell's completion script, made by
//! clap_complete from the command line's own definition, so that it cannot
//! drift from the real commands and flags.
//!
//! clap_complete (4.6.12, the latest release) writes a bash script that
//! completes nothing past the first word for a binary whose name has a
//! hyphen (clap-rs/clap#6421): its loop names the state of `fbn-identity
//! users` `fbn__identity__subcmd__users`, and its `case` arms
//! `fbn__subcmd__identity__subcmd__users`, so no arm ever matches. The arms
//! are renamed here as the loop names them ([`fix_bash`]); once a release
//! writes them alike there is nothing to rename. The test of the script
//! runs bash on it (`tests/cli/completions.rs`). The zsh, fish and
//! PowerShell scripts keep the name as it is and need nothing.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::errors::CliError;

/// The binary's name, as the scripts complete it.
const BIN: &str = "fbn-identity";

/// Prints the completion script of `shell` on stdout.
pub(crate) fn run(shell: Shell) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(script(shell).as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The completion script of `shell`.
pub(crate) fn script(shell: Shell) -> String {
    // Into memory first: the generators panic on a failed write, and a
    // closed stdout is to end the command quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        Shell::Bash => fix_bash(&script),
        _ => script,
    }
}

/// The bash script with its `case` arms named as its loop names the states
/// (see the module docs).
fn fix_bash(script: &str) -> String {
    let loop_name = BIN.replace('-', "__");
    let arm_name = BIN.replace('-', "__subcmd__");
    script.replace(
        &format!("{arm_name}__subcmd__"),
        &format!("{loop_name}__subcmd__"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_the_bash_loop_names_has_its_arm() {
        let script = script(Shell::Bash);
        let states: Vec<&str> = script
            .lines()
            .filter_map(|line| line.trim().strip_prefix("cmd=\""))
            .filter_map(|rest| rest.strip_suffix('"'))
            .filter(|state| !state.is_empty())
            .collect();
        assert!(
            states.contains(&"fbn__identity__subcmd__users"),
            "{states:?}"
        );
        for state in states {
            assert!(
                script
                    .lines()
                    .any(|line| line.trim() == format!("{state})")),
                "no arm for {state}"
            );
        }
    }
}
