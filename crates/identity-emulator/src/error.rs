//! The one error type of the emulator's library API and binary.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the emulator could not start, persist its state, or do what a hook asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A non-loopback address was asked for without `allow_remote`.
    #[error(
        "refusing to listen on non-loopback address {addr}: the emulator has no real security; \
         pass --allow-remote (EmulatorConfig::allow_remote) to do it anyway"
    )]
    NonLoopbackBind {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// Other machines could reach the emulator (`allow_remote` on an
    /// address that is not loopback) with a credential anyone can know.
    #[error(
        "refusing to serve other machines on {addr} with {}: anyone who can reach it could \
         get a token, read the users and reset them. Set {} to values of your own",
        weak.join(" and "),
        fixes.join(" and ")
    )]
    GuessableCredentials {
        /// The address asked for.
        addr: SocketAddr,
        /// What anyone could know (never the value itself).
        weak: Vec<String>,
        /// The flags (and variables) to set.
        fixes: Vec<String>,
    },
    /// A setting is outside what the emulator can honour (a token lifetime
    /// beyond [`MAX_TOKEN_TTL`](crate::MAX_TOKEN_TTL), an empty static
    /// token).
    #[error("invalid {setting}: {message}")]
    InvalidSetting {
        /// The flag and configuration field (`--token-ttl-secs (token_ttl)`).
        setting: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The state file could not be read or written.
    #[error("state file {}: {source}", path.display())]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The state file exists but does not hold a state this emulator can read.
    #[error("state file {} is corrupt, refusing to start empty: {message}", path.display())]
    CorruptStateFile {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A hook named a user that does not exist.
    #[error("user {id:?} does not exist")]
    UserNotFound {
        /// The id asked for.
        id: String,
    },
    /// A fault rule is not usable (for example `every` with `n` = 0).
    #[error("invalid fault rule: {0}")]
    InvalidFault(String),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

impl EmulatorError {
    /// Whether the emulator could not start as configured (an address, a
    /// setting, a credential, a state file or a fault rule to change): a
    /// command line exits 2 for it, as for any usage error.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Self::Bind { .. }
                | Self::NonLoopbackBind { .. }
                | Self::GuessableCredentials { .. }
                | Self::InvalidSetting { .. }
                | Self::StateFile { .. }
                | Self::CorruptStateFile { .. }
                | Self::InvalidFault(_)
        )
    }
}
