//! Testing programs that use the SDK: [`TestEmulator`] starts the Identity
//! emulator in-process on a free loopback port and hands out clients
//! configured for it, with helpers to seed users, set a user's status,
//! inject faults and read the request log.
//!
//! Everything goes over a real loopback socket, through the same stack as
//! in production: a test of your code exercises the SDK's retries,
//! timeouts and errors against a faithful service, not a mock of it.
//!
//! Code that is not async starts [`blocking::TestEmulator`] instead (with
//! the `blocking` feature): no runtime of the caller's, blocking clients.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use finbourne_identity::testing::{Fault, FaultRule, FaultWhen, TestEmulator};
//! use finbourne_identity::UserStatus;
//!
//! let emulator = TestEmulator::start().await?;
//! let client = emulator.client()?;
//! let [ann] = <[_; 1]>::try_from(emulator.seed_users(1).await?).expect("one user");
//! emulator.set_user_status(&ann.id, UserStatus::LockedOut)?;
//!
//! // The next UnlockUser meets a 503 from the service; the SDK retries it.
//! emulator.set_faults(vec![
//!     FaultRule::new(Some("UnlockUser"), Fault::Status { status: 503, retry_after: None })
//!         .when(FaultWhen::Next { n: 1 }),
//! ]);
//! client.users().unlock_user(&ann.id).send().await?;
//! let unlocks = emulator
//!     .requests()
//!     .iter()
//!     .filter(|request| request.operation.as_deref() == Some("UnlockUser"))
//!     .count();
//! assert_eq!(unlocks, 2);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

use identity_emulator::{Emulator, EmulatorConfig, EmulatorError};
use identity_models::{CreateUserRequest, UserResponse};

use crate::{Error, IdentityClient, IdentityClientBuilder};

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;

pub use identity_emulator::{Fault, FaultRule, FaultWhen, RecordedRequest};

/// The static token every [`TestEmulator`] accepts, and its clients send.
pub const TEST_TOKEN: &str = "finbourne-identity-test-token";

/// An in-process emulator on a free loopback port, and clients of it.
#[derive(Debug)]
pub struct TestEmulator {
    emulator: Emulator,
}

impl TestEmulator {
    /// Starts an emulator that accepts [`TEST_TOKEN`].
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::start_with(EmulatorConfig::default()).await
    }

    /// Starts an emulator with `config` (on `127.0.0.1:0` unless it says
    /// otherwise), accepting [`TEST_TOKEN`] besides its own tokens.
    pub async fn start_with(mut config: EmulatorConfig) -> Result<Self, EmulatorError> {
        config.access_tokens.push(TEST_TOKEN.to_owned());
        Ok(Self {
            emulator: identity_emulator::start(config).await?,
        })
    }

    /// A builder already pointed at the emulator with [`TEST_TOKEN`], that
    /// reads nothing from the machine (no `FBN_*` variables, no file): add
    /// settings of your own (timeouts, retries) before `.build()`.
    pub fn builder(&self) -> IdentityClientBuilder {
        IdentityClient::builder()
            .environment(false)
            .base_url(self.emulator.base_url())
            .access_token(TEST_TOKEN)
    }

    /// A client of the emulator.
    pub fn client(&self) -> Result<IdentityClient, Error> {
        self.builder().build()
    }

    /// Creates `count` Personal users (`seed-N@example.com`, from 1) through
    /// the API, and answers them.
    pub async fn seed_users(&self, count: usize) -> Result<Vec<UserResponse>, Error> {
        let client = self.client()?;
        let mut users = Vec::with_capacity(count);
        for n in 1..=count {
            let login = format!("seed-{n}@example.com");
            let request = CreateUserRequest::personal("Seed", format!("User{n}"), &login);
            users.push(client.users().create_user(&request).send().await?);
        }
        Ok(users)
    }

    /// The emulator itself, for everything else (its token URL, a reset).
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// Stops the emulator.
    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

/// A `TestEmulator` is an [`Emulator`] with clients: every method of the
/// emulator (its address, its hooks, its rate limit) is at hand.
impl std::ops::Deref for TestEmulator {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}
