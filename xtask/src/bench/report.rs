//! The figures of a run: the table printed at the end, and the same as
//! JSON under `target/bench/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::clients::Kind;
use super::measure::{PerClient, index};

/// What a figure counts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unit {
    Micros,
    Millis,
    PerSecond,
    /// Bytes, as a multiple of the answer's body.
    BodyMultiple,
    Count,
    Bytes,
}

impl Unit {
    fn lower_is_better(self) -> bool {
        !matches!(self, Unit::PerSecond)
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::Millis => "ms",
            Unit::PerSecond => "calls/s",
            Unit::BodyMultiple => "x body",
            Unit::Count => "count",
            Unit::Bytes => "bytes",
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Unit::Micros => format!("{value:.1} us"),
            Unit::Millis => format!("{value:.2} ms"),
            Unit::PerSecond => format!("{value:.0}/s"),
            Unit::BodyMultiple => format!("{value:.2}x"),
            Unit::Count | Unit::Bytes => format!("{value:.0}"),
        }
    }
}

/// The targets a figure is held to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Goal {
    /// sdk/floor at most this (lower is better) or at least this (higher).
    pub(crate) vs_floor: Option<f64>,
    /// The SDK no worse than reqwest.
    pub(crate) vs_reqwest: bool,
    /// The SDK's figure at most this.
    pub(crate) sdk_at_most: Option<f64>,
}

/// One figure of each client.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) metric: &'static str,
    pub(crate) unit: Unit,
    /// floor, sdk, reqwest.
    pub(crate) values: [Option<f64>; 3],
    /// Each over the floor's.
    pub(crate) ratios: [Option<f64>; 3],
    pub(crate) goal: Goal,
}

impl Row {
    /// A row of one value per client, its ratios those values' ratios.
    pub(crate) fn new(
        scenario: &'static str,
        metric: &'static str,
        unit: Unit,
        values: [Option<f64>; 3],
    ) -> Self {
        let floor = values[index(Kind::Floor)].filter(|floor| *floor != 0.0);
        let ratios = values.map(|value| value.zip(floor).map(|(value, floor)| value / floor));
        Self {
            scenario,
            metric,
            unit,
            values,
            ratios,
            goal: Goal::default(),
        }
    }

    /// A row of rounds: the median of each client's rounds, and the median
    /// of its per-round ratios to the floor.
    pub(crate) fn measured(
        scenario: &'static str,
        metric: &'static str,
        unit: Unit,
        rounds: &PerClient,
    ) -> Self {
        Self {
            ratios: rounds.ratios_to_floor(),
            ..Self::new(scenario, metric, unit, rounds.medians())
        }
    }

    pub(crate) fn goal(mut self, goal: Goal) -> Self {
        self.goal = goal;
        self
    }

    fn value(&self, kind: Kind) -> Option<f64> {
        self.values[index(kind)]
    }

    fn ratio(&self, kind: Kind) -> Option<f64> {
        self.ratios[index(kind)]
    }

    /// The goals this row misses (empty: met, or none set).
    fn misses(&self) -> Vec<String> {
        let mut misses = Vec::new();
        let lower = self.unit.lower_is_better();
        let no_worse = |sdk: f64, other: f64| if lower { sdk <= other } else { sdk >= other };
        if let (Some(target), Some(ratio)) = (self.goal.vs_floor, self.ratio(Kind::Sdk))
            && !no_worse(ratio, target)
        {
            let sign = if lower { "<=" } else { ">=" };
            misses.push(format!("sdk/floor {ratio:.2}, goal {sign} {target:.2}"));
        }
        if self.goal.vs_reqwest
            && let (Some(sdk), Some(reqwest)) = (self.ratio(Kind::Sdk), self.ratio(Kind::Reqwest))
            && !no_worse(sdk, reqwest)
        {
            misses.push("behind reqwest".to_owned());
        }
        if let (Some(most), Some(sdk)) = (self.goal.sdk_at_most, self.value(Kind::Sdk))
            && sdk > most
        {
            misses.push(format!(
                "sdk {}, goal <= {}",
                self.unit.show(sdk),
                self.unit.show(most)
            ));
        }
        misses
    }

    fn has_goal(&self) -> bool {
        self.goal.vs_floor.is_some() || self.goal.vs_reqwest || self.goal.sdk_at_most.is_some()
    }

    fn to_json(&self) -> Value {
        let mut values = serde_json::Map::new();
        for kind in Kind::ALL {
            if let Some(value) = self.value(kind) {
                values.insert(kind.name().to_owned(), json!(value));
            }
        }
        json!({
            "scenario": self.scenario,
            "metric": self.metric,
            "unit": self.unit.name(),
            "lowerIsBetter": self.unit.lower_is_better(),
            "values": values,
            "sdkOverFloor": self.ratio(Kind::Sdk),
            "reqwestOverFloor": self.ratio(Kind::Reqwest),
            "goal": self.has_goal().then(|| json!({
                "sdkOverFloor": self.goal.vs_floor,
                "noWorseThanReqwest": self.goal.vs_reqwest,
                "sdkAtMost": self.goal.sdk_at_most,
                "met": self.misses().is_empty(),
            })),
        })
    }
}

/// A figure outside the three-client table (token requests, the emulator).
#[derive(Clone, Debug)]
pub(crate) struct Note {
    pub(crate) name: &'static str,
    pub(crate) text: String,
    pub(crate) met: Option<bool>,
    pub(crate) json: Value,
}

/// Everything a run measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<Note>,
    /// Context: mode, sizes, settings.
    pub(crate) context: serde_json::Map<String, Value>,
}

impl Report {
    /// The table, as printed.
    pub(crate) fn table(&self) -> String {
        let header = [
            "scenario",
            "figure",
            "floor",
            "sdk",
            "reqwest",
            "sdk/floor",
            "reqwest/floor",
            "goal",
        ];
        let mut lines: Vec<[String; 8]> = vec![header.map(str::to_owned)];
        for row in &self.rows {
            let show = |kind| row.value(kind).map_or("-".to_owned(), |v| row.unit.show(v));
            let ratio = |kind| {
                row.ratio(kind)
                    .map_or("-".to_owned(), |r| format!("{r:.2}"))
            };
            let goal = if !row.has_goal() {
                String::new()
            } else {
                let misses = row.misses();
                if misses.is_empty() {
                    "met".to_owned()
                } else {
                    format!("MISSED: {}", misses.join("; "))
                }
            };
            lines.push([
                row.scenario.to_owned(),
                row.metric.to_owned(),
                show(Kind::Floor),
                show(Kind::Sdk),
                show(Kind::Reqwest),
                ratio(Kind::Sdk),
                ratio(Kind::Reqwest),
                goal,
            ]);
        }
        let mut widths = [0usize; 8];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let said = |key: &str| {
            self.context.get(key).map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
        };
        if let (Some(mode), Some(date), Some(machine)) =
            (said("mode"), said("date"), said("machine"))
        {
            let load = said("loadAverage").unwrap_or_default();
            let _ = writeln!(
                out,
                "cargo xtask bench ({mode}), {date}, {machine}, load average before/after {load}"
            );
        }
        for (n, line) in lines.iter().enumerate() {
            for (column, cell) in line.iter().enumerate() {
                let width = widths[column];
                // Names to the left, figures to the right.
                let _ = if column < 2 || column == 7 {
                    write!(out, "{cell:<width$}  ")
                } else {
                    write!(out, "{cell:>width$}  ")
                };
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
            if n == 0 {
                let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                out.push_str(&"-".repeat(total.min(160)));
                out.push('\n');
            }
        }
        out.push_str(
            "(figures: medians of the rounds; ratios: medians of the ratios taken within each round)\n",
        );
        for note in &self.notes {
            let verdict = match note.met {
                Some(true) => " (goal met)",
                Some(false) => " (goal MISSED)",
                None => "",
            };
            let _ = writeln!(out, "{}: {}{verdict}", note.name, note.text);
        }
        out
    }

    /// The report as JSON.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "context": self.context,
            "rows": self.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "notes": self.notes.iter().map(|note| json!({
                "name": note.name,
                "text": note.text,
                "goalMet": note.met,
                "figures": note.json,
            })).collect::<Vec<_>>(),
        })
    }

    /// Writes the JSON to `dir/name` and returns its path.
    pub(crate) fn write_json(&self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        write_json(dir, name, &self.to_json())
    }
}

/// Writes `value` as `dir/name`, pretty-printed; returns the file's path.
pub(crate) fn write_json(dir: &Path, name: &str, value: &Value) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    Ok(path)
}
