//! The test emulator for code that is not async: [`TestEmulator`], started
//! from plain sync code (a `#[test]` without a runtime of its own), serving
//! on a background runtime, and handing out
//! [blocking clients](crate::blocking::IdentityClient) of it.
//!
//! ```
//! use finbourne_identity::testing::blocking::TestEmulator;
//! use finbourne_identity::testing::{Fault, FaultRule, FaultWhen};
//! use finbourne_identity::ErrorKind;
//!
//! # fn main() -> Result<(), finbourne_identity::Error> {
//! let emulator = TestEmulator::start()?;
//! let client = emulator.client()?;
//! let [ann] = <[_; 1]>::try_from(emulator.seed_users(1)?).expect("one user");
//!
//! // The next GetUser is refused with 404, as for a user that is gone.
//! emulator.set_faults(vec![
//!     FaultRule::new(Some("GetUser"), Fault::Status { status: 404, retry_after: None })
//!         .when(FaultWhen::Next { n: 1 }),
//! ]);
//! let error = client.users().get_user(&ann.id).send().unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::NotFound);
//! assert_eq!(client.users().get_user(&ann.id).send()?.login, ann.login);
//! emulator.shutdown();
//! # Ok(())
//! # }
//! ```

use identity_emulator::{Emulator, EmulatorConfig};
use identity_models::UserResponse;

use crate::runtime::Runtime;
use crate::{Error, IdentityClientBuilder};

/// An in-process emulator on a free loopback port, served on a runtime of
/// its own, and blocking clients of it: the async
/// [`TestEmulator`](super::TestEmulator) for sync code.
///
/// Dropping it stops the emulator (as [`shutdown`](Self::shutdown) does,
/// without waiting for the requests in flight).
#[derive(Debug)]
pub struct TestEmulator {
    // Dropped in order: the emulator, then (when no client shares it) the
    // runtime it is served on.
    emulator: super::TestEmulator,
    runtime: Runtime,
}

impl TestEmulator {
    /// Starts an emulator that accepts [`TEST_TOKEN`](super::TEST_TOKEN),
    /// from sync code. Called from inside an async runtime, it fails with
    /// [`Error::BlockingInAsync`]: use the async
    /// [`TestEmulator`](super::TestEmulator) there.
    pub fn start() -> Result<Self, Error> {
        Self::start_with(EmulatorConfig::default())
    }

    /// Starts an emulator with `config`, as
    /// [`TestEmulator::start_with`](super::TestEmulator::start_with) does.
    pub fn start_with(config: EmulatorConfig) -> Result<Self, Error> {
        let runtime = Runtime::start()?;
        let emulator = runtime.block_on(super::TestEmulator::start_with(config))??;
        Ok(Self { emulator, runtime })
    }

    /// A builder already pointed at the emulator, that reads nothing from
    /// the machine (see [`TestEmulator::builder`](super::TestEmulator::builder)).
    pub fn builder(&self) -> IdentityClientBuilder {
        self.emulator.builder()
    }

    /// A blocking client of the emulator, on the emulator's runtime.
    pub fn client(&self) -> Result<crate::blocking::IdentityClient, Error> {
        Ok(crate::blocking::IdentityClient::on(
            self.emulator.client()?,
            self.runtime.clone(),
        ))
    }

    /// Creates `count` Personal users (`seed-N@example.com`, from 1) through
    /// the API, and answers them.
    pub fn seed_users(&self, count: usize) -> Result<Vec<UserResponse>, Error> {
        self.runtime.block_on(self.emulator.seed_users(count))?
    }

    /// Stops the emulator, waiting for the requests in flight (for at most
    /// 5 seconds). Inside an async runtime, where it cannot wait, it only
    /// starts the stop.
    pub fn shutdown(self) {
        let Self { emulator, runtime } = self;
        // Refused inside an async runtime: the future is dropped unrun, and
        // the emulator with it, which starts its stop.
        let _ = runtime.block_on(emulator.shutdown());
    }
}

/// A `TestEmulator` is an [`Emulator`]: every method of the emulator (its
/// address, its hooks, its rate limit) is at hand.
impl std::ops::Deref for TestEmulator {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        self.emulator.emulator()
    }
}
