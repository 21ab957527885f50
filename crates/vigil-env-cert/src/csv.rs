//! A streaming CSV tokenizer tuned for CERT's activity files.
//!
//! Why not the `csv` crate: ingest must run at ≥1M rows/s on one core, and almost every CERT
//! row is unquoted, so the fast path here is a `memchr` scan for the newline and the commas
//! with no per-field copy. Quoted fields (RFC 4180: `"a,b"`, `""` escapes, embedded newlines)
//! take a slower path that unescapes into a scratch buffer. Memory is bounded by one buffer
//! plus the longest record, capped by `max_record` so corrupt input cannot exhaust memory.
//! The `csv` crate serves as the oracle in this module's property tests.
//!
//! Conventions: a final `\r` before `\n` is dropped (CRLF files); a quote only opens a quoted
//! field at the start of a field (elsewhere it is literal, like the `csv` crate); blank lines
//! are skipped; a UTF-8 byte-order mark at the start of the file is ignored.

use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memchr2};

use crate::error::CsvError;

/// Default cap on one record's length in bytes (real CERT rows are < 10 KiB).
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;
const READ_CHUNK: usize = 1 << 18;

/// One record: its starting line and its fields.
#[derive(Debug)]
pub struct Record<'a> {
    /// 1-based line number where the record starts.
    pub line: u64,
    data: &'a [u8],
    fields: &'a [(u32, u32)],
}

impl<'a> Record<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the record has no field (never returned by the reader).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Field `i` (unescaped bytes), or an empty slice when out of range.
    pub fn get(&self, i: usize) -> &'a [u8] {
        match self.fields.get(i) {
            Some(&(s, e)) => &self.data[s as usize..e as usize],
            None => &[],
        }
    }

    /// All fields.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.fields.len()).map(|i| self.get(i))
    }
}

/// Failure of [`CsvReader::next_record`].
#[derive(Debug)]
pub enum ReadError {
    /// The underlying reader failed.
    Io(io::Error),
    /// The CSV structure is broken at `line`.
    Csv {
        /// Line where the record starts.
        line: u64,
        /// The problem.
        error: CsvError,
    },
}

/// Streaming reader over any `Read`.
#[derive(Debug)]
pub struct CsvReader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    bom_checked: bool,
    line: u64,
    max_record: usize,
    fields: Vec<(u32, u32)>,
    scratch: Vec<u8>,
    quoted: bool,
    current_line: u64,
    bytes_read: u64,
}

impl<R: Read> CsvReader<R> {
    /// A reader with the default record-length cap.
    pub fn new(src: R) -> Self {
        Self::with_max_record(src, DEFAULT_MAX_RECORD)
    }

    /// A reader that rejects records longer than `max_record` bytes.
    pub fn with_max_record(src: R, max_record: usize) -> Self {
        Self {
            src,
            buf: vec![0; READ_CHUNK * 2],
            start: 0,
            end: 0,
            eof: false,
            bom_checked: false,
            line: 1,
            max_record: max_record.max(16),
            fields: Vec::with_capacity(16),
            scratch: Vec::new(),
            quoted: false,
            current_line: 0,
            bytes_read: 0,
        }
    }

    /// Bytes consumed from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads more data, compacting the buffer first; returns false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK {
            let want = (self.end + READ_CHUNK).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes_read += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Finds the end of the record starting at `self.start`: returns `(end_of_content,
    /// next_start, saw_quote)`, refilling as needed.
    fn find_record(&mut self) -> Result<Option<(usize, usize, bool)>, ReadError> {
        let mut off = 0usize; // scan offset relative to start (survives compaction)
        let mut in_quotes = false;
        let mut saw_quote = false;
        loop {
            let (s, e) = (self.start, self.end);
            let mut pos = s + off;
            let mut need_more = false;
            while pos < e {
                if in_quotes {
                    match memchr(b'"', &self.buf[pos..e]) {
                        Some(i) => {
                            let q = pos + i;
                            if q + 1 >= e && !self.eof {
                                pos = q;
                                need_more = true;
                                break;
                            }
                            if q + 1 < e && self.buf[q + 1] == b'"' {
                                pos = q + 2;
                            } else {
                                in_quotes = false;
                                pos = q + 1;
                            }
                        }
                        None => {
                            pos = e;
                        }
                    }
                } else {
                    match memchr2(b'\n', b'"', &self.buf[pos..e]) {
                        Some(i) => {
                            let p = pos + i;
                            if self.buf[p] == b'\n' {
                                return Ok(Some((p, p + 1, saw_quote)));
                            }
                            if p == s || self.buf[p - 1] == b',' {
                                in_quotes = true;
                                saw_quote = true;
                            }
                            pos = p + 1;
                        }
                        None => pos = e,
                    }
                }
            }
            if !need_more && self.eof {
                if in_quotes {
                    return Err(ReadError::Csv { line: self.line, error: CsvError::UnterminatedQuote });
                }
                if s == e {
                    return Ok(None);
                }
                return Ok(Some((e, e, saw_quote)));
            }
            off = pos - s;
            if e - s > self.max_record {
                return Err(ReadError::Csv {
                    line: self.line,
                    error: CsvError::RecordTooLong { limit: self.max_record },
                });
            }
            self.fill().map_err(ReadError::Io)?;
        }
    }

    /// The next non-blank record, or `None` at end of input.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        Ok(if self.advance()? { Some(self.current()) } else { None })
    }

    /// Moves to the next non-blank record; false at end of input. Read it with
    /// [`CsvReader::current`] (split from `advance` so callers can skip records in a loop
    /// and still return a borrowed record).
    pub fn advance(&mut self) -> Result<bool, ReadError> {
        loop {
            if !self.bom_checked {
                while self.end - self.start < 3 && self.fill().map_err(ReadError::Io)? {}
                if self.buf[self.start..self.end].starts_with(&[0xEF, 0xBB, 0xBF]) {
                    self.start += 3;
                }
                self.bom_checked = true;
            }
            let Some((content_end, next, quoted)) = self.find_record()? else {
                self.fields.clear();
                return Ok(false);
            };
            let rs = self.start;
            let mut re = content_end;
            if re > rs && self.buf[re - 1] == b'\r' {
                re -= 1;
            }
            let line = self.line;
            let newlines = if quoted { memchr_iter(b'\n', &self.buf[rs..content_end]).count() } else { 0 };
            self.line += 1 + newlines as u64;
            self.start = next;
            if re > self.max_record + rs {
                return Err(ReadError::Csv { line, error: CsvError::RecordTooLong { limit: self.max_record } });
            }
            if re == rs {
                continue; // blank line
            }
            self.current_line = line;
            self.fields.clear();
            self.quoted = quoted;
            if quoted {
                split_quoted(&self.buf[rs..re], &mut self.scratch, &mut self.fields);
                return Ok(true);
            }
            let rec = &self.buf[rs..re];
            let mut f0 = 0usize;
            // Offsets are relative to the whole buffer so no copy is needed.
            for c in memchr_iter(b',', rec) {
                self.fields.push(((rs + f0) as u32, (rs + c) as u32));
                f0 = c + 1;
            }
            self.fields.push(((rs + f0) as u32, re as u32));
            return Ok(true);
        }
    }

    /// The record [`CsvReader::advance`] moved to (empty before the first call or at the end).
    pub fn current(&self) -> Record<'_> {
        let data: &[u8] = if self.quoted { &self.scratch } else { &self.buf };
        Record { line: self.current_line, data, fields: &self.fields }
    }
}

/// Splits a record that contains quotes, unescaping into `out`.
fn split_quoted(rec: &[u8], out: &mut Vec<u8>, fields: &mut Vec<(u32, u32)>) {
    out.clear();
    let mut i = 0;
    let mut field_start = 0usize;
    let mut at_field_start = true;
    let mut in_quotes = false;
    while i < rec.len() {
        let b = rec[i];
        if in_quotes {
            if b == b'"' {
                if rec.get(i + 1) == Some(&b'"') {
                    out.push(b'"');
                    i += 2;
                    continue;
                }
                in_quotes = false;
            } else {
                out.push(b);
            }
        } else if b == b',' {
            fields.push((field_start as u32, out.len() as u32));
            field_start = out.len();
            at_field_start = true;
            i += 1;
            continue;
        } else if b == b'"' && at_field_start {
            in_quotes = true;
        } else {
            out.push(b);
        }
        at_field_start = false;
        i += 1;
    }
    fields.push((field_start as u32, out.len() as u32));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(input: &[u8]) -> Result<Vec<(u64, Vec<Vec<u8>>)>, String> {
        let mut r = CsvReader::with_max_record(input, 4096);
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(rec)) => out.push((rec.line, rec.iter().map(<[u8]>::to_vec).collect())),
                Ok(None) => return Ok(out),
                Err(ReadError::Csv { line, error }) => return Err(format!("{line}: {error}")),
                Err(ReadError::Io(e)) => return Err(e.to_string()),
            }
        }
    }

    fn strs(v: &[Vec<u8>]) -> Vec<&str> {
        v.iter().map(|f| std::str::from_utf8(f).unwrap()).collect()
    }

    #[test]
    fn quoted_commas_crlf_blank_lines_and_bom() {
        let input = b"\xEF\xBB\xBFa,b,c\r\n1,\"x, y\",3\r\n\r\n4,\"he said \"\"hi\"\"\",\n\"multi\nline\",5,6\n7,8,9";
        let recs = all(input).unwrap();
        assert_eq!(recs.len(), 5);
        assert_eq!(strs(&recs[0].1), ["a", "b", "c"]);
        assert_eq!(strs(&recs[1].1), ["1", "x, y", "3"]);
        assert_eq!(recs[2].0, 4, "the blank line 3 is skipped but counted");
        assert_eq!(strs(&recs[2].1), ["4", "he said \"hi\"", ""]);
        assert_eq!(strs(&recs[3].1), ["multi\nline", "5", "6"]);
        assert_eq!(recs[4].0, 7, "a quoted newline advances the line count");
        assert_eq!(strs(&recs[4].1), ["7", "8", "9"]);
    }

    #[test]
    fn literal_quote_inside_unquoted_field() {
        let recs = all(b"a\"b,c\n").unwrap();
        assert_eq!(strs(&recs[0].1), ["a\"b", "c"]);
    }

    #[test]
    fn unterminated_quote_and_long_record_are_errors_with_lines() {
        assert_eq!(all(b"a,b\n1,\"open\n2,3\n").unwrap_err(), "2: quoted field is never closed");
        let long = format!("a\n{}\n", "x".repeat(5000));
        assert_eq!(all(long.as_bytes()).unwrap_err(), "2: record longer than 4096 bytes");
    }

    #[test]
    fn tiny_reads_give_the_same_records() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let input = b"1,\"a,\"\"b\"\"\",c\r\n2,,\n\"\",x\n";
        let mut r = CsvReader::new(Trickle(input));
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            got.push(rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
        }
        assert_eq!(got, all(input).unwrap().into_iter().map(|r| r.1).collect::<Vec<_>>());
    }

    /// Well-formed CSV: agrees with the `csv` crate field for field.
    fn oracle(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut rdr =
            ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        rdr.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
    }

    fn field() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b' ')], 0..6)
    }

    fn encode(rows: &[Vec<Vec<u8>>], crlf: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            for (i, f) in row.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if f.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) || f.is_empty() && row.len() == 1 {
                    out.push(b'"');
                    for &b in f {
                        if b == b'"' {
                            out.push(b'"');
                        }
                        out.push(b);
                    }
                    out.push(b'"');
                } else {
                    out.extend_from_slice(f);
                }
            }
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        out
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = all(&bytes);
        }

        #[test]
        fn never_panics_on_csvish_bytes(
            bytes in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'x')], 0..512)
        ) {
            let _ = all(&bytes);
        }

        #[test]
        fn round_trips_and_matches_the_csv_crate(
            rows in proptest::collection::vec(proptest::collection::vec(field(), 1..5), 0..8),
            crlf in any::<bool>(),
        ) {
            let bytes = encode(&rows, crlf);
            let ours: Vec<Vec<Vec<u8>>> = all(&bytes).unwrap().into_iter().map(|r| r.1).collect();
            prop_assert_eq!(&ours, &oracle(&bytes));
            prop_assert_eq!(ours, rows);
        }
    }
}
