//! Dataset → windows → splits, the path shared by `CertEnv::new` and `exp data cert windows`.

use std::sync::Arc;

use crate::answers::AnswerKey;
use crate::error::CertError;
use crate::labels::{LabelConfig, Labeler};
use crate::org::Directory;
use crate::source::DataSource;
use crate::split::{SplitBuilder, SplitConfig, Splits};
use crate::window::{BuildSummary, WindowConfig, WindowView, build_windows};

/// An opened dataset: files, answer key and (when present) the LDAP directory.
#[derive(Debug, Clone)]
pub struct Dataset {
    src: Arc<dyn DataSource>,
    labeler: Labeler,
    directory: Option<Directory>,
}

impl Dataset {
    /// Loads the answer key of `release` and the LDAP snapshots (optional: a dataset without
    /// `LDAP/` just has no roles in its windows).
    pub fn open(src: Arc<dyn DataSource>, release: &str, labels: LabelConfig) -> Result<Self, CertError> {
        labels.validate()?;
        let key = AnswerKey::load(src.as_ref(), release)?;
        let directory = if src.exists("LDAP") { Some(Directory::load(src.as_ref())?) } else { None };
        Ok(Self { src, labeler: Labeler::new(labels, key), directory })
    }

    /// The labeler (answer key + rule).
    pub fn labeler(&self) -> &Labeler {
        &self.labeler
    }

    /// The LDAP directory, if the dataset has one.
    pub fn directory(&self) -> Option<&Directory> {
        self.directory.as_ref()
    }

    /// Streams every window to `on_window`.
    pub fn windows(
        &self,
        cfg: &WindowConfig,
        on_window: impl FnMut(&WindowView<'_>) -> Result<(), CertError>,
    ) -> Result<BuildSummary, CertError> {
        build_windows(self.src.as_ref(), cfg, &self.labeler, self.directory.as_ref(), on_window)
    }

    /// Builds balanced train/eval splits in one streaming pass.
    pub fn splits(&self, window: &WindowConfig, split: &SplitConfig) -> Result<(Splits, BuildSummary), CertError> {
        let mut b = SplitBuilder::new(split.clone())?;
        let summary = self.windows(window, |v| {
            b.offer(v);
            Ok(())
        })?;
        Ok((b.finish()?, summary))
    }
}
