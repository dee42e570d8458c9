//! The background runtime of the blocking API: one tokio runtime on a
//! thread of its own, on which the [blocking client](crate::blocking) runs
//! its calls and the blocking test emulator serves, while the calling
//! thread waits.
//!
//! As `reqwest::blocking`: started with the first client, stopped when its
//! last clone is dropped (on its own thread, so that a client dropped in
//! async code does not panic). Called from inside an async runtime, where
//! blocking would stall other tasks, [`Runtime::block_on`] fails with
//! [`Error::BlockingInAsync`] instead of panicking.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::Error;

/// A tokio runtime on its own thread; clones share it.
#[derive(Clone, Debug)]
pub(crate) struct Runtime(Arc<RuntimeThread>);

#[derive(Debug)]
struct RuntimeThread {
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Runtime {
    /// Starts the runtime's thread.
    pub(crate) fn start() -> Result<Self, Error> {
        let (started, handle) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("finbourne-identity-blocking".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Ok(runtime.handle().clone()));
                        runtime.block_on(async {
                            let _ = stopped.await;
                        });
                    }
                    Err(error) => {
                        let _ = started.send(Err(error));
                    }
                }
            })
            .map_err(Error::Runtime)?;
        let handle = handle
            .recv()
            .map_err(|_| Error::Runtime(std::io::Error::other("the runtime thread ended")))?
            .map_err(Error::Runtime)?;
        Ok(Self(Arc::new(RuntimeThread {
            handle,
            stop: Mutex::new(Some(stop)),
        })))
    }

    /// Runs `future` to its end on the runtime, the calling thread waiting.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsync);
        }
        Ok(self.0.handle.block_on(future))
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }
}
