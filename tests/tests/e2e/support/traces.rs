//! `tracing` for one test while the other tests of this binary run beside
//! it: a dispatcher to set as the default of the test's own threads (never
//! a global subscriber, which would see every test), and a runtime whose
//! threads all have it.

use std::cell::RefCell;
use std::sync::OnceLock;

use tracing::dispatcher::DefaultGuard;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Dispatch, Metadata, Subscriber, span};

/// A dispatcher of `subscriber`, for a test to set as the default of its
/// thread(s) with `tracing::dispatcher::set_default` or [`runtime_with`],
/// safely while other tests run the same code on other threads without one.
///
/// `tracing` caches per call site, process-wide, whether it is wanted. While
/// at most one dispatcher is registered, that is decided by the default of
/// whichever thread reaches the call site first: another test's thread, with
/// no subscriber, would cache "never" and this test's subscriber would miss
/// the span. Two dispatchers that want nothing, registered once before any
/// test's own, make `tracing` ask every live dispatcher instead, so a call
/// site that this test's subscriber wants is cached as "sometimes" and each
/// thread's default decides.
pub fn scoped_dispatch<S>(subscriber: S) -> Dispatch
where
    S: Subscriber + Send + Sync + 'static,
{
    static WANT_NOTHING: OnceLock<[Dispatch; 2]> = OnceLock::new();
    WANT_NOTHING.get_or_init(|| [Dispatch::new(WantsNothing), Dispatch::new(WantsNothing)]);
    Dispatch::new(subscriber)
}

/// A multi-thread tokio runtime with `workers` worker threads, on each of
/// whose threads (workers and blocking ones) `dispatch` is the default: what
/// the test runs on it, and every task it spawns, is traced by the test's
/// subscriber and nothing else is.
pub fn runtime_with(dispatch: &Dispatch, workers: usize) -> tokio::runtime::Runtime {
    thread_local! {
        static DEFAULT: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
    }
    let dispatch = dispatch.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&dispatch);
            DEFAULT.with(|default| *default.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| {
            DEFAULT.with(|default| default.borrow_mut().take());
        })
        .build()
        .unwrap()
}

/// A subscriber that wants no span and no event, at any level.
struct WantsNothing;

impl Subscriber for WantsNothing {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::never()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::OFF)
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
