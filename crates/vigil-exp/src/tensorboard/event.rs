//! TensorBoard's event-file format, written by hand: TFRecord framing around `Event` protocol
//! buffers holding scalar summaries. No maintained Rust crate fits (`tensorboard-rs` is
//! unmaintained and pulls protobuf 2 and an image library), and the subset needed is small:
//!
//! - record: `u64 len (LE)`, `u32 masked_crc32c(len bytes)`, `data`, `u32 masked_crc32c(data)`;
//! - `Event { wall_time: double = 1, step: int64 = 2, file_version: string = 3, summary:
//!   Summary = 5 }`, `Summary { value: repeated Value = 1 }`, `Value { tag: string = 1,
//!   simple_value: float = 2 }`; the first event of a file carries `file_version =
//!   "brain.Event:2"`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What the first event of every file says.
const FILE_VERSION: &str = "brain.Event:2";

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bitwise: records are a few hundred
/// bytes, once per training step.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// TFRecord's masked CRC: rotate right by 15, add a constant.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One framed record.
fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (`wire type 2`).
fn bytes_field(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// The body of an `Event` with its wall time and step.
fn event(wall_time: f64, step: u64, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = Vec::new();
    e.push(1 << 3 | 1); // wall_time: 64-bit
    e.extend_from_slice(&wall_time.to_le_bytes());
    e.push(2 << 3); // step: varint
    varint(&mut e, step);
    body(&mut e);
    e
}

/// An `Event` holding one scalar summary value per `(tag, value)`.
fn scalars_event(wall_time: f64, step: u64, scalars: &[(String, f64)]) -> Vec<u8> {
    event(wall_time, step, |e| {
        let mut summary = Vec::new();
        for (tag, v) in scalars {
            let mut value = Vec::new();
            bytes_field(&mut value, 1, tag.as_bytes());
            value.push(2 << 3 | 5); // simple_value: 32-bit float
            value.extend_from_slice(&(*v as f32).to_le_bytes());
            bytes_field(&mut summary, 1, &value);
        }
        bytes_field(e, 5, &summary);
    })
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// An event file being appended to; every write is one whole record, flushed to disk.
#[derive(Debug)]
pub(crate) struct EventFile {
    path: PathBuf,
    file: std::fs::File,
}

impl EventFile {
    /// Creates `dir/events.out.tfevents.<seconds>.vigil` (the name TensorBoard looks for),
    /// starting with the file-version event.
    pub(crate) fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let wall = now();
        let path = dir.join(format!("events.out.tfevents.{}.vigil", wall as u64));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        let mut f = Self { path, file };
        f.append(&event(wall, 0, |e| {
            bytes_field(e, 3, FILE_VERSION.as_bytes())
        }))?;
        Ok(f)
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the scalars of one step.
    pub(crate) fn scalars(&mut self, step: u64, scalars: &[(String, f64)]) -> std::io::Result<()> {
        self.append(&scalars_event(now(), step, scalars))
    }

    /// One record in one `write_all`, then `fsync`: a reader sees whole steps, and a kill
    /// leaves at most a torn last record (which TensorBoard's reader stops at).
    fn append(&mut self, event: &[u8]) -> std::io::Result<()> {
        self.file.write_all(&record(event))?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_framing_match_the_reference_values() {
        // The standard CRC-32C check value and an RFC 3720 test vector (32 zero bytes).
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        let r = record(b"abc");
        assert_eq!(r.len(), 8 + 4 + 3 + 4);
        assert_eq!(&r[..8], &3u64.to_le_bytes());
        assert_eq!(&r[12..15], b"abc");
        assert_eq!(&r[15..], &masked_crc(b"abc").to_le_bytes());
    }

    #[test]
    fn scalar_events_encode_tag_value_and_step() {
        let e = scalars_event(1.5, 300, &[("reward".into(), 0.25)]);
        // wall_time, then step 300 as a two-byte varint, then summary { value { tag, value } }.
        assert_eq!(e[0], 0x09);
        assert_eq!(&e[1..9], &1.5f64.to_le_bytes());
        assert_eq!(&e[9..12], &[0x10, 0xAC, 0x02]);
        assert_eq!(e[12], 0x2A);
        let value = [&[0x0A, 6][..], b"reward", &[0x15], &0.25f32.to_le_bytes()].concat();
        let summary = [&[0x0A, value.len() as u8][..], &value].concat();
        assert_eq!(
            &e[13..],
            &[&[summary.len() as u8][..], &summary].concat()[..]
        );
    }
}
