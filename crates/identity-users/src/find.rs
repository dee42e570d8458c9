//! FindUsersById for any number of ids.
//!
//! The service takes at most 50 ids a request. [`FindUsers`] removes
//! repeated ids, sends none when there are none, splits the rest into
//! requests of 50 run concurrently (at most [`FindUsers::concurrency`] at
//! once), and merges the answers into one `ListUsersResponse`: `values` and
//! `failed` keyed by id. If any request fails, the call fails with its error.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::{Request, Response};
use http_body::Body;
use identity_call::RequestOptions;
use identity_models::ListUsersResponse;
use tower_service::Service;

use crate::operation::FindUsersById;
use crate::{BoxError, Call, Error, UsersApi};

/// The most ids the service takes in one request.
pub const MAX_IDS_PER_REQUEST: usize = 50;

/// How many requests of one FindUsersById run at once, by default.
const DEFAULT_CONCURRENCY: usize = 4;

/// A FindUsersById call for any number of ids.
#[must_use = "a call does nothing until it is sent: `.send().await`"]
pub struct FindUsers<S, E = Error> {
    api: UsersApi<S, E>,
    ids: Vec<String>,
    concurrency: usize,
    options: Option<RequestOptions>,
}

impl<S: Clone, E> FindUsers<S, E> {
    pub(crate) fn new(api: UsersApi<S, E>, ids: Vec<String>) -> Self {
        let mut seen = HashSet::with_capacity(ids.len());
        let ids = ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        Self {
            api,
            ids,
            concurrency: DEFAULT_CONCURRENCY,
            options: None,
        }
    }

    /// How many requests run at once (at least 1; default 4).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// Per-call options, applied to each request.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// The requests this call sends: one per 50 distinct ids.
    pub fn requests(&self) -> Vec<Call<S, FindUsersById, E>> {
        self.ids
            .chunks(MAX_IDS_PER_REQUEST)
            .map(|chunk| {
                let call = chunk
                    .iter()
                    .fold(Call::new(&self.api, None), |call, id| call.query("id", id));
                match &self.options {
                    Some(options) => call.options(options.clone()),
                    None => call,
                }
            })
            .collect()
    }
}

impl<S, B, E> FindUsers<S, E>
where
    E: From<Error>,
    S: Service<Request<Bytes>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Sends the requests and merges their answers.
    pub async fn send(self) -> Result<ListUsersResponse, E> {
        stream::iter(self.requests())
            .map(Call::send)
            .buffer_unordered(self.concurrency)
            .try_fold(
                ListUsersResponse::default(),
                |mut merged, answer| async move {
                    merge(&mut merged.values, answer.values);
                    merge(&mut merged.failed, answer.failed);
                    merged.href = merged.href.or(answer.href);
                    Ok(merged)
                },
            )
            .await
    }
}

fn merge<T>(into: &mut Option<BTreeMap<String, T>>, from: Option<BTreeMap<String, T>>) {
    if let Some(from) = from {
        into.get_or_insert_with(BTreeMap::new).extend(from);
    }
}
