//! Where a dataset's files come from: a directory in the real r4.2 layout, or an in-memory
//! copy written by the synthetic generator (so the default environment needs no files).
//!
//! Layout (paths relative to the dataset root, as in r4.2 plus the shared `answers/` archive):
//! `logon.csv`, `device.csv`, `file.csv`, `email.csv`, `http.csv`, `psychometric.csv`,
//! `LDAP/YYYY-MM.csv`, `answers/insiders.csv`, `answers/r4.2-<scenario>/r4.2-<scenario>-<USER>.csv`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::CertError;

/// Read access to a dataset's files by relative path.
pub trait DataSource: Send + Sync + fmt::Debug {
    /// Opens `rel` for streaming.
    fn open(&self, rel: &str) -> Result<Box<dyn Read + Send>, CertError>;
    /// Whether `rel` exists.
    fn exists(&self, rel: &str) -> bool;
    /// File names (not paths) directly inside directory `rel`, sorted.
    fn list(&self, rel: &str) -> Result<Vec<String>, CertError>;
    /// The path shown in messages for `rel`.
    fn display_path(&self, rel: &str) -> PathBuf;
}

/// A dataset directory on disk; the answer files may live elsewhere (`answers_dir`), since the
/// answer key ships as a separate archive.
#[derive(Debug, Clone)]
pub struct FsSource {
    root: PathBuf,
    answers: PathBuf,
}

impl FsSource {
    /// `root` with answers in `root/answers` unless `answers_dir` is given.
    pub fn new(root: impl Into<PathBuf>, answers_dir: Option<PathBuf>) -> Self {
        let root = root.into();
        let answers = answers_dir.unwrap_or_else(|| root.join("answers"));
        Self { root, answers }
    }

    fn path(&self, rel: &str) -> PathBuf {
        match rel.strip_prefix("answers/") {
            Some(rest) => self.answers.join(rest),
            None if rel == "answers" => self.answers.clone(),
            None => self.root.join(rel),
        }
    }
}

impl DataSource for FsSource {
    fn open(&self, rel: &str) -> Result<Box<dyn Read + Send>, CertError> {
        let p = self.path(rel);
        let f = std::fs::File::open(&p).map_err(|e| CertError::io(&p, e))?;
        Ok(Box::new(f))
    }

    fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    fn list(&self, rel: &str) -> Result<Vec<String>, CertError> {
        let p = self.path(rel);
        let rd = std::fs::read_dir(&p).map_err(|e| CertError::io(&p, e))?;
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| CertError::io(&p, e))?;
            if e.file_type().map_err(|err| CertError::io(e.path(), err))?.is_file() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }

    fn display_path(&self, rel: &str) -> PathBuf {
        self.path(rel)
    }
}

/// Files held in memory (the generator's output when no directory is wanted).
#[derive(Debug, Clone, Default)]
pub struct MemSource {
    files: BTreeMap<String, Arc<Vec<u8>>>,
}

impl MemSource {
    /// An empty file set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, rel: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(rel.into(), Arc::new(bytes));
    }

    /// The bytes of `rel`.
    pub fn get(&self, rel: &str) -> Option<&[u8]> {
        self.files.get(rel).map(|b| b.as_slice())
    }

    /// All relative paths.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Total size in bytes.
    pub fn total_bytes(&self) -> usize {
        self.files.values().map(|b| b.len()).sum()
    }
}

/// `Read` over a shared buffer (so opening does not copy the file).
struct SharedCursor(Cursor<ArcBytes>);

struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Read for SharedCursor {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl DataSource for MemSource {
    fn open(&self, rel: &str) -> Result<Box<dyn Read + Send>, CertError> {
        match self.files.get(rel) {
            Some(b) => Ok(Box::new(SharedCursor(Cursor::new(ArcBytes(Arc::clone(b)))))),
            None => Err(CertError::io(self.display_path(rel), std::io::ErrorKind::NotFound.into())),
        }
    }

    fn exists(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || self.files.keys().any(|k| k.starts_with(&format!("{rel}/")))
    }

    fn list(&self, rel: &str) -> Result<Vec<String>, CertError> {
        let prefix = format!("{rel}/");
        let out: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect();
        if out.is_empty() {
            return Err(CertError::io(self.display_path(rel), std::io::ErrorKind::NotFound.into()));
        }
        Ok(out)
    }

    fn display_path(&self, rel: &str) -> PathBuf {
        Path::new("<synthetic>").join(rel)
    }
}
