//! A JSON array decoded element by element as its chunks arrive, each
//! element parsed once, straight from the chunk it lies in.
//!
//! serde_json parses each element from where it starts and says where it
//! ended; only the bytes of an element cut by the end of a chunk are kept
//! (and completed with as little of the next chunk as it needs), so memory
//! holds one chunk and one element, and no byte is scanned twice. A limit
//! on the bytes of one element bounds that element (a streamed list's).

use std::marker::PhantomData;

use bytes::{Buf, Bytes, BytesMut};
use serde::de::{DeserializeOwned, Error as _};

/// Where the array is, between elements.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
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

/// Why the elements of an array could not be read.
#[derive(Debug)]
pub(crate) enum ArrayError {
    /// The bytes are not a JSON array of `T`.
    Json(serde_json::Error),
    /// One element has more bytes than the limit.
    ElementTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl From<serde_json::Error> for ArrayError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

impl ArrayError {
    /// The error as serde_json's, for a decoder that reports only those.
    pub(crate) fn into_json(self) -> serde_json::Error {
        match self {
            Self::Json(error) => error,
            Self::ElementTooLarge { limit } => serde_json::Error::custom(format!(
                "an element of the JSON array has more than {limit} bytes"
            )),
        }
    }
}

/// The elements of a JSON array of `T`, as its chunks arrive.
#[derive(Debug)]
pub(crate) struct ArrayItems<T> {
    /// The start of an element (or token) cut by the end of a chunk.
    carry: BytesMut,
    /// How long `carry` must be before it is parsed again: twice what it
    /// was when last found short, so that an element spanning many chunks
    /// is parsed O(1) times over, not once per chunk.
    next_try: usize,
    state: State,
    /// Bytes consumed so far (elements and delimiters).
    consumed: u64,
    /// Most bytes one element may have.
    max_element: usize,
    items: PhantomData<fn() -> T>,
}

impl<T> Default for ArrayItems<T> {
    fn default() -> Self {
        Self::with_max_element(usize::MAX)
    }
}

impl<T> ArrayItems<T> {
    /// The elements of an array, none of which may have more than
    /// `max_element` bytes.
    pub(crate) fn with_max_element(max_element: usize) -> Self {
        Self {
            carry: BytesMut::new(),
            next_try: 0,
            state: State::Start,
            consumed: 0,
            max_element,
            items: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> ArrayItems<T> {
    /// Bytes of the body consumed so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Takes the next chunk; calls `each` with every element it completes.
    pub(crate) fn push(
        &mut self,
        chunk: Bytes,
        each: &mut impl FnMut(T),
    ) -> Result<(), ArrayError> {
        let mut taken = 0;
        if !self.carry.is_empty() {
            // Complete the cut element with as little of the chunk as it needs.
            loop {
                let want = self.next_try.saturating_sub(self.carry.len()).max(1);
                let more = want.min(chunk.len() - taken);
                self.carry.extend_from_slice(&chunk[taken..taken + more]);
                taken += more;
                if self.carry.len() < self.next_try {
                    return Ok(()); // the chunk ran out first
                }
                let carry = std::mem::take(&mut self.carry);
                let used = self.parse(&carry, false, each)?;
                self.carry = carry;
                let left = self.carry.len() - used;
                if used > 0 && left <= taken {
                    // What the carry still holds came from this chunk: read
                    // it from there.
                    taken -= left;
                    self.carry.clear();
                    break;
                }
                // The element still cut starts before this chunk.
                self.carry.advance(used);
                self.check_held()?;
                self.next_try = self.retry_length(self.carry.len());
                if taken == chunk.len() {
                    return Ok(());
                }
            }
        }
        let rest = &chunk[taken..];
        let used = self.parse(rest, false, each)?;
        self.carry.extend_from_slice(&rest[used..]);
        self.check_held()?;
        self.next_try = self.retry_length(self.carry.len());
        Ok(())
    }

    /// Fails when the carry, which now holds one unfinished element, has
    /// more bytes than an element may.
    fn check_held(&self) -> Result<(), ArrayError> {
        if self.carry.len() > self.max_element {
            return Err(ArrayError::ElementTooLarge {
                limit: self.max_element,
            });
        }
        Ok(())
    }

    /// The length a carry of `length` bytes, found short, must reach before
    /// it is parsed again; never past the limit of one element, so that
    /// the carry is parsed (and an element too long is found) by then.
    fn retry_length(&self, length: usize) -> usize {
        length
            .saturating_mul(2)
            .max(length + 4096)
            .min(self.max_element.saturating_add(1))
    }

    /// The body has ended: the last element, and a check that the array was
    /// complete.
    pub(crate) fn finish(&mut self, each: &mut impl FnMut(T)) -> Result<(), ArrayError> {
        let carry = std::mem::take(&mut self.carry);
        let used = self.parse(&carry, true, each)?;
        let error = match self.state {
            _ if used < carry.len() => "the JSON array ended early (truncated body)",
            State::Done => return Ok(()),
            State::Start => "expected a JSON array, got an empty body",
            _ => "the JSON array ended early (truncated body)",
        };
        Err(serde_json::Error::custom(error).into())
    }

    /// Parses what `input` holds whole; returns how many bytes that was.
    fn parse(
        &mut self,
        input: &[u8],
        at_end: bool,
        each: &mut impl FnMut(T),
    ) -> Result<usize, ArrayError> {
        use State::*;
        let mut at = 0;
        while at < input.len() {
            let byte = input[at];
            if byte.is_ascii_whitespace() {
                at += 1;
                continue;
            }
            match (self.state, byte) {
                (Start, b'[') => self.state = AfterOpen,
                (Start, _) => {
                    return Err(serde_json::Error::custom("expected a JSON array").into());
                }
                (AfterOpen | AfterElement, b']') => self.state = Done,
                (AfterElement, b',') => self.state = AfterComma,
                (AfterOpen | AfterComma, b',' | b']') => {
                    return Err(
                        serde_json::Error::custom("a JSON array has an empty element").into(),
                    );
                }
                (AfterOpen | AfterComma, _) => {
                    let mut values =
                        serde_json::Deserializer::from_slice(&input[at..]).into_iter::<T>();
                    match values.next() {
                        Some(Ok(value)) => {
                            let end = at + values.byte_offset();
                            // A value that ends with the input may go on in the
                            // next chunk (a number): wait for it.
                            if end == input.len() && !at_end {
                                break;
                            }
                            if end - at > self.max_element {
                                return Err(ArrayError::ElementTooLarge {
                                    limit: self.max_element,
                                });
                            }
                            each(value);
                            self.state = AfterElement;
                            self.consumed += (end - at) as u64;
                            at = end;
                            continue;
                        }
                        // Cut short by the end of the chunk: wait for more.
                        // A number cut after `-`, `.` or `e` is reported as
                        // invalid rather than as the end of the input.
                        Some(Err(error))
                            if !at_end
                                && (error.is_eof() || fails_at_end(&input[at..], &error)) =>
                        {
                            break;
                        }
                        Some(Err(error)) => return Err(error.into()),
                        None => break,
                    }
                }
                (AfterElement | Done, _) => {
                    return Err(serde_json::Error::custom(format!(
                        "unexpected `{}` after an element of a JSON array",
                        char::from(byte)
                    ))
                    .into());
                }
            }
            at += 1;
        }
        self.consumed += at as u64;
        Ok(at)
    }
}

/// Whether serde_json's `error`, from parsing `input`, is at its very end
/// (serde_json counts a column in bytes from the start of its line).
fn fails_at_end(input: &[u8], error: &serde_json::Error) -> bool {
    let line_start = input
        .split_inclusive(|&byte| byte == b'\n')
        .take(error.line().saturating_sub(1))
        .map(<[u8]>::len)
        .sum::<usize>();
    line_start + error.column() >= input.len()
}

#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::{Value, json};

    fn decode<T: DeserializeOwned>(body: &[u8], size: usize) -> Result<Vec<T>, serde_json::Error> {
        let mut items = ArrayItems::<T>::default();
        let mut out = Vec::new();
        for chunk in body.chunks(size) {
            items
                .push(Bytes::copy_from_slice(chunk), &mut |item| out.push(item))
                .map_err(ArrayError::into_json)?;
        }
        items
            .finish(&mut |item| out.push(item))
            .map_err(ArrayError::into_json)?;
        Ok(out)
    }

    #[test]
    fn long_elements_across_many_small_chunks() {
        let values: Vec<Value> = (0..40)
            .map(|n| json!({"id": n, "text": "x\"y\\".repeat(n * 200), "n": [n, 1.5, null]}))
            .collect();
        let body = serde_json::to_vec(&values).unwrap();
        for size in [3, 100, 4095, 4097, 20_000, body.len()] {
            assert_eq!(
                decode::<Value>(&body, size).unwrap(),
                values,
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn numbers_cut_by_a_chunk_are_read_whole() {
        let body = b" [123456789, 2 ,33333333333,4 ] ";
        for size in 1..body.len() {
            assert_eq!(
                decode::<u64>(body, size).unwrap(),
                vec![123_456_789, 2, 33_333_333_333, 4],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn numbers_cut_after_a_sign_a_point_or_an_exponent_are_read_whole() {
        // Fields a type does not know are skipped by another path of
        // serde_json, which calls a number cut after `-`, `.` or `e`
        // invalid rather than unfinished.
        let body = b"[{\"a\": -2.5e+263},\n{\"b\":\n-1.75E-134}, {\"c\": [-0.5e7, 1.0]}]";
        for size in 1..body.len() {
            let skipped = decode::<serde::de::IgnoredAny>(body, size);
            assert_eq!(skipped.unwrap().len(), 3, "chunks of {size}");
            let read: Vec<Value> = decode(body, size).unwrap();
            assert_eq!(read, serde_json::from_slice::<Vec<Value>>(body).unwrap());
        }
    }

    #[test]
    fn an_invalid_number_is_still_an_error_when_its_chunk_goes_on() {
        let body = b"[{\"a\": -x}, {\"b\": 1.}, 3]";
        for size in 1..=body.len() {
            assert!(
                decode::<serde::de::IgnoredAny>(body, size).is_err(),
                "chunks of {size}"
            );
        }
        let mut items = ArrayItems::<serde::de::IgnoredAny>::default();
        let error = items
            .push(Bytes::from_static(b"[{\"a\": 1.x, \"b\": 2}"), &mut |_| {})
            .unwrap_err()
            .into_json();
        assert!(error.to_string().contains("invalid number"), "{error}");
    }

    #[test]
    fn an_element_that_never_ends_is_parsed_a_few_times_not_once_a_chunk() {
        let mut items = ArrayItems::<Value>::default();
        let mut count = 0;
        items
            .push(Bytes::from_static(b"[\""), &mut |_| count += 1)
            .unwrap();
        let mut tries = 0;
        let mut last = 0;
        for _ in 0..10_000 {
            items
                .push(Bytes::from_static(b"0123456789"), &mut |_| count += 1)
                .unwrap();
            if items.next_try != last {
                tries += 1;
                last = items.next_try;
            }
        }
        assert!(
            tries < 20,
            "{tries} parses of 100 kB arriving 10 bytes at a time"
        );
        assert!(items.finish(&mut |_| count += 1).is_err());
        assert_eq!(count, 0);
    }

    #[test]
    fn an_element_over_the_limit_is_refused_whether_cut_or_whole() {
        let small = json!({"text": "x".repeat(100)});
        let large = json!({"text": "x".repeat(5_000)});
        let body = serde_json::to_vec(&json!([small, small, large, small])).unwrap();
        for size in [7, 1000, body.len()] {
            let mut items = ArrayItems::<Value>::with_max_element(1_000);
            let mut read = 0;
            let error = body
                .chunks(size)
                .find_map(|chunk| {
                    items
                        .push(Bytes::copy_from_slice(chunk), &mut |_| read += 1)
                        .err()
                })
                .expect("the large element was accepted");
            assert!(
                matches!(error, ArrayError::ElementTooLarge { limit: 1_000 }),
                "chunks of {size}: {error:?}"
            );
            assert_eq!(read, 2, "chunks of {size}");
            // What is held for the cut element never passes the limit by
            // more than one chunk.
            assert!(items.carry.len() <= 1_000 + size, "chunks of {size}");
        }
        let mut fits = ArrayItems::<Value>::with_max_element(10_000);
        let mut read = 0;
        fits.push(Bytes::from(body), &mut |_| read += 1).unwrap();
        fits.finish(&mut |_| read += 1).unwrap();
        assert_eq!(read, 4);
    }
}
