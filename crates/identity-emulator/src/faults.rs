//! Fault injection: the rules a test sets, and the deterministic engine that
//! decides, call by call, which fault (if any) a request meets.
//!
//! A rule names a contract operation (`"CreateUser"`, `"Token"` for the token
//! endpoint) or none (every API and token call), a [`Fault`] and a
//! [`FaultWhen`]. Rules are tried in order; the first one that fires is
//! applied, and a rule only counts the calls that reach it (a call faulted by
//! an earlier rule is not seen by later ones). Hooks (`/_emulator/...`) never
//! meet faults.
//!
//! ```
//! use identity_emulator::{Fault, FaultRule, FaultWhen};
//!
//! let rule: FaultRule = serde_json::from_str(
//!     r#"{"operation":"CreateUser","fault":{"kind":"status","status":429,"retryAfter":"1"},
//!         "when":{"kind":"next","n":2}}"#,
//! )?;
//! assert_eq!(rule.operation.as_deref(), Some("CreateUser"));
//! assert_eq!(rule.fault, Fault::Status { status: 429, retry_after: Some("1".into()) });
//! assert_eq!(rule.when, FaultWhen::Next { n: 2 });
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// The longest `delay` fault: one day, in milliseconds.
///
/// A delay stands for a slow or hung service; a day outlasts any client
/// timeout worth testing (the official SDKs' default total timeout is 30
/// minutes) and keeps the wait's deadline far from the end of any clock,
/// whatever the timer does with longer ones.
pub const MAX_FAULT_DELAY_MS: u64 = 24 * 60 * 60 * 1000;

/// One fault rule: which calls, what happens to them, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Contract operation name (`"GetUser"`, ...), `"Token"` for the token
    /// endpoint, or `None` for every API and token call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// What happens to a call the rule fires on.
    pub fault: Fault,
    /// Which of the matching calls the rule fires on (default: always).
    #[serde(default)]
    pub when: FaultWhen,
}

impl FaultRule {
    /// A rule that fires on every call of `operation` (`None`: every call).
    pub fn new(operation: Option<&str>, fault: Fault) -> Self {
        Self {
            operation: operation.map(str::to_owned),
            fault,
            when: FaultWhen::Always,
        }
    }

    /// The same rule, firing `when` instead.
    pub fn when(mut self, when: FaultWhen) -> Self {
        self.when = when;
        self
    }

    /// Checks that the rule can ever be applied as written: a status in
    /// 400..=599, a `retryAfter` that is a valid header value, a delay of
    /// at most [`MAX_FAULT_DELAY_MS`], `n` at least 1, a rate within 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        match &self.fault {
            Fault::Status { status, .. } | Fault::StatusAfterProcessing { status }
                if !(400..=599).contains(status) =>
            {
                return Err(format!("fault status {status} is not a 4xx or 5xx status"));
            }
            Fault::Status {
                retry_after: Some(retry_after),
                ..
            } if http::HeaderValue::from_str(retry_after).is_err() => {
                return Err(format!(
                    "retryAfter {retry_after:?} cannot be sent as a header value"
                ));
            }
            Fault::Delay { ms } if *ms > MAX_FAULT_DELAY_MS => {
                return Err(format!(
                    "delay of {ms} ms is more than the maximum of {MAX_FAULT_DELAY_MS} ms (one day)"
                ));
            }
            _ => {}
        }
        match self.when {
            FaultWhen::Every { n: 0 } | FaultWhen::Next { n: 0 } => {
                Err("`n` must be at least 1".to_owned())
            }
            FaultWhen::Rate { rate, .. } if !(0.0..=1.0).contains(&rate) => {
                Err(format!("rate {rate} is not within 0..=1"))
            }
            _ => Ok(()),
        }
    }
}

/// What happens to a call a rule fires on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fault {
    /// Answer this status at once, without processing the call. The body is a
    /// problem-details document (an OAuth2 error for the token endpoint);
    /// `Retry-After` is sent only when given.
    Status {
        /// The HTTP status (429, 500, 502, 503, 504, ...).
        status: u16,
        /// The `Retry-After` header value, as sent (`"1"`, `"0.5"`, an HTTP date).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Wait this long (on tokio's clock), then process the call normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Close the connection without processing the call or answering.
    CloseBeforeProcessing,
    /// Process the call (its change is made), then close the connection
    /// instead of answering.
    CloseAfterProcessing,
    /// Process the call (its change is made), then answer this status
    /// instead of the call's own answer, bare, as a gateway in front of the
    /// service would: a short text body, no problem document, no request id,
    /// no `Retry-After`.
    StatusAfterProcessing {
        /// The HTTP status (502, 503, 504, ...).
        status: u16,
    },
}

impl Fault {
    /// The fault's `kind`, as in its JSON form (`"closeAfterProcessing"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Status { .. } => "status",
            Fault::Delay { .. } => "delay",
            Fault::CloseBeforeProcessing => "closeBeforeProcessing",
            Fault::CloseAfterProcessing => "closeAfterProcessing",
            Fault::StatusAfterProcessing { .. } => "statusAfterProcessing",
        }
    }
}

/// Which of the calls matching a rule it fires on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultWhen {
    /// Every matching call.
    #[default]
    Always,
    /// Every `n`th matching call (the `n`th, `2n`th, ...).
    Every {
        /// The period, at least 1.
        n: u64,
    },
    /// The next `n` matching calls, then never again.
    Next {
        /// How many calls, at least 1.
        n: u64,
    },
    /// Each matching call with probability `rate`, drawn from a generator
    /// seeded with `seed`, so a run is repeatable.
    Rate {
        /// Probability within 0..=1.
        rate: f64,
        /// Seed of the generator.
        seed: u64,
    },
}

/// A rule with its running count and, for rates, its generator.
#[derive(Debug)]
struct ArmedRule {
    rule: FaultRule,
    seen: u64,
    rng: fastrand::Rng,
}

impl ArmedRule {
    fn new(rule: FaultRule) -> Self {
        let seed = match rule.when {
            FaultWhen::Rate { seed, .. } => seed,
            _ => 0,
        };
        Self {
            rule,
            seen: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    fn matches(&self, operation: Option<&str>) -> bool {
        match &self.rule.operation {
            None => true,
            Some(wanted) => operation == Some(wanted.as_str()),
        }
    }

    /// Counts one matching call and says whether the rule fires on it.
    fn fires(&mut self) -> bool {
        self.seen = self.seen.saturating_add(1);
        match self.rule.when {
            FaultWhen::Always => true,
            FaultWhen::Every { n } => n != 0 && self.seen.is_multiple_of(n),
            FaultWhen::Next { n } => self.seen <= n,
            FaultWhen::Rate { rate, .. } => self.rng.f64() < rate,
        }
    }
}

/// The rules in force and their state. Not thread-safe by itself: the
/// emulator keeps it behind a mutex.
#[derive(Debug, Default)]
pub(crate) struct FaultEngine {
    rules: Vec<ArmedRule>,
}

impl FaultEngine {
    /// An engine with these rules, all counts at zero. Rules that cannot fire
    /// as written (see [`FaultRule::validate`]) are kept but never fire
    /// beyond what their numbers allow (`n` = 0 never fires).
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        Self {
            rules: rules.into_iter().map(ArmedRule::new).collect(),
        }
    }

    /// The rules as set.
    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules.iter().map(|armed| armed.rule.clone()).collect()
    }

    /// The fault this call meets, if any (`operation` is `None` for a path
    /// that is no contract operation: only rules without an operation apply).
    pub(crate) fn decide(&mut self, operation: Option<&str>) -> Option<Fault> {
        self.rules
            .iter_mut()
            .filter(|armed| armed.matches(operation))
            .find_map(|armed| armed.fires().then(|| armed.rule.fault.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Fault {
        Fault::Status {
            status: code,
            retry_after: None,
        }
    }

    fn pattern(engine: &mut FaultEngine, operation: &str, calls: usize) -> Vec<bool> {
        (0..calls)
            .map(|_| engine.decide(Some(operation)).is_some())
            .collect()
    }

    #[test]
    fn every_nth_call_fires() {
        let rule = FaultRule::new(Some("GetUser"), status(503)).when(FaultWhen::Every { n: 3 });
        let mut engine = FaultEngine::new(vec![rule]);
        assert_eq!(
            pattern(&mut engine, "GetUser", 7),
            [false, false, true, false, false, true, false]
        );
    }

    #[test]
    fn next_n_calls_fire_then_never() {
        let rule = FaultRule::new(None, status(500)).when(FaultWhen::Next { n: 2 });
        let mut engine = FaultEngine::new(vec![rule]);
        assert_eq!(
            pattern(&mut engine, "ListUsers", 4),
            [true, true, false, false]
        );
    }

    #[test]
    fn rules_apply_only_to_their_operation() {
        let mut engine = FaultEngine::new(vec![FaultRule::new(Some("Token"), status(429))]);
        assert_eq!(engine.decide(Some("GetUser")), None);
        assert_eq!(engine.decide(None), None);
        assert_eq!(engine.decide(Some("Token")), Some(status(429)));
    }

    #[test]
    fn seeded_rates_repeat_and_follow_the_rate() {
        let rule = FaultRule::new(None, status(503)).when(FaultWhen::Rate {
            rate: 0.25,
            seed: 7,
        });
        let first = pattern(&mut FaultEngine::new(vec![rule.clone()]), "GetUser", 400);
        let second = pattern(&mut FaultEngine::new(vec![rule]), "GetUser", 400);
        assert_eq!(first, second);
        let fired = first.iter().filter(|fired| **fired).count();
        assert!((60..=140).contains(&fired), "{fired} of 400 at rate 0.25");
    }

    #[test]
    fn first_firing_rule_wins_and_later_rules_do_not_count_it() {
        let first = FaultRule::new(Some("GetUser"), status(429)).when(FaultWhen::Next { n: 1 });
        let second = FaultRule::new(Some("GetUser"), status(500)).when(FaultWhen::Next { n: 1 });
        let mut engine = FaultEngine::new(vec![first, second]);
        assert_eq!(engine.decide(Some("GetUser")), Some(status(429)));
        assert_eq!(engine.decide(Some("GetUser")), Some(status(500)));
        assert_eq!(engine.decide(Some("GetUser")), None);
    }

    #[test]
    fn json_forms_round_trip() {
        let text = r#"{"rules":[
            {"operation":"CreateUser","fault":{"kind":"status","status":429,"retryAfter":"1"},"when":{"kind":"next","n":2}},
            {"fault":{"kind":"delay","ms":250},"when":{"kind":"every","n":2}},
            {"operation":"Token","fault":{"kind":"closeBeforeProcessing"}},
            {"fault":{"kind":"closeAfterProcessing"},"when":{"kind":"rate","rate":0.5,"seed":3}}
        ]}"#;
        #[derive(Deserialize)]
        struct Rules {
            rules: Vec<FaultRule>,
        }
        let rules = serde_json::from_str::<Rules>(text).unwrap().rules;
        assert_eq!(rules[1].fault, Fault::Delay { ms: 250 });
        assert_eq!(rules[2].when, FaultWhen::Always);
        assert_eq!(rules[3].fault, Fault::CloseAfterProcessing);
        for rule in rules {
            let again: FaultRule =
                serde_json::from_value(serde_json::to_value(&rule).unwrap()).unwrap();
            assert_eq!(again, rule);
        }
    }

    #[test]
    fn validate_rejects_rules_that_cannot_work() {
        assert!(FaultRule::new(None, status(200)).validate().is_err());
        assert!(
            FaultRule::new(None, status(503))
                .when(FaultWhen::Every { n: 0 })
                .validate()
                .is_err()
        );
        let rate = FaultWhen::Rate { rate: 1.5, seed: 0 };
        assert!(
            FaultRule::new(None, status(503))
                .when(rate)
                .validate()
                .is_err()
        );
        assert!(
            FaultRule::new(None, Fault::Delay { ms: 5 })
                .validate()
                .is_ok()
        );
        let delay = |ms| FaultRule::new(None, Fault::Delay { ms }).validate();
        assert!(delay(MAX_FAULT_DELAY_MS).is_ok());
        assert!(delay(MAX_FAULT_DELAY_MS + 1).is_err());
        assert!(delay(u64::MAX).unwrap_err().contains("maximum"));
        let retry_after = |value: &str| {
            FaultRule::new(
                None,
                Fault::Status {
                    status: 503,
                    retry_after: Some(value.to_owned()),
                },
            )
            .validate()
        };
        assert!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT").is_ok());
        assert!(retry_after("1\r\nSet-Cookie: x=y").is_err());
    }
}
