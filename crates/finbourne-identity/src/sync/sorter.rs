//! An external sort: records sorted by a text key in memory that does not
//! grow with their number.
//!
//! Records are buffered, serialised, up to a budget ([`RUN_BYTES`]); a full
//! buffer is sorted and written to a *run*, an unnamed temporary file
//! (`tempfile::tempfile`: on unix it has no name from the moment it is
//! made, so the operating system removes it on every exit of the process,
//! a crash or a `kill -9` included). The sorted records are then read back
//! by merging the runs (a k-way merge over a heap, one buffered reader a
//! run). Records of equal keys come back in the order they were pushed.
//!
//! Written here rather than taken from a crate (`extsort` writes its runs
//! as named files in a temporary directory, which a killed process leaves
//! behind): what is sorted is people's accounts.
//!
//! A run is lines of `KEY\tVALUE\n`, both JSON (a JSON string holds no raw
//! tab nor line break, so the first tab ends the key).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The bytes of serialised records a sorter holds before it writes a run.
pub(crate) const RUN_BYTES: usize = 16 * 1024 * 1024;

/// The read buffer of each run while merging.
const READ_BUFFER: usize = 32 * 1024;

/// Records of type `T`, being sorted by key.
pub(crate) struct Sorter<T> {
    buffer: Vec<(String, Vec<u8>)>,
    bytes: usize,
    budget: usize,
    runs: Vec<File>,
    record: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> Sorter<T> {
    /// An empty sorter with the default budget.
    pub(crate) fn new() -> Self {
        Self::with_budget(RUN_BYTES)
    }

    /// An empty sorter writing a run every `budget` bytes.
    pub(crate) fn with_budget(budget: usize) -> Self {
        Self {
            buffer: Vec::new(),
            bytes: 0,
            budget,
            runs: Vec::new(),
            record: PhantomData,
        }
    }

    /// Adds a record; a run is written when the buffer is full.
    pub(crate) fn push(&mut self, key: String, value: &T) -> io::Result<()> {
        if self.add(key, value)? {
            let full = std::mem::take(&mut self.buffer);
            self.bytes = 0;
            self.runs.push(write_run(full)?);
        }
        Ok(())
    }

    /// Adds a record; a full buffer is sorted and written off the async
    /// runtime's threads.
    pub(crate) async fn push_async(&mut self, key: String, value: &T) -> io::Result<()> {
        if self.add(key, value)? {
            let full = std::mem::take(&mut self.buffer);
            self.bytes = 0;
            let run = tokio::task::spawn_blocking(move || write_run(full))
                .await
                .map_err(io::Error::other)??;
            self.runs.push(run);
        }
        Ok(())
    }

    /// Buffers a record; whether the buffer is full.
    fn add(&mut self, key: String, value: &T) -> io::Result<bool> {
        let value = serde_json::to_vec(value)?;
        self.bytes += key.len() + value.len() + 48;
        self.buffer.push((key, value));
        Ok(self.bytes >= self.budget)
    }

    /// The records in key order.
    pub(crate) fn finish(self) -> io::Result<Sorted<T>> {
        let mut sources = Vec::with_capacity(self.runs.len() + 1);
        for mut run in self.runs {
            run.seek(SeekFrom::Start(0))?;
            sources.push(Source::File(BufReader::with_capacity(READ_BUFFER, run)));
        }
        let mut last = self.buffer;
        // Stable: equal keys keep the order they were pushed in.
        last.sort_by(|a, b| a.0.cmp(&b.0));
        sources.push(Source::Memory(last.into_iter()));
        let mut sorted = Sorted {
            sources,
            heap: BinaryHeap::new(),
            record: PhantomData,
        };
        for index in 0..sorted.sources.len() {
            sorted.refill(index)?;
        }
        Ok(sorted)
    }
}

/// Sorts `records` by key and writes them to a new run.
fn write_run(mut records: Vec<(String, Vec<u8>)>) -> io::Result<File> {
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = BufWriter::new(tempfile::tempfile()?);
    for (key, value) in &records {
        serde_json::to_writer(&mut out, key)?;
        out.write_all(b"\t")?;
        out.write_all(value)?;
        out.write_all(b"\n")?;
    }
    out.into_inner().map_err(io::IntoInnerError::into_error)
}

/// Where sorted records come from: a run on disk, or the last buffer.
enum Source {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<(String, Vec<u8>)>),
}

impl Source {
    fn next(&mut self) -> io::Result<Option<(String, Vec<u8>)>> {
        match self {
            Source::Memory(records) => Ok(records.next()),
            Source::File(reader) => {
                let mut line = Vec::new();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    return Ok(None);
                }
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                let tab = line.iter().position(|byte| *byte == b'\t').ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "a run line without its key")
                })?;
                let key: String = serde_json::from_slice(&line[..tab])?;
                line.drain(..=tab);
                Ok(Some((key, line)))
            }
        }
    }
}

/// The records of a [`Sorter`], in key order.
pub(crate) struct Sorted<T> {
    sources: Vec<Source>,
    /// The next record of each source that has one: key, source, value.
    heap: BinaryHeap<Reverse<(String, usize, Vec<u8>)>>,
    record: PhantomData<fn(T) -> T>,
}

impl<T: DeserializeOwned> Sorted<T> {
    fn refill(&mut self, index: usize) -> io::Result<()> {
        if let Some((key, value)) = self.sources[index].next()? {
            self.heap.push(Reverse((key, index, value)));
        }
        Ok(())
    }

    /// The key of the next record, without taking it.
    pub(crate) fn peek_key(&self) -> Option<&str> {
        self.heap.peek().map(|Reverse((key, _, _))| key.as_str())
    }
}

impl<T: DeserializeOwned> Iterator for Sorted<T> {
    type Item = io::Result<(String, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((key, index, value)) = self.heap.pop()?;
        Some(self.refill(index).and_then(|()| {
            let value = serde_json::from_slice(&value)?;
            Ok((key, value))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_key_order_across_runs_equal_keys_in_push_order() {
        // A budget of a few records: many runs.
        let mut sorter = Sorter::<(u32, String)>::with_budget(200);
        let mut expected = Vec::new();
        for n in 0..500_u32 {
            let key = format!("k{:03}\t\n\"", (n * 7919) % 97);
            let value = (n, "line\nbreak\ttab".to_owned());
            sorter.push(key.clone(), &value).unwrap();
            expected.push((key, value));
        }
        assert!(sorter.runs.len() > 10);
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<(String, (u32, String))> =
            sorter.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn nothing_pushed_is_nothing_sorted() {
        let sorted = Sorter::<u32>::new().finish().unwrap();
        assert_eq!(sorted.peek_key(), None);
        assert_eq!(sorted.count(), 0);
    }
}
