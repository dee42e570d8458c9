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
/// message tells the concurrency). The rate is rounded ([`rate`]):
/// indicatif's own `{per_sec}` shows four decimals (`135.8455/s`).
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
        "{spinner} {verb} {{human_pos}} {unit} ({{rate}}) {{msg}}"
    )) {
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = out.write_str(&rate(state.per_sec()));
            },
        ));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A rate for a person: a whole number a second from 10 on, one decimal
/// below (`136/s`, `7.5/s`), never the float's noise.
pub(crate) fn rate(per_second: f64) -> String {
    if !per_second.is_finite() || per_second <= 0.0 {
        "0/s".to_owned()
    } else if per_second >= 10.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rounded() {
        assert_eq!(rate(135.8455), "136/s");
        assert_eq!(rate(7.46), "7.5/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(rate(f64::INFINITY), "0/s");
    }
}
