//! The shells' completion scripts, run by the shells: bash completes the
//! subcommands and flags of `fbn-identity` at every depth (the script sourced,
//! `COMP_WORDS` and `COMP_CWORD` set, its function called as bash's
//! `complete -F` calls it). zsh, fish and PowerShell are run where they are
//! installed; where one is not, the test says so and checks nothing of it.

use std::path::Path;
use std::process::Command;

use crate::support::run_bare;

/// The script of `shell`, written into `dir`.
fn script(dir: &Path, shell: &str) -> std::path::PathBuf {
    let run = run_bare(dir, &["completions", shell]);
    run.ok();
    let path = dir.join(format!("fbn-identity.{shell}"));
    std::fs::write(&path, &run.stdout).unwrap();
    path
}

/// Whether `program` runs on this machine.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// What bash offers for the command line `words`, the last being the word
/// under the cursor (empty for a TAB after a space).
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', "'\\''")))
        .collect();
    let cword = words.len() - 1;
    let program = format!(
        r#"source '{script}'
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
function=$(complete -p fbn-identity | sed -E 's/.*-F ([^ ]+) .*/\1/')
"$function" fbn-identity "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script = script.display(),
        words = quoted.join(" "),
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs (it is on every machine the tests run on)");
    assert!(
        output.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_flags_at_every_depth() {
    let dir = tempfile::tempdir().unwrap();
    let script = script(dir.path(), "bash");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["fbn-identity", ""],
            &["users", "schema", "completions", "demo"],
        ),
        (&["fbn-identity", "us"], &["users"]),
        (
            &["fbn-identity", "users", ""],
            &["list", "get-by-login", "import", "export", "reset-password"],
        ),
        (
            &["fbn-identity", "users", "import", "--"],
            &[
                "--dry-run",
                "--report",
                "--format",
                "--longest-wait",
                "--json",
            ],
        ),
        (
            &["fbn-identity", "users", "import", "--format", ""],
            &["jsonl", "csv"],
        ),
        (
            &["fbn-identity", "users", "export", "--include-"],
            &["--include-deactivated", "--include-roles"],
        ),
        (
            &["fbn-identity", "users", "get-by-login", "--"],
            &["--help", "--base-url"],
        ),
        (&["fbn-identity", "schema", "set", "--"], &["--property"]),
        (
            &["fbn-identity", "completions", ""],
            &["bash", "zsh", "fish", "powershell"],
        ),
    ];
    for (words, expected) in cases {
        let offered = bash_completes(&script, words);
        for word in *expected {
            assert!(
                offered.iter().any(|offer| offer == word),
                "{words:?}: {word} not offered, only {offered:?}"
            );
        }
    }
    // Nothing of another command leaks in.
    let offered = bash_completes(&script, &["fbn-identity", "schema", ""]);
    assert!(
        !offered.iter().any(|offer| offer == "import"),
        "{offered:?}"
    );
}

#[test]
fn the_other_shells_complete_where_they_are_installed() {
    let dir = tempfile::tempdir().unwrap();
    // fish and PowerShell are asked for the subcommands of `users`.
    let runs = [
        ("fish", "fish", {
            let script = script(dir.path(), "fish");
            vec![
                "--no-config".to_owned(),
                "-c".to_owned(),
                format!(
                    "source '{}'; complete --do-complete 'fbn-identity users '",
                    script.display()
                ),
            ]
        }),
        ("powershell", "pwsh", {
            let script = script(dir.path(), "powershell");
            vec![
                "-NoProfile".to_owned(),
                "-Command".to_owned(),
                format!(
                    ". '{}'; (TabExpansion2 -inputScript 'fbn-identity users ' -cursorColumn 19).CompletionMatches.CompletionText",
                    script.display()
                ),
            ]
        }),
    ];
    for (shell, program, args) in runs {
        if !installed(program) {
            eprintln!("skipped: {program} is not installed, its script ({shell}) is not checked");
            continue;
        }
        let output = Command::new(program).args(&args).output().unwrap();
        let offered = String::from_utf8_lossy(&output.stdout);
        for word in ["list", "import", "export", "get-by-login"] {
            assert!(
                offered
                    .lines()
                    .any(|line| line.split('\t').next() == Some(word)),
                "{shell}: {word} not offered: {offered}"
            );
        }
    }
    // zsh: its completion system needs a terminal; the script is checked
    // for syntax only, and says so.
    if installed("zsh") {
        let script = script(dir.path(), "zsh");
        let output = Command::new("zsh").arg("-n").arg(&script).output().unwrap();
        assert!(
            output.status.success(),
            "zsh: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("zsh: the script's syntax only is checked (its completion needs a terminal)");
    } else {
        eprintln!("skipped: zsh is not installed, its script is not checked");
    }
    run_bare(dir.path(), &["completions", "tcsh"]).expect_code(2);
}
