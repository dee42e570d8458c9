//! How an answer's body becomes the operation's output, chunk by chunk.
//!
//! Every output type names a [`BodyDecoder`] that is fed the body's chunks as
//! they arrive. Most outputs are one JSON object, decoded once the body is
//! whole. Lists (`Vec<T>`) are decoded element by element while the body
//! arrives, dropping each element's bytes once decoded, so a list of 10,000
//! users never holds the whole body and the whole list at once; the same
//! decoder backs the streaming call, which holds neither.
//!
//! What a decoder holds grows with what has arrived, at most doubling, and
//! the answer's `Content-Length` only stops the growth where the body says
//! it ends: a length is the sender's word, so a body that declares 60 MB
//! and stalls after a few bytes costs a few bytes.

use bytes::Bytes;
use identity_models::{ListUsersResponse, TemporaryPassword, UserResponse, UserSchemaResponse};
use serde::de::{DeserializeOwned, Error as _};

use crate::array::{ArrayError, ArrayItems};

/// An output that can be decoded from an answer's body.
pub trait Decode: Sized {
    /// The decoder that builds it.
    type Decoder: BodyDecoder<Output = Self> + Default;
    /// Whether an error may quote the body. False for an answer that
    /// carries a secret (the temporary password of ExpirePassword): its
    /// errors then quote neither the body nor serde_json's message, which
    /// can quote a value.
    const QUOTABLE: bool = true;
}

/// The decode error of `T`, fit to show: as it is, or without any of the
/// body's text when `T` is not [quotable](Decode::QUOTABLE).
pub(crate) fn shown<T: Decode>(error: serde_json::Error) -> serde_json::Error {
    if T::QUOTABLE {
        return error;
    }
    serde_json::Error::custom(format!(
        "{:?} error at line {} column {} (the text is withheld: the answer holds a secret)",
        error.classify(),
        error.line(),
        error.column()
    ))
}

/// Builds a value from a body's chunks.
pub trait BodyDecoder {
    /// What it builds.
    type Output;
    /// How long the body will be, when the answer says (`Content-Length`),
    /// given before the first chunk so that the output stops growing where
    /// the body ends. It is the sender's word: a decoder never reserves it
    /// ahead of the bytes that arrive.
    fn expect_bytes(&mut self, _length: u64) {}
    /// Takes the next chunk of the body.
    fn push(&mut self, chunk: Bytes) -> Result<(), serde_json::Error>;
    /// The body has ended: the value.
    fn finish(self) -> Result<Self::Output, serde_json::Error>;
}

/// The 204 No Content answers: the body, if any, is ignored.
impl Decode for () {
    type Decoder = Ignore;
}

/// Decodes nothing, keeps nothing.
#[derive(Debug, Default)]
pub struct Ignore;

impl BodyDecoder for Ignore {
    type Output = ();

    fn push(&mut self, _chunk: Bytes) -> Result<(), serde_json::Error> {
        Ok(())
    }

    fn finish(self) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

/// Decodes one JSON value once the body is whole.
#[derive(Debug)]
pub struct WholeJson<T> {
    /// The body while it is one chunk: kept as it came, never copied.
    first: Bytes,
    /// The body once a second chunk came.
    joined: Vec<u8>,
    /// The body's length, when the answer said.
    declared: Option<usize>,
    output: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for WholeJson<T> {
    fn default() -> Self {
        Self {
            first: Bytes::new(),
            joined: Vec::new(),
            declared: None,
            output: std::marker::PhantomData,
        }
    }
}

impl<T: DeserializeOwned> BodyDecoder for WholeJson<T> {
    type Output = T;

    fn expect_bytes(&mut self, length: u64) {
        self.declared = usize::try_from(length).ok();
    }

    fn push(&mut self, chunk: Bytes) -> Result<(), serde_json::Error> {
        if self.first.is_empty() && self.joined.is_empty() {
            // Most answers come in one chunk: decoded from it, no copy.
            self.first = chunk;
            return Ok(());
        }
        let first = std::mem::take(&mut self.first);
        let needed = self.joined.len() + first.len() + chunk.len();
        grow_to_hold(&mut self.joined, needed, self.declared);
        self.joined.extend_from_slice(&first);
        self.joined.extend_from_slice(&chunk);
        Ok(())
    }

    fn finish(self) -> Result<T, serde_json::Error> {
        if self.joined.is_empty() {
            serde_json::from_slice(&self.first)
        } else {
            serde_json::from_slice(&self.joined)
        }
    }
}

/// Makes room in `buffer` for `needed` elements in all.
///
/// What a decoder holds grows with what has arrived, never with what the
/// answer declares: a `Content-Length` of 60 MB on a body that stalls after
/// a few bytes costs a few bytes. At most the capacity doubles what is
/// needed (the vector's own policy, so amortised as usual), and it stops at
/// the declared size while the body stays within it, so that an honest
/// length leaves no slack at the end.
fn grow_to_hold<T>(buffer: &mut Vec<T>, needed: usize, declared: Option<usize>) {
    if buffer.capacity() >= needed {
        return;
    }
    let doubled = needed.saturating_mul(2).max(MIN_CAPACITY);
    let target = match declared {
        Some(declared) if declared >= needed => doubled.min(declared),
        _ => doubled,
    };
    buffer.reserve_exact(target - buffer.len());
}

/// The smallest capacity a decoder grows to.
const MIN_CAPACITY: usize = 8;

macro_rules! decode_whole {
    ($($model:ty),* $(,)?) => {$(
        impl Decode for $model {
            type Decoder = WholeJson<$model>;
        }
    )*};
}

decode_whole!(UserResponse, ListUsersResponse, UserSchemaResponse);

impl Decode for TemporaryPassword {
    type Decoder = WholeJson<TemporaryPassword>;
    const QUOTABLE: bool = false;
}

impl<T: DeserializeOwned> Decode for Vec<T> {
    type Decoder = JsonArray<T>;
}

/// Decodes a JSON array element by element as its bytes arrive, each
/// element parsed once, straight from the chunk it lies in
/// (the array module's `ArrayItems`).
///
/// With the body's length known, the list's size is estimated from the
/// first elements (elements of one list are alike) and the list stops
/// growing there, instead of doubling past it (which leaves its slack
/// allocated); it still grows only as elements arrive (see `grow_to_hold`).
#[derive(Debug)]
pub struct JsonArray<T> {
    items: ArrayItems<T>,
    decoded: Vec<T>,
    /// The body's length, until the estimate is made.
    declared_bytes: Option<u64>,
    /// How many elements the body holds, estimated from its length.
    estimate: Option<usize>,
}

impl<T> Default for JsonArray<T> {
    fn default() -> Self {
        Self {
            items: ArrayItems::default(),
            decoded: Vec::new(),
            declared_bytes: None,
            estimate: None,
        }
    }
}

/// How many elements the estimate of a list's size is made from.
const ESTIMATE_FROM: usize = 8;

impl<T: DeserializeOwned> BodyDecoder for JsonArray<T> {
    type Output = Vec<T>;

    fn expect_bytes(&mut self, length: u64) {
        self.declared_bytes = Some(length);
    }

    fn push(&mut self, chunk: Bytes) -> Result<(), serde_json::Error> {
        let decoded = &mut self.decoded;
        let estimate = self.estimate;
        self.items
            .push(chunk, &mut |item| {
                grow_to_hold(decoded, decoded.len() + 1, estimate);
                decoded.push(item);
            })
            .map_err(ArrayError::into_json)?;
        if let Some(body) = self.declared_bytes
            && self.decoded.len() >= ESTIMATE_FROM
        {
            self.declared_bytes = None;
            let consumed = self.items.consumed().max(1);
            let estimate = body.saturating_mul(self.decoded.len() as u64) / consumed;
            self.estimate = usize::try_from(estimate + estimate / 32 + 8).ok();
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<T>, serde_json::Error> {
        let decoded = &mut self.decoded;
        let estimate = self.estimate;
        self.items
            .finish(&mut |item| {
                grow_to_hold(decoded, decoded.len() + 1, estimate);
                decoded.push(item);
            })
            .map_err(ArrayError::into_json)?;
        Ok(self.decoded)
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn decode_in_chunks(body: &[u8], sizes: &[usize]) -> Result<Vec<Value>, serde_json::Error> {
        let mut decoder = JsonArray::<Value>::default();
        let mut rest = body;
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() {
            let size = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
            let (chunk, tail) = rest.split_at(size);
            decoder.push(Bytes::copy_from_slice(chunk))?;
            rest = tail;
        }
        decoder.finish()
    }

    #[test]
    fn tricky_elements_split_where_json_says() {
        let body = br#" [ {"a":"],[\"}{","b":[1,{"c":"\\"}]}, "x,]", 3 , null,[[]],true ] "#;
        let expected: Vec<Value> = serde_json::from_slice(body).unwrap();
        for size in [1, 2, 3, 7, body.len()] {
            assert_eq!(
                decode_in_chunks(body, &[size]).unwrap(),
                expected,
                "chunks of {size}"
            );
        }
        assert!(decode_in_chunks(b"[]", &[1]).unwrap().is_empty());
    }

    #[test]
    fn malformed_arrays_fail_cleanly() {
        for body in [
            &b""[..],
            b"{}",
            b"[1,",
            b"[1",
            b"[,1]",
            b"[1,,2]",
            b"[1,]",
            b"[1] x",
            b"[{\"a\":}]",
            b"[\"unterminated]",
        ] {
            assert!(
                decode_in_chunks(body, &[2]).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC*".prop_map(Value::from),
            "[\\[\\]{}\",\\\\ ]*".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_array_in_any_chunks_decodes_as_a_whole(
            values in prop::collection::vec(json_value(), 0..8),
            sizes in prop::collection::vec(1usize..16, 1..8),
            pretty in any::<bool>(),
        ) {
            let body = if pretty {
                serde_json::to_vec_pretty(&values).unwrap()
            } else {
                serde_json::to_vec(&values).unwrap()
            };
            prop_assert_eq!(decode_in_chunks(&body, &sizes).unwrap(), values);
        }

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_in_chunks(&body, &[3]);
        }
    }

    #[test]
    fn a_declared_length_is_not_reserved_before_the_bytes_arrive() {
        let mut whole = WholeJson::<Value>::default();
        whole.expect_bytes(60_000_000);
        whole.push(Bytes::from_static(b"{\"a\":")).unwrap();
        whole.push(Bytes::from_static(b"1")).unwrap();
        assert!(whole.joined.capacity() <= 64, "{}", whole.joined.capacity());

        let mut list = JsonArray::<Value>::default();
        list.expect_bytes(60_000_000);
        list.push(Bytes::from_static(b"[1,2,3,4,5,6,7,8,9,10,"))
            .unwrap();
        assert!(list.decoded.capacity() <= 32, "{}", list.decoded.capacity());
    }

    #[test]
    fn an_honest_length_leaves_no_slack() {
        // Alike elements, as a list of users is: the estimate holds.
        let values: Vec<Value> = (0..1000).map(|n| json!({ "n": 1000 + n })).collect();
        let body = serde_json::to_vec(&values).unwrap();
        let mut list = JsonArray::<Value>::default();
        list.expect_bytes(body.len() as u64);
        for chunk in body.chunks(100) {
            list.push(Bytes::copy_from_slice(chunk)).unwrap();
        }
        let decoded = list.finish().unwrap();
        assert_eq!(decoded, values);
        assert!(decoded.capacity() < 1100, "{}", decoded.capacity());
    }

    #[test]
    fn whole_json_reads_one_value() {
        let mut decoder = WholeJson::<Value>::default();
        decoder.push(Bytes::from_static(b"{\"a\":")).unwrap();
        decoder.push(Bytes::from_static(b"1}")).unwrap();
        assert_eq!(decoder.finish().unwrap(), json!({"a": 1}));
    }
}
