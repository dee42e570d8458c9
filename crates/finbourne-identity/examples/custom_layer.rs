//! A tower layer of your own around the SDK's stack: here a counter of
//! calls and failures by operation, the kind of thing a platform team adds
//! for its metrics.
//!
//! ```sh
//! cargo run -p identity-cli -- emulator --access-token demo-token &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity FBN_ACCESS_TOKEN=demo-token \
//!     cargo run -p finbourne-identity --example custom_layer
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use finbourne_identity::OperationInfo;
use finbourne_identity::prelude::*;
use futures_util::future::BoxFuture;
use tower::{Layer, Service};

/// Calls and failures, by operation.
type Counts = Arc<Mutex<BTreeMap<&'static str, (u64, u64)>>>;

/// Counts each call the stack below it makes.
#[derive(Clone)]
struct CountingLayer {
    counts: Counts,
}

impl<S> Layer<S> for CountingLayer {
    type Service = Counting<S>;

    fn layer(&self, inner: S) -> Counting<S> {
        Counting {
            inner,
            counts: self.counts.clone(),
        }
    }
}

#[derive(Clone)]
struct Counting<S> {
    inner: S,
    counts: Counts,
}

impl<S, R> Service<http::Request<Bytes>> for Counting<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<http::Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let operation = OperationInfo::of(&request).map_or("other", |info| info.name());
        let counts = self.counts.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            let failed = !matches!(&result, Ok(response) if response.status().is_success());
            let mut counts = counts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let entry = counts.entry(operation).or_default();
            entry.0 += 1;
            entry.1 += u64::from(failed);
            result
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let counts = Counts::default();
    let client = IdentityClient::from_env()?.with_layer(CountingLayer {
        counts: counts.clone(),
    });
    let users = client.users();
    users.list_users().send().await?;
    let missing = users.get_user("00u-nobody").send().await;
    println!("GetUser of nobody: {}", missing.is_err());
    for (operation, (calls, failures)) in counts.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        println!("{operation}: {calls} calls, {failures} failed");
    }
    Ok(())
}
