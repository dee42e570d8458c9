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

/// A counter of unknown length: `{verb} N {unit} (R/s) MESSAGE`, e.g.
/// `exported N users` for an export, `imported N lines` for an import (whose
/// message tells the concurrency).
pub(crate) fn counter(verb: &str, unit: &str) -> ProgressBar {
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
        "{spinner} {verb} {{human_pos}} {unit} ({{per_sec}}) {{msg}}"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
