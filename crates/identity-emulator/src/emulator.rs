//! The running emulator: start it, ask it for its URLs, drive it from a test
//! (request log, faults, user statuses, reset), and stop it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use identity_models::{UserResponse, UserStatus};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::guard::RequestGuard;
use crate::operations::HOOK_PREFIX;
use crate::routes::{API_PREFIX, HEALTH_PATH, TOKEN_PATH, router};
use crate::shared::Shared;
use crate::{EmulatorConfig, EmulatorError, FaultRule, RecordedRequest};

/// Starts an emulator (the same as [`Emulator::start`]).
pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
    Emulator::start(config).await
}

/// How many connections the kernel may hold for the emulator to accept:
/// a burst of connections (a CI job's, a hostile client's) overflowing a
/// shorter queue would make others, the health check's among them, wait
/// for their SYN to be sent again (a second). The kernel may cap it
/// (`net.core.somaxconn`, 4096 by default on Linux).
const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr`, with address reuse (as tokio's
/// `TcpListener::bind`) and a backlog of [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A running emulator, serving on a loopback port until [`Emulator::shutdown`]
/// or until it is dropped (dropping it starts the same graceful shutdown,
/// without waiting for it).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), identity_emulator::EmulatorError> {
/// use identity_emulator::{Emulator, EmulatorConfig};
///
/// let emulator = Emulator::start(EmulatorConfig::default()).await?;
/// assert!(emulator.base_url().ends_with("/identity"));
/// assert!(emulator.token_url().ends_with("/oauth2/token"));
/// assert!(emulator.users().is_empty());
/// emulator.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<()>,
    server: JoinHandle<()>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Checks the configuration ([`EmulatorConfig::validate`]), reads the
    /// state file (a corrupt one stops the start), binds the address and
    /// starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        config.validate()?;
        let shared = Arc::new(Shared::new(&config)?);
        let listener = listen(config.bind).map_err(|source| EmulatorError::Bind {
            addr: config.bind,
            source,
        })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let (stop, stopped) = watch::channel(());
        let server = tokio::spawn(crate::server::serve(
            listener,
            shared.clone(),
            router(shared.clone()),
            RequestGuard::new(addr, config.allow_remote),
            stopped,
        ));
        Ok(Self {
            addr,
            shared,
            stop,
            server,
        })
    }

    /// The address it listens on, as bound (`0.0.0.0:8080` when bound to
    /// every IPv4 address).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address a client on this machine connects to: [`addr`](Self::addr),
    /// or loopback on its port when it is bound to an unspecified address
    /// (`0.0.0.0`: `127.0.0.1`; `[::]`: `[::1]`), which no client can
    /// connect to.
    pub fn local_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }

    /// `http://127.0.0.1:<port>`, where the hooks live (the address of
    /// [`local_addr`](Self::local_addr)).
    pub fn root_url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// `http://127.0.0.1:<port>/identity`, the SDK's base URL.
    pub fn base_url(&self) -> String {
        format!("{}{API_PREFIX}", self.root_url())
    }

    /// `http://127.0.0.1:<port>/oauth2/token`, the token URL.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.root_url())
    }

    /// `http://127.0.0.1:<port>/_emulator`, under which the hooks live.
    pub fn hooks_url(&self) -> String {
        format!("{}{HOOK_PREFIX}", self.root_url())
    }

    /// `http://127.0.0.1:<port>/_emulator/health`, which answers 200 with
    /// `{"status":"ok","version":"<crate version>"}` without a token.
    pub fn health_url(&self) -> String {
        format!("{}{HEALTH_PATH}", self.root_url())
    }

    /// The request log: every API and token call so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Replaces the fault rules (counts start again). Rules that
    /// [`FaultRule::validate`] refuses are kept but fire as their numbers
    /// allow (`n` = 0 never fires, a rate above 1 always does).
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.shared.set_fault_rules(rules);
    }

    /// The rate limit in force: requests per second per caller, `None` for
    /// none.
    pub fn rate_limit(&self) -> Option<NonZeroU32> {
        self.shared.rate_limit()
    }

    /// Sets the rate limit (`None`: none); every caller's bucket starts full.
    pub fn set_rate_limit(&self, rate: Option<NonZeroU32>) {
        self.shared.set_rate_limit(rate);
    }

    /// Forgets users, schema, issued tokens, fault rules and the request log
    /// (static tokens and the rate limit stay). With a state file, the empty state is written;
    /// a failure to write it is logged.
    pub fn reset(&self) {
        self.shared.forget_runtime_state();
        let cleared = self.shared.change_blocking(|directory| {
            directory.clear();
            Ok(())
        });
        if let Err(error) = cleared {
            tracing::error!(%error, "cannot write the reset state");
        }
    }

    /// Sets a user's status directly (to reach `LOCKED_OUT`, `SUSPENDED`, ...),
    /// writing the state file if there is one.
    pub fn set_user_status(&self, id: &str, status: UserStatus) -> Result<(), EmulatorError> {
        // The only refusal of `set_status` is an unknown id.
        self.shared
            .change_blocking(|directory| directory.set_status(id, status))?
            .map_err(|_| EmulatorError::UserNotFound { id: id.to_owned() })
    }

    /// Every user, deleted ones included, with their roles, in creation
    /// order.
    pub fn users(&self) -> Vec<UserResponse> {
        self.shared
            .read(|directory| directory.users().cloned().collect())
    }

    /// How many users there are, deleted ones included.
    pub fn user_count(&self) -> usize {
        self.shared.read(|directory| directory.len())
    }

    /// The user with this id, deleted or not, with its roles.
    pub fn user(&self, id: &str) -> Option<UserResponse> {
        self.shared
            .read(|directory| directory.get(id).ok().cloned())
    }

    /// Stops accepting connections, lets the requests in flight finish (for
    /// at most 5 seconds), waits for the server to stop and, with a state
    /// file, folds its journal into a new snapshot (a failure is logged:
    /// the journal still holds every change).
    pub async fn shutdown(self) {
        let Self {
            stop,
            server,
            shared,
            ..
        } = self;
        drop(stop);
        if let Err(error) = server.await {
            tracing::warn!(%error, "the emulator's server task failed");
        }
        let compacted = tokio::task::spawn_blocking(move || shared.compact()).await;
        match compacted {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "cannot compact the state file"),
            Err(error) => tracing::error!(%error, "the state file's compaction failed"),
        }
    }
}
