//! Where a plan keeps its changes: JSON lines in an unnamed temporary
//! file (removed by the operating system on every exit of the process),
//! written once, then read by as many readers as wanted, each with its own
//! position (positional reads: they never move a shared cursor).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The read buffer of a reader.
const READ_BUFFER: usize = 64 * 1024;

/// A spool being written.
pub(crate) struct SpoolWriter {
    out: BufWriter<File>,
}

impl SpoolWriter {
    /// A new, empty spool.
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Self {
            out: BufWriter::new(tempfile::tempfile()?),
        })
    }

    /// Appends one record.
    pub(crate) fn push(&mut self, record: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
    }

    /// The spool, complete.
    pub(crate) fn finish(self) -> io::Result<Spool> {
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(Spool {
            file: Arc::new(file),
        })
    }
}

/// A spool, written: read it with [`Spool::read`].
#[derive(Clone, Debug)]
pub(crate) struct Spool {
    file: Arc<File>,
}

impl Spool {
    /// Its records from the first, decoded as `T`.
    pub(crate) fn read<T: DeserializeOwned>(&self) -> SpoolReader<T> {
        SpoolReader {
            file: Arc::clone(&self.file),
            offset: 0,
            buffer: Vec::new(),
            start: 0,
            record: PhantomData,
        }
    }
}

/// The records of a spool, one by one.
pub(crate) struct SpoolReader<T> {
    file: Arc<File>,
    /// Where the next read from the file starts.
    offset: u64,
    /// Bytes read and not yet decoded, from `start`.
    buffer: Vec<u8>,
    start: usize,
    record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for SpoolReader<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        loop {
            if let Some(end) = self.buffer[self.start..].iter().position(|b| *b == b'\n') {
                let line = &self.buffer[self.start..self.start + end];
                self.start += end + 1;
                return Some(serde_json::from_slice(line).map_err(io::Error::from));
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            let have = self.buffer.len();
            self.buffer.resize(have + READ_BUFFER, 0);
            match read_at(&self.file, &mut self.buffer[have..], self.offset) {
                Ok(0) => {
                    self.buffer.truncate(have);
                    return (!self.buffer.is_empty()).then(|| {
                        Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "a spool cut short",
                        ))
                    });
                }
                Ok(count) => {
                    self.buffer.truncate(have + count);
                    self.offset += count as u64;
                }
                Err(error) => {
                    self.buffer.truncate(have);
                    return Some(Err(error));
                }
            }
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_each_read_every_record_from_the_first() {
        let mut writer = SpoolWriter::new().unwrap();
        let long = "x".repeat(READ_BUFFER * 2);
        for n in 0..1000_u32 {
            writer
                .push(&(
                    n,
                    if n == 500 {
                        long.clone()
                    } else {
                        n.to_string()
                    },
                ))
                .unwrap();
        }
        let spool = writer.finish().unwrap();
        let mut one = spool.read::<(u32, String)>();
        let mut two = spool.read::<(u32, String)>();
        assert_eq!(one.next().unwrap().unwrap().0, 0);
        assert_eq!(two.next().unwrap().unwrap().0, 0);
        let rest: Vec<u32> = one.map(|record| record.unwrap().0).collect();
        assert_eq!(rest, (1..1000).collect::<Vec<_>>());
        assert_eq!(two.nth(499).unwrap().unwrap().1.len(), long.len());
    }
}
