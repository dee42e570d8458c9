//! Whether the CLI colours what it writes, and the colours it uses.
//!
//! Colour is for people at a terminal: a stream gets it only when it is a
//! terminal, or when `CLICOLOR_FORCE` is set (to anything but `0`) for a
//! pager that shows colours. `NO_COLOR` set to anything but the empty
//! string turns every colour off, wherever the output goes, and wins over
//! `CLICOLOR_FORCE`: the `error:` and `warning:` prefixes, the progress
//! lines of `import` and `export`, the `-v` logs, and clap's help and usage
//! errors (which follow the same two variables). Tables are never coloured,
//! so nothing in an answer depends on them.
//!
//! Colours are added last, to text already escaped for the terminal
//! ([`crate::escape`]): the escape sequences here are the CLI's own.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Red and bold, for `error:`.
const RED: &str = "\u{1b}[1;31m";
/// Yellow and bold, for `warning:`.
const YELLOW: &str = "\u{1b}[1;33m";
/// Back to plain text.
const RESET: &str = "\u{1b}[0m";

/// Whether a stream that is (or is not) a terminal gets colour, given the
/// values of `NO_COLOR` and `CLICOLOR_FORCE`.
pub(crate) fn wanted(terminal: bool, no_color: Option<&str>, force: Option<&str>) -> bool {
    if no_color.is_some_and(|value| !value.is_empty()) {
        return false;
    }
    terminal || force.is_some_and(|value| !value.is_empty() && value != "0")
}

/// Whether stderr gets colour (decided once).
pub(crate) fn stderr() -> bool {
    static STDERR: OnceLock<bool> = OnceLock::new();
    *STDERR.get_or_init(|| {
        let variable = |name: &str| std::env::var(name).ok();
        wanted(
            std::io::stderr().is_terminal(),
            variable("NO_COLOR").as_deref(),
            variable("CLICOLOR_FORCE").as_deref(),
        )
    })
}

/// `text` with the `error:` and `warning:` that start its lines coloured,
/// when stderr gets colour.
pub(crate) fn paint(text: &str) -> String {
    if stderr() {
        paint_prefixes(text)
    } else {
        text.to_owned()
    }
}

fn paint_prefixes(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("error:") {
            out.push_str(&format!("{RED}error:{RESET}{rest}"));
        } else if let Some(rest) = line.strip_prefix("warning:") {
            out.push_str(&format!("{YELLOW}warning:{RESET}{rest}"));
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_and_only_terminals_get_colour_unless_forced() {
        assert!(wanted(true, None, None));
        assert!(!wanted(false, None, None));
        assert!(wanted(false, None, Some("1")));
        assert!(!wanted(false, None, Some("0")));
        assert!(!wanted(false, None, Some("")));
        assert!(!wanted(true, Some("1"), None));
        assert!(!wanted(true, Some("anything"), Some("1")));
        // An empty NO_COLOR is as if unset.
        assert!(wanted(true, Some(""), None));
    }

    #[test]
    fn only_the_prefixes_are_painted() {
        let text = "error: GetUser failed: 404\n  title: error: not found\nwarning: x\n";
        assert_eq!(
            paint_prefixes(text),
            "\u{1b}[1;31merror:\u{1b}[0m GetUser failed: 404\n  title: error: not found\n\u{1b}[1;33mwarning:\u{1b}[0m x\n"
        );
    }
}
