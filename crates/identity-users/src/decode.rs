//! How an answer's body becomes the operation's output, chunk by chunk.
//!
//! Every output type names a [`BodyDecoder`] that is fed the body's chunks as
//! they arrive. Most outputs are one JSON object, decoded once the body is
//! whole. Lists (`Vec<T>`) are decoded element by element while the body
//! arrives, dropping each element's bytes once decoded, so a list of 10,000
//! users never holds the whole body and the whole list at once; the same
//! decoder backs the streaming call, which holds neither.

use bytes::{Buf, Bytes, BytesMut};
use identity_models::{ListUsersResponse, TemporaryPassword, UserResponse, UserSchemaResponse};
use serde::de::{DeserializeOwned, Error as _};

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
    /// given before the first chunk so that the output can be sized once.
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
    body: BytesMut,
    output: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for WholeJson<T> {
    fn default() -> Self {
        Self {
            body: BytesMut::new(),
            output: std::marker::PhantomData,
        }
    }
}

impl<T: DeserializeOwned> BodyDecoder for WholeJson<T> {
    type Output = T;

    fn expect_bytes(&mut self, length: u64) {
        self.body.reserve(usize::try_from(length).unwrap_or(0).min(MAX_RESERVE));
    }

    fn push(&mut self, chunk: Bytes) -> Result<(), serde_json::Error> {
        self.body.extend_from_slice(&chunk);
        Ok(())
    }

    fn finish(self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

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

/// The most a decoder reserves ahead on the word of `Content-Length`.
const MAX_RESERVE: usize = 256 * 1024 * 1024;

/// Decodes a JSON array element by element as its bytes arrive.
///
/// With the body's length known, the list is sized once from the first
/// element's length, instead of growing by doubling (which holds up to
/// twice the list while it copies, and leaves its slack allocated).
#[derive(Debug)]
pub struct JsonArray<T> {
    elements: JsonArrayElements,
    decoded: Vec<T>,
    expected_bytes: Option<u64>,
}

impl<T> Default for JsonArray<T> {
    fn default() -> Self {
        Self {
            elements: JsonArrayElements::default(),
            decoded: Vec::new(),
            expected_bytes: None,
        }
    }
}

impl<T: DeserializeOwned> BodyDecoder for JsonArray<T> {
    type Output = Vec<T>;

    fn expect_bytes(&mut self, length: u64) {
        self.expected_bytes = Some(length);
    }

    fn push(&mut self, chunk: Bytes) -> Result<(), serde_json::Error> {
        let decoded = &mut self.decoded;
        let expected_bytes = &mut self.expected_bytes;
        self.elements.push(chunk, |element| {
            if let Some(body) = expected_bytes.take() {
                // Elements of one list are alike: the first one's length
                // (and its separator) tells how many the body holds.
                let estimate = body / (element.len() as u64 + 1);
                let estimate = estimate + estimate / 32 + 1;
                decoded.reserve(
                    usize::try_from(estimate)
                        .unwrap_or(0)
                        .min(MAX_RESERVE / std::mem::size_of::<T>().max(1)),
                );
            }
            decoded.push(serde_json::from_slice(element)?);
            Ok(())
        })
    }

    fn finish(self) -> Result<Vec<T>, serde_json::Error> {
        self.elements.finish()?;
        Ok(self.decoded)
    }
}

/// Splits a JSON array, arriving in chunks, into the bytes of its elements.
///
/// It follows strings (with their escapes) and nesting only as far as it
/// needs to find where each top-level element ends; each element is then
/// parsed by serde_json, which judges it fully. Bytes of elements already
/// handed out are dropped, so it holds at most one element and one chunk.
#[derive(Debug, Default)]
pub struct JsonArrayElements {
    buffer: BytesMut,
    /// Where scanning resumes in `buffer`.
    scanned: usize,
    /// Where the element being scanned starts in `buffer`.
    element_start: Option<usize>,
    state: ArrayState,
    /// Nesting inside the current element (0 between elements).
    depth: usize,
    in_string: bool,
    escaped: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// Before the opening `[`.
    #[default]
    Start,
    /// Right after `[`: an element or `]`.
    AfterOpen,
    /// After a `,`: an element must follow.
    AfterComma,
    /// After an element: `,` or `]`.
    AfterElement,
    /// After the closing `]`: only white space may follow.
    Done,
}

impl JsonArrayElements {
    /// Takes the next chunk; calls `element` with each element it completes.
    pub fn push(
        &mut self,
        chunk: Bytes,
        mut element: impl FnMut(&[u8]) -> Result<(), serde_json::Error>,
    ) -> Result<(), serde_json::Error> {
        use ArrayState::*;
        self.buffer.extend_from_slice(&chunk);
        let mut index = self.scanned;
        while index < self.buffer.len() {
            let byte = self.buffer[index];
            if let Some(start) = self.element_start {
                if self.in_string {
                    index = self.skip_string(index);
                    continue;
                }
                match byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' if self.depth > 0 => self.depth -= 1,
                    b',' | b']' if self.depth == 0 => {
                        element(&self.buffer[start..index])?;
                        self.element_start = None;
                        self.state = if byte == b',' { AfterComma } else { Done };
                    }
                    _ => {}
                }
            } else if !byte.is_ascii_whitespace() {
                match (self.state, byte) {
                    (Start, b'[') => self.state = AfterOpen,
                    (Start, _) => return Err(serde_json::Error::custom("expected a JSON array")),
                    (AfterOpen | AfterElement, b']') => self.state = Done,
                    (AfterElement, b',') => self.state = AfterComma,
                    (AfterOpen | AfterComma, b',' | b']') => {
                        return Err(serde_json::Error::custom(
                            "a JSON array has an empty element",
                        ));
                    }
                    (AfterOpen | AfterComma, _) => {
                        // The element starts here: scan this byte as its first.
                        self.element_start = Some(index);
                        self.state = AfterElement;
                        continue;
                    }
                    (AfterElement | Done, _) => {
                        return Err(serde_json::Error::custom(format!(
                            "unexpected `{}` after an element of a JSON array",
                            char::from(byte)
                        )));
                    }
                }
            }
            index += 1;
        }
        self.compact(index);
        Ok(())
    }

    /// The body has ended: fails unless the array was complete.
    pub fn finish(&self) -> Result<(), serde_json::Error> {
        match self.state {
            ArrayState::Done => Ok(()),
            ArrayState::Start => Err(serde_json::Error::custom(
                "expected a JSON array, got an empty body",
            )),
            _ => Err(serde_json::Error::custom(
                "the JSON array ended early (truncated body)",
            )),
        }
    }

    /// Moves past a string's content from `index`, up to and including its
    /// closing quote if it is in the buffer.
    fn skip_string(&mut self, mut index: usize) -> usize {
        let buffer = &self.buffer[..];
        while index < buffer.len() {
            if self.escaped {
                self.escaped = false;
                index += 1;
                continue;
            }
            match memchr::memchr2(b'"', b'\\', &buffer[index..]) {
                None => return buffer.len(),
                Some(offset) => {
                    index += offset + 1;
                    if buffer[index - 1] == b'"' {
                        self.in_string = false;
                        return index;
                    }
                    self.escaped = true;
                }
            }
        }
        index
    }

    /// Drops the bytes no element needs any more.
    fn compact(&mut self, scanned: usize) {
        let keep_from = self.element_start.unwrap_or(scanned);
        self.buffer.advance(keep_from);
        self.scanned = scanned - keep_from;
        if let Some(start) = &mut self.element_start {
            *start -= keep_from;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

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

    #[test]
    fn consumed_elements_are_dropped() {
        let mut elements = JsonArrayElements::default();
        let mut count = 0;
        elements.push(Bytes::from_static(b"["), |_| Ok(())).unwrap();
        for _ in 0..1000 {
            elements
                .push(Bytes::from_static(br#"{"id":"00u1","login":"x"},"#), |_| {
                    count += 1;
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(count, 1000);
        assert!(elements.buffer.len() < 64, "{}", elements.buffer.len());
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
    fn whole_json_reads_one_value() {
        let mut decoder = WholeJson::<Value>::default();
        decoder.push(Bytes::from_static(b"{\"a\":")).unwrap();
        decoder.push(Bytes::from_static(b"1}")).unwrap();
        assert_eq!(decoder.finish().unwrap(), json!({"a": 1}));
    }
}
