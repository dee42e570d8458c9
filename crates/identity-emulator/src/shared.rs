//! What every connection and handler of one emulator shares: the directory,
//! the tokens, the fault rules, the request log, the credentials and the
//! state file. Each piece sits behind its own mutex, held only for a few
//! statements and never across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::Instant;

use crate::faults::{FaultEngine, FaultRule};
use crate::log::RequestLog;
use crate::persist::Persister;
use crate::problems::ApiError;
use crate::state::{Directory, DomainError};
use crate::tokens::TokenStore;
use crate::{EmulatorConfig, EmulatorError};

/// The axum state of every route.
pub(crate) type AppState = Arc<Shared>;

/// Locks a mutex, carrying on after a panic elsewhere (the data stays usable:
/// every change is made whole under the lock).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The directory kept in the state file; a new (empty) file is written when
/// there is none yet.
fn load_or_create(persister: &Persister) -> Result<Directory, EmulatorError> {
    let path = persister.path();
    match crate::persist::load::<Directory>(path)? {
        Some(directory) => {
            directory
                .check_loaded()
                .map_err(|message| EmulatorError::CorruptStateFile {
                    path: path.to_owned(),
                    message,
                })?;
            Ok(directory)
        }
        None => {
            let directory = Directory::default();
            serde_json::to_vec_pretty(&directory)
                .map_err(std::io::Error::other)
                .and_then(|bytes| persister.create(&bytes))
                .map_err(|source| EmulatorError::StateFile {
                    path: path.to_owned(),
                    source,
                })?;
            Ok(directory)
        }
    }
}

/// The credentials the token endpoint accepts.
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// The directory with the version of its latest change.
#[derive(Debug, Default)]
struct Stored {
    directory: Directory,
    version: u64,
}

/// A snapshot of the directory to put on disk.
struct Snapshot {
    version: u64,
    bytes: serde_json::Result<Vec<u8>>,
}

/// Everything one emulator shares.
pub(crate) struct Shared {
    stored: Mutex<Stored>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) log: RequestLog,
    pub(crate) credentials: Credentials,
    /// Whether the hooks need a bearer token.
    pub(crate) hooks_need_token: bool,
    persister: Option<Persister>,
    started: Instant,
}

impl Shared {
    /// The shared state of an emulator started with `config`, reading the
    /// state file if there is one.
    pub(crate) fn new(config: &EmulatorConfig) -> Result<Self, EmulatorError> {
        let persister = config.state_file.clone().map(Persister::new);
        let directory = match &persister {
            None => Directory::default(),
            Some(persister) => load_or_create(persister)?,
        };
        Ok(Self {
            stored: Mutex::new(Stored {
                directory,
                version: 0,
            }),
            tokens: Mutex::new(TokenStore::new(&config.access_tokens, config.token_ttl)),
            faults: Mutex::new(FaultEngine::new(config.faults.clone())),
            log: RequestLog::default(),
            credentials: Credentials {
                username: config.username.clone(),
                password: config.password.clone(),
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
            },
            hooks_need_token: config.hooks_need_token(),
            persister,
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
        read(&lock(&self.stored).directory)
    }

    /// Changes the directory under its lock and, when that succeeds and
    /// there is a state file, takes the snapshot to write.
    fn apply<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<(T, Option<Snapshot>), DomainError> {
        let mut stored = lock(&self.stored);
        let value = change(&mut stored.directory)?;
        if self.persister.is_none() {
            return Ok((value, None));
        }
        stored.version += 1;
        let bytes = serde_json::to_vec_pretty(&stored.directory);
        Ok((
            value,
            Some(Snapshot {
                version: stored.version,
                bytes,
            }),
        ))
    }

    /// Changes the directory and, with a state file, answers only once the
    /// change is on disk (a failed write answers 500; the change stays in
    /// memory and goes to disk with the next one).
    pub(crate) async fn change<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<T, ApiError> {
        let (value, snapshot) = self.apply(change)?;
        if let (Some(persister), Some(snapshot)) = (&self.persister, snapshot) {
            let result = match snapshot.bytes {
                Ok(bytes) => persister.write_async(snapshot.version, bytes).await,
                Err(error) => Err(std::io::Error::other(error)),
            };
            if let Err(error) = result {
                tracing::error!(%error, path = %persister.path().display(), "cannot write the state file");
                return Err(ApiError::state_not_saved());
            }
        }
        Ok(value)
    }

    /// [`Shared::change`] for the synchronous library API: the state file is
    /// written on the calling thread.
    pub(crate) fn change_blocking<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, DomainError>,
    ) -> Result<Result<T, DomainError>, EmulatorError> {
        let (value, snapshot) = match self.apply(change) {
            Ok(done) => done,
            Err(error) => return Ok(Err(error)),
        };
        if let (Some(persister), Some(snapshot)) = (&self.persister, snapshot) {
            let result = match snapshot.bytes {
                Ok(bytes) => persister.write(snapshot.version, &bytes),
                Err(error) => Err(std::io::Error::other(error)),
            };
            result.map_err(|source| EmulatorError::StateFile {
                path: persister.path().to_owned(),
                source,
            })?;
        }
        Ok(Ok(value))
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
