//! How the figures are taken: latencies of calls made one after another,
//! throughput with many calls in flight, medians of rounds, and the order
//! the clients take turns in.

use std::time::Duration;

use tokio::time::Instant;

use super::clients::{Api, Kind};

/// The latencies of `calls` GetUser calls made one after another.
pub(crate) async fn sequential_latencies(
    client: &impl Api,
    id: &str,
    calls: usize,
) -> Result<Vec<Duration>, String> {
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        client.get_user(id).await?;
        latencies.push(start.elapsed());
    }
    Ok(latencies)
}

/// GetUser calls per second with `in_flight` calls at all times, for
/// `duration` (calls still in flight at its end are waited for and counted).
pub(crate) async fn throughput(
    client: &impl Api,
    id: &str,
    in_flight: usize,
    duration: Duration,
) -> Result<f64, String> {
    let start = Instant::now();
    let end = start + duration;
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let client = client.clone();
            let id = id.to_owned();
            tokio::spawn(async move {
                let mut calls = 0u64;
                while Instant::now() < end {
                    client.get_user(&id).await?;
                    calls += 1;
                }
                Ok::<_, String>(calls)
            })
        })
        .collect();
    let mut calls = 0u64;
    for worker in workers {
        calls += worker
            .await
            .map_err(|e| format!("a benchmark task failed: {e}"))??;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

/// The time `call` takes, and what it returned.
pub(crate) async fn timed<T>(
    call: impl Future<Output = Result<T, String>>,
) -> Result<(Duration, T), String> {
    let start = Instant::now();
    let value = call.await?;
    Ok((start.elapsed(), value))
}

/// The `p`-th percentile (0 to 100) of sorted values, nearest rank.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The order the clients take turns in at round `round`: rotated each
/// round so that none is always first (drift, a warm cache) or last.
pub(crate) fn turns(round: usize) -> impl Iterator<Item = Kind> {
    (0..Kind::ALL.len()).map(move |i| Kind::ALL[(round + i) % Kind::ALL.len()])
}

/// Values gathered per client over the rounds, one per round.
#[derive(Default)]
pub(crate) struct PerClient {
    values: [Vec<f64>; 3],
}

impl PerClient {
    pub(crate) fn push(&mut self, kind: Kind, value: f64) {
        self.values[index(kind)].push(value);
    }

    /// The median of each client's values (`None` for a client with none).
    pub(crate) fn medians(&self) -> [Option<f64>; 3] {
        self.values
            .each_ref()
            .map(|values| (!values.is_empty()).then(|| median(values)))
    }

    /// Each client's value over the floor's, round by round, and the median
    /// of those: a ratio taken within a round (the two measured seconds
    /// apart) is less moved by what else the machine does than the ratio of
    /// two medians.
    pub(crate) fn ratios_to_floor(&self) -> [Option<f64>; 3] {
        let floor = &self.values[index(Kind::Floor)];
        self.values.each_ref().map(|values| {
            let ratios: Vec<f64> = values
                .iter()
                .zip(floor)
                .filter(|(_, floor)| **floor != 0.0)
                .map(|(value, floor)| value / floor)
                .collect();
            (!ratios.is_empty()).then(|| median(&ratios))
        })
    }
}

/// The position of a client in [`Kind::ALL`].
pub(crate) fn index(kind: Kind) -> usize {
    match kind {
        Kind::Floor => 0,
        Kind::Sdk => 1,
        Kind::Reqwest => 2,
    }
}

/// Milliseconds, for display and JSON.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Microseconds, for display and JSON.
pub(crate) fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn every_client_takes_every_turn() {
        for round in 0..3 {
            let order: Vec<Kind> = turns(round).collect();
            assert_eq!(order.len(), 3);
            assert_eq!(order[0], Kind::ALL[round]);
            assert!(Kind::ALL.iter().all(|kind| order.contains(kind)));
        }
    }

    #[test]
    fn ratios_are_taken_round_by_round() {
        let mut rounds = PerClient::default();
        for (floor, sdk) in [(10.0, 11.0), (20.0, 22.0), (40.0, 40.0)] {
            rounds.push(Kind::Floor, floor);
            rounds.push(Kind::Sdk, sdk);
        }
        let ratios = rounds.ratios_to_floor();
        assert_eq!(ratios[index(Kind::Sdk)], Some(1.1));
        assert_eq!(ratios[index(Kind::Reqwest)], None);
        assert_eq!(rounds.medians()[index(Kind::Sdk)], Some(22.0));
    }
}
