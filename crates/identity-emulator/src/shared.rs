//! What every connection and handler of one emulator shares: the directory,
//! the tokens, the fault rules, the rate limit, the request log, the
//! credentials and the state file's journal. Each piece sits behind its own mutex, held only for a few
//! statements and never across an `.await`.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::faults::{FaultEngine, FaultRule};
use crate::log::RequestLog;
use crate::persist::Journal;
use crate::problems::ApiError;
use crate::ratelimit::RateLimiter;
use crate::state::{Directory, DomainError};
use crate::tokens::TokenStore;
use crate::{EmulatorConfig, EmulatorError, Limits};

/// The axum state of every route.
pub(crate) type AppState = Arc<Shared>;

/// Locks a mutex, carrying on after a panic elsewhere (the data stays usable:
/// every change is made whole under the lock).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The credentials the token endpoint accepts.
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// Why a change was not made or not saved.
enum ChangeError {
    /// The directory refused it (nothing was changed).
    Refused(DomainError),
    /// It was made in memory but could not be written to the state file.
    NotSaved(std::io::Error),
}

/// Everything one emulator shares.
pub(crate) struct Shared {
    directory: Mutex<Directory>,
    rate_limit: Mutex<RateLimiter>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) log: RequestLog,
    pub(crate) credentials: Credentials,
    /// Whether the hooks need a bearer token.
    pub(crate) hooks_need_token: bool,
    /// The bounds on what callers can make it hold.
    pub(crate) limits: Limits,
    journal: Option<Arc<Journal>>,
    started: Instant,
}

impl Shared {
    /// The shared state of an emulator started with `config`, reading the
    /// state file if there is one.
    pub(crate) fn new(config: &EmulatorConfig) -> Result<Self, EmulatorError> {
        let (directory, journal) = match &config.state_file {
            None => {
                let mut directory = Directory::default();
                directory.seed(config.seed_users);
                (directory, None)
            }
            Some(path) => {
                let (directory, journal) = Journal::open(path.clone(), config.seed_users)?;
                (directory, Some(Arc::new(journal)))
            }
        };
        Ok(Self {
            directory: Mutex::new(directory),
            rate_limit: Mutex::new(RateLimiter::new(config.rate_limit)),
            tokens: Mutex::new(TokenStore::new(
                &config.access_tokens,
                config.token_ttl,
                config.limits.max_grants,
            )),
            faults: Mutex::new(FaultEngine::new(config.faults.clone())),
            log: RequestLog::new(
                config.limits.request_log_entries,
                config.limits.request_log_bytes,
            ),
            credentials: Credentials {
                username: config.username.clone(),
                password: config.password.clone(),
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
            },
            hooks_need_token: config.hooks_need_token(),
            limits: config.limits.clone(),
            journal,
            started: Instant::now(),
        })
    }

    /// Milliseconds since the emulator started, on tokio's clock, to the
    /// microsecond.
    pub(crate) fn elapsed_ms(&self) -> f64 {
        // Exact in an f64 for 285 years of microseconds.
        self.started.elapsed().as_micros() as f64 / 1000.0
    }

    /// Reads the directory.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Directory) -> T) -> T {
        read(&lock(&self.directory))
    }

    /// Changes the directory under its lock and, with a state file, writes
    /// the change's journal line (or a snapshot); answers the journal number
    /// to wait for, if any.
    fn apply<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<(T, Option<u64>), ChangeError> {
        let mut directory = lock(&self.directory);
        let result = change(&mut directory);
        let Some(journal) = &self.journal else {
            return result
                .map(|value| (value, None))
                .map_err(ChangeError::Refused);
        };
        let effects = directory.take_effects();
        let seq = if effects.is_empty() {
            None
        } else {
            let seq = journal
                .append(&mut directory, effects)
                .map_err(ChangeError::NotSaved)?;
            Some(seq)
        };
        result
            .map(|value| (value, seq))
            .map_err(ChangeError::Refused)
    }

    fn log_not_saved(&self, error: &std::io::Error) {
        if let Some(journal) = &self.journal {
            tracing::error!(%error, path = %journal.path().display(), "cannot write the state file");
        }
    }

    /// Changes the directory and, with a state file, answers only once the
    /// change is on disk (a failed write answers 500; the change stays in
    /// memory and goes to disk with the next one).
    pub(crate) async fn change<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<T, ApiError> {
        let (value, seq) = match self.apply(change) {
            Ok(done) => done,
            Err(ChangeError::Refused(error)) => return Err(error.into()),
            Err(ChangeError::NotSaved(error)) => {
                self.log_not_saved(&error);
                return Err(ApiError::state_not_saved());
            }
        };
        if let (Some(journal), Some(seq)) = (&self.journal, seq)
            && let Err(error) = journal.sync_through_async(seq).await
        {
            self.log_not_saved(&error);
            return Err(ApiError::state_not_saved());
        }
        Ok(value)
    }

    /// [`Shared::change`] for the synchronous library API: the journal is
    /// flushed on the calling thread.
    pub(crate) fn change_blocking<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<Result<T, DomainError>, EmulatorError> {
        let not_saved = |journal: &Journal, source| EmulatorError::StateFile {
            path: journal.path().to_owned(),
            source,
        };
        let (value, seq) = match self.apply(change) {
            Ok(done) => done,
            Err(ChangeError::Refused(error)) => return Ok(Err(error)),
            Err(ChangeError::NotSaved(source)) => {
                // Only a journal fails to save.
                let path = self
                    .journal
                    .as_ref()
                    .map(|journal| journal.path().to_owned())
                    .unwrap_or_default();
                return Err(EmulatorError::StateFile { path, source });
            }
        };
        if let (Some(journal), Some(seq)) = (&self.journal, seq) {
            journal
                .sync_through(seq)
                .map_err(|source| not_saved(journal, source))?;
        }
        Ok(Ok(value))
    }

    /// Folds the journal into a new snapshot, when it holds any change
    /// (graceful shutdown). Blocking.
    pub(crate) fn compact(&self) -> Result<(), EmulatorError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        let directory = lock(&self.directory);
        if !journal.has_changes() {
            return Ok(());
        }
        journal
            .compact(&directory)
            .map_err(|source| EmulatorError::StateFile {
                path: journal.path().to_owned(),
                source,
            })
    }

    /// Takes one request from `caller`'s rate-limit bucket: `Err` with the
    /// wait when it is empty.
    pub(crate) fn throttle(&self, caller: &str) -> Result<(), Duration> {
        lock(&self.rate_limit).take(caller)
    }

    /// The rate limit in force.
    pub(crate) fn rate_limit(&self) -> Option<NonZeroU32> {
        lock(&self.rate_limit).rate()
    }

    /// Sets the rate limit (every bucket starts full).
    pub(crate) fn set_rate_limit(&self, rate: Option<NonZeroU32>) {
        lock(&self.rate_limit).set_rate(rate);
    }

    /// The fault rules in force.
    pub(crate) fn fault_rules(&self) -> Vec<FaultRule> {
        lock(&self.faults).rules()
    }

    /// Replaces the fault rules (their counts start again).
    pub(crate) fn set_fault_rules(&self, rules: Vec<FaultRule>) {
        *lock(&self.faults) = FaultEngine::new(rules);
    }

    /// Forgets issued tokens, faults and the log (the directory is cleared
    /// by the caller, through `change` or `change_blocking`).
    pub(crate) fn forget_runtime_state(&self) {
        lock(&self.tokens).clear();
        self.set_fault_rules(Vec::new());
        self.log.clear();
    }
}
