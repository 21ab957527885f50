//! A small streaming safetensors reader and writer.
//!
//! Why our own: loading must stream tensor by tensor (peak memory ≈ the model in its compute
//! dtype plus one small read buffer) and convert bf16/f16/f32 to the compute dtype while reading,
//! and every malformed or truncated file must become a typed error naming the file and tensor.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use burn::tensor::TensorData;
use half::{bf16, f16};
use serde_json::{Map, Value};

use crate::config::ComputeDtype;
use crate::error::{ModelError, Result};

/// Largest header we accept (the format's own limit is 100 MB).
const MAX_HEADER: u64 = 100_000_000;
/// Read buffer for streaming conversion.
const CHUNK: usize = 1 << 20;

/// Element type of a tensor on disk (only the float types a checkpoint may use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileDtype {
    /// float32
    F32,
    /// bfloat16
    Bf16,
    /// float16
    F16,
}

impl FileDtype {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "F32" => Some(Self::F32),
            "BF16" => Some(Self::Bf16),
            "F16" => Some(Self::F16),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::Bf16 => "BF16",
            Self::F16 => "F16",
        }
    }
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::Bf16 | Self::F16 => 2,
        }
    }
}

impl From<ComputeDtype> for FileDtype {
    fn from(d: ComputeDtype) -> Self {
        match d {
            ComputeDtype::F32 => Self::F32,
            ComputeDtype::Bf16 => Self::Bf16,
            ComputeDtype::F16 => Self::F16,
        }
    }
}

/// One tensor's header entry.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    /// Name.
    pub name: String,
    /// Element type.
    pub dtype: FileDtype,
    /// Shape.
    pub shape: Vec<usize>,
    /// Absolute byte offset of the data in the file.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
}

/// An open safetensors file whose header has been checked against the file size.
#[derive(Debug)]
pub struct SafetensorsReader {
    path: PathBuf,
    file: File,
    tensors: Vec<TensorInfo>,
}

impl SafetensorsReader {
    /// Opens `path` and validates its header (names, dtypes, shapes, offsets within the file).
    pub fn open(path: &Path) -> Result<Self> {
        let err = |message: String| ModelError::Safetensors {
            path: path.into(),
            message,
        };
        let mut file = File::open(path).map_err(|e| ModelError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| ModelError::io(path, e))?.len();
        let mut n = [0u8; 8];
        file.read_exact(&mut n)
            .map_err(|_| err(format!("truncated: file is {file_len} bytes, no header")))?;
        let header_len = u64::from_le_bytes(n);
        if header_len > MAX_HEADER || 8 + header_len > file_len {
            return Err(err(format!(
                "truncated or corrupt: header of {header_len} bytes in a {file_len}-byte file"
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)
            .map_err(|e| ModelError::io(path, e))?;
        let value: Value =
            serde_json::from_slice(&header).map_err(|e| err(format!("header is not JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| err("header is not a JSON object".into()))?;
        let data_start = 8 + header_len;
        let mut tensors = Vec::with_capacity(obj.len());
        for (name, entry) in obj {
            if name == "__metadata__" {
                continue;
            }
            tensors.push(parse_entry(path, name, entry, data_start, file_len)?);
        }
        tensors.sort_by_key(|t| t.start);
        Ok(Self {
            path: path.into(),
            file,
            tensors,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Header entries, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// Reads one tensor, converting to `to` while streaming (never holds two full copies).
    pub fn read(&mut self, info: &TensorInfo, to: ComputeDtype) -> Result<TensorData> {
        self.read_in(info, to, None)
    }

    /// Reads a 2-D tensor `[r, c]` as its transpose `[c, r]`, converted to `to`, writing each
    /// value straight to its transposed place: loading never holds the tensor twice (an untied
    /// LM head is a fifth of a small model's weights).
    pub fn read_transposed(&mut self, info: &TensorInfo, to: ComputeDtype) -> Result<TensorData> {
        let &[r, c] = info.shape.as_slice() else {
            return Err(ModelError::Tensor {
                path: self.path.clone(),
                tensor: info.name.clone(),
                message: format!("expected a 2-D tensor to transpose, found shape {:?}", info.shape),
            });
        };
        self.read_in(info, to, Some([r, c]))
    }

    fn read_in(&mut self, info: &TensorInfo, to: ComputeDtype, transpose: Option<[usize; 2]>) -> Result<TensorData> {
        let n: usize = info.shape.iter().product();
        self.file
            .seek(SeekFrom::Start(info.start))
            .map_err(|e| ModelError::io(&self.path, e))?;
        let mut reader = (&mut self.file).take(info.len);
        let path = self.path.clone();
        let name = info.name.clone();
        let mut chunks = Chunks {
            reader: &mut reader,
            buf: vec![0u8; CHUNK],
            path: &path,
            name: &name,
        };
        let shape = match transpose {
            Some([r, c]) => vec![c, r],
            None => info.shape.clone(),
        };
        let data = match to {
            ComputeDtype::F32 => TensorData::new(chunks.convert(n, info.dtype, to_f32, transpose)?, shape),
            ComputeDtype::Bf16 => TensorData::new(chunks.convert(n, info.dtype, to_bf16, transpose)?, shape),
            ComputeDtype::F16 => TensorData::new(chunks.convert(n, info.dtype, to_f16, transpose)?, shape),
        };
        Ok(data)
    }

    /// Reads one tensor as f32 values (adapters, references in tests).
    pub fn read_f32(&mut self, info: &TensorInfo) -> Result<Vec<f32>> {
        let data = self.read(info, ComputeDtype::F32)?;
        data.to_vec::<f32>().map_err(|e| ModelError::Tensor {
            path: self.path.clone(),
            tensor: info.name.clone(),
            message: format!("{e:?}"),
        })
    }
}

fn parse_entry(
    path: &Path,
    name: &str,
    entry: &Value,
    data_start: u64,
    file_len: u64,
) -> Result<TensorInfo> {
    let terr = |message: String| ModelError::Tensor {
        path: path.into(),
        tensor: name.into(),
        message,
    };
    let dtype_s = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| terr("no dtype".into()))?;
    let dtype = FileDtype::parse(dtype_s).ok_or_else(|| {
        terr(format!(
            "dtype {dtype_s} is not a float type (expected F32, BF16 or F16)"
        ))
    })?;
    let shape: Vec<usize> = entry
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| terr("no shape".into()))?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| terr("shape is not a list of integers".into()))?;
    let offsets = entry
        .get("data_offsets")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
        .ok_or_else(|| terr("data_offsets must be [begin, end]".into()))?;
    let (begin, end) = offsets;
    let elems = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let expected = elems
        .and_then(|e| e.checked_mul(dtype.size() as u64))
        .ok_or_else(|| terr("shape overflows".into()))?;
    if end < begin || end - begin != expected {
        return Err(terr(format!(
            "data_offsets [{begin}, {end}] do not match shape {shape:?} of {dtype_s}"
        )));
    }
    if data_start + end > file_len {
        return Err(terr(format!(
            "truncated file: data ends at byte {} but the file has {file_len} bytes",
            data_start + end
        )));
    }
    Ok(TensorInfo {
        name: name.into(),
        dtype,
        shape,
        start: data_start + begin,
        len: expected,
    })
}

struct Chunks<'a, R: Read> {
    reader: &'a mut R,
    buf: Vec<u8>,
    path: &'a Path,
    name: &'a str,
}

impl<R: Read> Chunks<'_, R> {
    /// Reads `n` elements of `from`, converting each with `conv` into the output vector, in file
    /// order or, for `transpose: Some([r, c])`, element `(i, j)` at `j·r + i`.
    fn convert<T: Copy + Default>(
        &mut self,
        n: usize,
        from: FileDtype,
        conv: fn(FileDtype, &[u8]) -> T,
        transpose: Option<[usize; 2]>,
    ) -> Result<Vec<T>> {
        let size = from.size();
        let mut out = match transpose {
            Some(_) => vec![T::default(); n],
            None => Vec::with_capacity(n),
        };
        let per_chunk = self.buf.len() / size;
        let mut done = 0;
        while done < n {
            let take = per_chunk.min(n - done);
            let bytes = &mut self.buf[..take * size];
            self.reader
                .read_exact(bytes)
                .map_err(|e| ModelError::Tensor {
                    path: self.path.into(),
                    tensor: self.name.into(),
                    message: format!("data could not be read (truncated file?): {e}"),
                })?;
            let values = bytes.chunks_exact(size).map(|b| conv(from, b));
            match transpose {
                None => out.extend(values),
                Some([r, c]) => {
                    let (mut i, mut j) = (done / c, done % c);
                    for v in values {
                        out[j * r + i] = v;
                        j += 1;
                        if j == c {
                            (i, j) = (i + 1, 0);
                        }
                    }
                }
            }
            done += take;
        }
        Ok(out)
    }
}

fn raw_f32(from: FileDtype, b: &[u8]) -> f32 {
    match from {
        FileDtype::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        FileDtype::Bf16 => bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32(),
        FileDtype::F16 => f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32(),
    }
}
fn to_f32(from: FileDtype, b: &[u8]) -> f32 {
    raw_f32(from, b)
}
fn to_bf16(from: FileDtype, b: &[u8]) -> bf16 {
    match from {
        FileDtype::Bf16 => bf16::from_bits(u16::from_le_bytes([b[0], b[1]])),
        _ => bf16::from_f32(raw_f32(from, b)),
    }
}
fn to_f16(from: FileDtype, b: &[u8]) -> f16 {
    match from {
        FileDtype::F16 => f16::from_bits(u16::from_le_bytes([b[0], b[1]])),
        _ => f16::from_f32(raw_f32(from, b)),
    }
}

/// A tensor about to be written: name, dtype, shape.
#[derive(Debug, Clone)]
pub struct TensorSpec {
    /// Name.
    pub name: String,
    /// On-disk type.
    pub dtype: FileDtype,
    /// Shape.
    pub shape: Vec<usize>,
}

fn header_bytes(specs: &[TensorSpec]) -> Vec<u8> {
    let mut map = Map::new();
    let mut meta = Map::new();
    meta.insert("format".into(), Value::String("pt".into()));
    map.insert("__metadata__".into(), Value::Object(meta));
    let mut offset = 0u64;
    for s in specs {
        let len = s.shape.iter().product::<usize>() as u64 * s.dtype.size() as u64;
        let mut e = Map::new();
        e.insert("dtype".into(), Value::String(s.dtype.name().into()));
        e.insert(
            "shape".into(),
            Value::Array(s.shape.iter().map(|&d| Value::from(d)).collect()),
        );
        e.insert(
            "data_offsets".into(),
            Value::Array(vec![Value::from(offset), Value::from(offset + len)]),
        );
        map.insert(s.name.clone(), Value::Object(e));
        offset += len;
    }
    let mut header = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header);
    out
}

/// Encodes f32 values as `dtype` little-endian bytes.
pub(crate) fn encode(values: &[f32], dtype: FileDtype, out: &mut Vec<u8>) {
    match dtype {
        FileDtype::F32 => values.iter().for_each(|v| out.extend(v.to_le_bytes())),
        FileDtype::Bf16 => values
            .iter()
            .for_each(|v| out.extend(bf16::from_f32(*v).to_bits().to_le_bytes())),
        FileDtype::F16 => values
            .iter()
            .for_each(|v| out.extend(f16::from_f32(*v).to_bits().to_le_bytes())),
    }
}

/// Serializes small tensors (adapters, gradients) into a safetensors byte buffer.
pub fn to_bytes(tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>, dtype: FileDtype) -> Vec<u8> {
    let specs: Vec<TensorSpec> = tensors
        .iter()
        .map(|(name, (shape, _))| TensorSpec {
            name: name.clone(),
            dtype,
            shape: shape.clone(),
        })
        .collect();
    let mut out = header_bytes(&specs);
    for (_, values) in tensors.values() {
        encode(values, dtype, &mut out);
    }
    out
}

/// Writes a large safetensors file tensor by tensor: `fill(i)` returns the values of
/// `specs[i]` as f32. The file appears atomically (temp file, fsync, rename).
pub fn write_streaming(
    path: &Path,
    specs: &[TensorSpec],
    mut fill: impl FnMut(usize) -> Vec<f32>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let io = |e| ModelError::io(&tmp, e);
    let file = File::create(&tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(CHUNK, file);
    w.write_all(&header_bytes(specs)).map_err(io)?;
    let mut buf = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let values = fill(i);
        debug_assert_eq!(values.len(), s.shape.iter().product::<usize>());
        buf.clear();
        encode(&values, s.dtype, &mut buf);
        w.write_all(&buf).map_err(io)?;
    }
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read_transposed` gives `[c, r]` with element `(i, j)` at `j·r + i`, across chunk
    /// boundaries that fall inside a row, from f32 and bf16 files.
    #[test]
    fn read_transposed_equals_the_transpose() {
        let dir = tempfile::tempdir().unwrap();
        // 3 × 100 000 f32 is more than one 1 MiB read chunk, which ends mid-row.
        for (dtype, [r, c]) in [(FileDtype::F32, [3usize, 100_000usize]), (FileDtype::Bf16, [5, 7])] {
            let values: Vec<f32> = (0..r * c).map(|e| (e % 251) as f32).collect();
            let path = dir.path().join(format!("{dtype:?}.safetensors"));
            let tensors = BTreeMap::from([("w".to_string(), (vec![r, c], values.clone()))]);
            std::fs::write(&path, to_bytes(&tensors, dtype)).unwrap();
            let mut reader = SafetensorsReader::open(&path).unwrap();
            let info = reader.tensors()[0].clone();
            let t = reader.read_transposed(&info, ComputeDtype::F32).unwrap();
            assert_eq!(t.shape.as_slice(), &[c, r]);
            let got = t.to_vec::<f32>().unwrap();
            for i in 0..r {
                for j in 0..c {
                    assert_eq!(got[j * r + i], values[i * c + j], "{dtype:?} ({i}, {j})");
                }
            }
        }
    }
}
