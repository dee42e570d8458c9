//! [`Outcome`]: what the outcome of one attempt of a call means, decided in
//! one place for every part of the SDK that acts on it.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use crate::{REQUEST_ID_HEADER, retry_after};

/// What the outcome of one attempt of a call means, decided in one place for
/// every part of the SDK that acts on it.
///
/// The retry layer asks it whether to try again and which count a retry
/// draws on, the throttle limiter whether to slow down, the errors of
/// `identity-users` and of the facade what to tell the caller
/// (`is_throttled()`, `is_outcome_unknown()`), and the metrics how to label
/// a retry. Before it there were three such tables, and they disagreed
/// on a 500 and a bare 503.
///
/// An answer is judged by its status and headers ([`Outcome::of_answer`]).
/// A failure without an answer is judged by what the layer that failed
/// knows of it, handed over as data ([`Failure`]): this crate sits below the
/// transport, so it cannot name the transport's error types; the transport
/// says which [`Failure`] each of its errors is.
///
/// | outcome | from | did the service act? | tried again |
/// |---|---|---|---|
/// | [`Success`](Outcome::Success) | 1xx, 2xx, 3xx | yes | no |
/// | [`Refused`](Outcome::Refused) | 4xx but 429 | no | no |
/// | [`Throttled`](Outcome::Throttled) | 429 | no | any call, after the wait asked, with no count |
/// | [`Unavailable`](Outcome::Unavailable) | a 503 that is the service's own | no | any call, after the wait asked, as a failure |
/// | [`Overloaded`](Outcome::Overloaded) | 502, 504, a bare 503 | maybe | idempotent calls |
/// | [`Transient`](Outcome::Transient) | 500 and the other 5xx | maybe | idempotent calls |
/// | [`Unknown`](Outcome::Unknown) | no answer after the request may have reached the service | maybe | idempotent calls |
/// | [`NotSent`](Outcome::NotSent) | no connection: the request never left | no | any call |
/// | [`Failed`](Outcome::Failed) | no answer, and another try would fail alike | as the failure says | no |
///
/// A 503 is the service's own refusal, which it did not act on, when it
/// shows it comes from the service: a `Retry-After`, the service's request
/// id, or a problem document. A bare 503 may come from a gateway (a load
/// balancer, Envoy) after it forwarded the request to a service that acted
/// on it. Throttling (429) says the client goes too fast, and is waited
/// out; the service's own 503 says it cannot serve now, and a run of them
/// is a failure like any other, which the retry counts and budget end.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::{HeaderMap, HeaderValue, StatusCode};
/// use identity_call::{Failure, Outcome};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("0.25"));
/// let throttled = Outcome::of_answer(StatusCode::TOO_MANY_REQUESTS, &headers, SystemTime::now());
/// assert_eq!(throttled, Outcome::Throttled { wait: Some(Duration::from_millis(250)) });
/// let unavailable = Outcome::of_answer(StatusCode::SERVICE_UNAVAILABLE, &headers, SystemTime::now());
/// assert_eq!(unavailable, Outcome::Unavailable { wait: Some(Duration::from_millis(250)) });
/// assert!(throttled.is_safe_to_repeat() && throttled.is_worth_retrying());
///
/// let bare_503 = Outcome::of_answer(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), SystemTime::now());
/// assert_eq!(bare_503, Outcome::Overloaded);
/// assert!(bare_503.may_have_acted());
///
/// assert_eq!(Outcome::of_failure(Failure::NotSent), Outcome::NotSent);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// An answer that is not an error: the call did what it asked.
    Success,
    /// The service answered that it will not do this call (a 4xx other
    /// than 429): nothing happened, and the same call would be refused again.
    Refused,
    /// The service refused the call for now, as the client goes too fast
    /// (429), without acting on it, asking to wait `wait` (its
    /// `Retry-After`) when it said. Any call, CreateUser included, may be
    /// sent again.
    Throttled {
        /// How long the service asked to wait, if it said.
        wait: Option<Duration>,
    },
    /// The service said it cannot serve now (its own 503) and did not act on
    /// the call, asking to wait `wait` when it said. Any call may be sent
    /// again.
    Unavailable {
        /// How long the service asked to wait, if it said.
        wait: Option<Duration>,
    },
    /// A gateway, or the service, could not keep up (502, 504, a bare 503):
    /// the service may have acted on the call.
    Overloaded,
    /// The service failed the call (500 or another 5xx): it may have acted.
    Transient,
    /// No answer came after the request may have reached the service (a
    /// dropped connection, an attempt timeout): it may have acted.
    Unknown,
    /// The request provably never reached the service (no connection
    /// could be opened): nothing happened; any call may be sent again.
    NotSent,
    /// No answer, and another try would fail alike (a TLS or proxy failure,
    /// a request that cannot be sent, the call's deadline, no token).
    Failed {
        /// Whether the request may have reached the service.
        may_have_been_sent: bool,
    },
}

/// What a layer knows of a failure that left no answer: the data
/// [`Outcome::of_failure`] judges. The transport maps each of its errors to
/// one of these; an error that no layer of the SDK knows is
/// [`Failure::Final`] and may have been sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The request never left: no connection could be opened, or it timed
    /// out opening. Another try may pass.
    NotSent,
    /// The request may have reached the service, and no answer came (the
    /// connection dropped, the attempt timed out). Another try may pass.
    NoAnswer,
    /// The service asked to wait longer than the call can (the client's
    /// limiter found the wait past the call's deadline or longest wait):
    /// the request was not sent.
    Throttled {
        /// How long the service asked to wait, as far as the client knows.
        wait: Option<Duration>,
    },
    /// Another try would fail alike.
    Final {
        /// Whether the request may have reached the service.
        may_have_been_sent: bool,
    },
}

impl Outcome {
    /// What an answer means, by its status and headers (`now` reads an
    /// HTTP-date `Retry-After`).
    pub fn of_answer(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Outcome {
        match status.as_u16() {
            429 => Outcome::Throttled {
                wait: retry_after(headers, now),
            },
            503 if is_the_services_own(headers) => Outcome::Unavailable {
                wait: retry_after(headers, now),
            },
            502..=504 => Outcome::Overloaded,
            500.. => Outcome::Transient,
            400.. => Outcome::Refused,
            _ => Outcome::Success,
        }
    }

    /// What a failure without an answer means.
    pub fn of_failure(failure: Failure) -> Outcome {
        match failure {
            Failure::NotSent => Outcome::NotSent,
            Failure::NoAnswer => Outcome::Unknown,
            Failure::Throttled { wait } => Outcome::Throttled { wait },
            Failure::Final { may_have_been_sent } => Outcome::Failed { may_have_been_sent },
        }
    }

    /// Whether the call may be sent again whatever it is: the service
    /// provably did not act on it (throttled, unavailable, or never sent).
    pub fn is_safe_to_repeat(self) -> bool {
        matches!(
            self,
            Outcome::Throttled { .. } | Outcome::Unavailable { .. } | Outcome::NotSent
        )
    }

    /// Whether another try may go otherwise: throttling, overload, a
    /// transient failure, no answer, or no connection.
    pub fn is_worth_retrying(self) -> bool {
        matches!(
            self,
            Outcome::Throttled { .. }
                | Outcome::Unavailable { .. }
                | Outcome::Overloaded
                | Outcome::Transient
                | Outcome::Unknown
                | Outcome::NotSent
        )
    }

    /// Whether the service may have acted on the call without the caller
    /// knowing (a failure after the request may have reached it): for a
    /// call that is not idempotent, "outcome unknown".
    pub fn may_have_acted(self) -> bool {
        match self {
            Outcome::Overloaded | Outcome::Transient | Outcome::Unknown => true,
            Outcome::Failed { may_have_been_sent } => may_have_been_sent,
            Outcome::Success
            | Outcome::Refused
            | Outcome::Throttled { .. }
            | Outcome::Unavailable { .. }
            | Outcome::NotSent => false,
        }
    }

    /// How long the service asked to wait, for a throttled or unavailable
    /// outcome.
    pub fn wait(self) -> Option<Duration> {
        match self {
            Outcome::Throttled { wait } | Outcome::Unavailable { wait } => wait,
            _ => None,
        }
    }

    /// A short, stable name (`throttled`, `not_sent`, ...), for traces and
    /// metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Throttled { .. } => "throttled",
            Outcome::Unavailable { .. } => "unavailable",
            Outcome::Overloaded => "overloaded",
            Outcome::Transient => "transient",
            Outcome::Unknown => "unknown",
            Outcome::NotSent => "not_sent",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// Whether an answer shows it comes from the service itself, not from a
/// gateway in front of it.
fn is_the_services_own(headers: &HeaderMap) -> bool {
    let problem = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("problem+json"));
    problem
        || headers.contains_key(http::header::RETRY_AFTER)
        || headers.contains_key(REQUEST_ID_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: u16, headers: &[(&str, &str)]) -> Outcome {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Outcome::of_answer(StatusCode::from_u16(code).unwrap(), &map, SystemTime::now())
    }

    #[test]
    fn statuses() {
        for code in [200, 201, 204, 304] {
            assert_eq!(answer(code, &[]), Outcome::Success, "{code}");
        }
        for code in [400, 401, 403, 404, 408, 409, 422] {
            assert_eq!(answer(code, &[]), Outcome::Refused, "{code}");
        }
        assert_eq!(answer(429, &[]), Outcome::Throttled { wait: None });
        for code in [502, 504] {
            assert_eq!(answer(code, &[]), Outcome::Overloaded, "{code}");
        }
        for code in [500, 501, 505, 507] {
            assert_eq!(answer(code, &[]), Outcome::Transient, "{code}");
        }
    }

    #[test]
    fn a_bare_503_may_come_from_a_gateway_after_the_service_acted() {
        assert_eq!(answer(503, &[]), Outcome::Overloaded);
        assert!(answer(503, &[]).may_have_acted());
        for own in [
            ("lusid-meta-requestid", "0HN:2"),
            ("content-type", "application/problem+json; charset=utf-8"),
        ] {
            assert_eq!(
                answer(503, &[own]),
                Outcome::Unavailable { wait: None },
                "{own:?}"
            );
        }
        assert_eq!(
            answer(503, &[("retry-after", "2")]),
            Outcome::Unavailable {
                wait: Some(Duration::from_secs(2))
            }
        );
    }

    #[test]
    fn the_wait_asked_is_kept() {
        let outcome = answer(429, &[("retry-after", "0.047")]);
        assert_eq!(outcome.wait(), Some(Duration::from_millis(47)));
        assert_eq!(answer(429, &[("retry-after", "soon")]).wait(), None);
    }

    #[test]
    fn what_each_outcome_allows() {
        let all = [
            Outcome::Success,
            Outcome::Refused,
            Outcome::Throttled { wait: None },
            Outcome::Unavailable { wait: None },
            Outcome::Overloaded,
            Outcome::Transient,
            Outcome::Unknown,
            Outcome::NotSent,
            Outcome::Failed {
                may_have_been_sent: true,
            },
            Outcome::Failed {
                may_have_been_sent: false,
            },
        ];
        let table: Vec<_> = all
            .iter()
            .map(|o| {
                (
                    o.is_safe_to_repeat(),
                    o.is_worth_retrying(),
                    o.may_have_acted(),
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                (false, false, false),
                (false, false, false),
                (true, true, false),
                (true, true, false),
                (false, true, true),
                (false, true, true),
                (false, true, true),
                (true, true, false),
                (false, false, true),
                (false, false, false),
            ]
        );
    }

    #[test]
    fn failures_map_to_outcomes() {
        assert_eq!(Outcome::of_failure(Failure::NotSent), Outcome::NotSent);
        assert_eq!(Outcome::of_failure(Failure::NoAnswer), Outcome::Unknown);
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            Outcome::of_failure(Failure::Throttled { wait }),
            Outcome::Throttled { wait }
        );
        assert_eq!(
            Outcome::of_failure(Failure::Final {
                may_have_been_sent: false
            }),
            Outcome::Failed {
                may_have_been_sent: false
            }
        );
    }
}
