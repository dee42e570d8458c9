//! Reading text a line at a time with a bound on each line, so that a file
//! with one enormous line (or no line break at all: `/dev/zero`) costs the
//! bound, not the line: the bytes past it are read and dropped, and the
//! line is reported as too long.

use std::io::{self, BufRead};

/// What one call of [`read_line`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line is in the buffer, without its line break (`\n`, or
    /// `\r\n`).
    Whole,
    /// The line was longer than the bound: the buffer holds its first
    /// bytes; the rest (`length` bytes in all, line break excluded) was
    /// dropped.
    TooLong {
        /// The line's length in bytes.
        length: u64,
    },
    /// The input has ended: the buffer is empty.
    End,
}

/// Reads the next line of `reader` into `buffer` (cleared first), keeping
/// at most `max` bytes of it.
pub(crate) fn read_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buffer.clear();
    let mut length: u64 = 0;
    let mut read_any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (piece, ended) = match available.iter().position(|byte| *byte == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = max.saturating_sub(buffer.len());
        buffer.extend_from_slice(&piece[..piece.len().min(room)]);
        length = length.saturating_add(piece.len() as u64);
        let used = piece.len() + usize::from(ended);
        reader.consume(used);
        if ended {
            break;
        }
    }
    if !read_any {
        return Ok(Line::End);
    }
    if length > max as u64 {
        return Ok(Line::TooLong { length });
    }
    if buffer.last() == Some(&b'\r') {
        buffer.pop();
    }
    Ok(Line::Whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        // A tiny buffer, so that lines span several fills.
        let mut reader = io::BufReader::with_capacity(3, text);
        let mut buffer = Vec::new();
        let mut out = Vec::new();
        loop {
            let line = read_line(&mut reader, &mut buffer, max).unwrap();
            if line == Line::End {
                return out;
            }
            out.push((line, buffer.clone()));
        }
    }

    #[test]
    fn lines_are_split_and_bounded() {
        assert_eq!(
            lines(b"ab\r\n\ncdefgh\nij", 4),
            [
                (Line::Whole, b"ab".to_vec()),
                (Line::Whole, Vec::new()),
                (Line::TooLong { length: 6 }, b"cdef".to_vec()),
                (Line::Whole, b"ij".to_vec()),
            ]
        );
        assert_eq!(lines(b"", 4), []);
        assert_eq!(lines(b"abcd\n", 4), [(Line::Whole, b"abcd".to_vec())]);
    }

    #[test]
    fn an_endless_line_costs_the_bound_only() {
        let mut zeros = io::BufReader::new(io::Read::take(io::repeat(0), 10 << 20));
        let mut buffer = Vec::new();
        let line = read_line(&mut zeros, &mut buffer, 1024).unwrap();
        assert_eq!(line, Line::TooLong { length: 10 << 20 });
        assert_eq!(buffer.len(), 1024);
        assert!(buffer.capacity() < 64 * 1024, "{}", buffer.capacity());
    }
}
