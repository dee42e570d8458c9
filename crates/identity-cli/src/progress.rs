//! Progress lines on stderr for the long commands (`users import`, `users
//! export`): shown only when stderr is a terminal, never in a pipe or a
//! file, and coloured only when [`color::stderr`] allows.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::color;

/// Whether progress lines are drawn: stderr is a terminal.
pub(crate) fn shown() -> bool {
    std::io::stderr().is_terminal()
}

/// A counter of unknown length: `{verb} N users (R/s)`, e.g. for an export.
pub(crate) fn counter(verb: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let spinner = if color::stderr() {
        "{spinner:.cyan}"
    } else {
        "{spinner}"
    };
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{spinner} {verb} {{human_pos}} users ({{per_sec}})"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar of `total` steps: `{verb} [bar] N/TOTAL (R/s, ETA) MESSAGE`, e.g.
/// for an import, whose message tells the concurrency.
pub(crate) fn bar(verb: &str, total: usize) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar_style = if color::stderr() {
        "{bar:30.cyan/blue}"
    } else {
        "{bar:30}"
    };
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{verb} {bar_style} {{pos}}/{{len}} ({{per_sec}}, {{eta}} left) {{msg}}"
    )) {
        bar.set_style(style);
    }
    bar
}
