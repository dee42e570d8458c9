//! The body of a list answer (ListUsers, ListRunnableUsers): the users' JSON
//! array, written a batch at a time as the client reads it.
//!
//! Building a million users' answer at once would hold the directory's lock
//! for the whole of it and cost the emulator the list twice over (the users
//! copied, then their JSON). The answer instead takes the places of the
//! users when it starts, then writes [`BATCH`] users at a time, each batch
//! under the lock on its own: memory holds one batch, and other calls are
//! served between batches. The list is not a snapshot (the contract
//! promises none: the service lists from an index, hence CreateUser's
//! `waitForReindex`): a user purged while it is read is left out, one
//! changed shows as it is when its batch is written, one created after the
//! answer started is not in it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::{Body, Frame};

use crate::shared::AppState;
use crate::state::{Listing, present};

/// Users written per batch (about 400 KB of JSON).
const BATCH: usize = 1_000;

/// See the [module docs](self).
pub(crate) struct ListBody {
    shared: AppState,
    listing: Listing,
    /// The places of the users, in creation order, when the answer started.
    places: Vec<u64>,
    /// How many places were read.
    next: usize,
    /// Whether an element was written (a `,` goes before the next).
    written: bool,
    done: bool,
}

impl ListBody {
    /// The body of `listing`'s answer, its users' places taken now.
    pub(crate) fn new(shared: AppState, listing: Listing) -> Self {
        let places = shared.read(|directory| directory.places());
        Self {
            shared,
            listing,
            places,
            next: 0,
            written: false,
            done: false,
        }
    }

    /// The next piece of the array: `[` and the first batch, a batch, or
    /// the last batch and `]`.
    fn next_piece(&mut self) -> Bytes {
        let mut json = BytesMut::new();
        if self.next == 0 {
            json.put_u8(b'[');
        }
        let end = self.places.len().min(self.next + BATCH);
        let batch = &self.places[self.next..end];
        self.shared.read(|directory| {
            for user in batch.iter().filter_map(|place| directory.at_place(*place)) {
                if !self.listing.keeps(user) {
                    continue;
                }
                if self.written {
                    json.put_u8(b',');
                }
                // A user is plain data: its JSON cannot fail to be written.
                if serde_json::to_writer((&mut json).writer(), &present(user, false)).is_ok() {
                    self.written = true;
                }
            }
        });
        self.next = end;
        if self.next == self.places.len() {
            json.put_u8(b']');
            self.done = true;
        }
        json.freeze()
    }
}

impl Body for ListBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::data(this.next_piece()))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
