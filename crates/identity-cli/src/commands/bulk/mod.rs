//! What the bulk commands (`users import`, `users sync`) share: their
//! input read as a stream ([`source`]), their `--report` that resumes
//! ([`report`]), the breaker that stops a run when the service is gone
//! ([`breaker`]), and why a run stopped, with the exit it makes ([`stop`]).

pub(crate) mod breaker;
pub(crate) mod report;
pub(crate) mod source;
pub(crate) mod stop;
