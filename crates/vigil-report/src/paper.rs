//! `exp report --paper DIR`: copy the report's tables and figures into `DIR/<name>/` and refresh
//! the include blocks of the write-up's Markdown files.
//!
//! An include block is
//!
//! ```text
//! <!-- vigil:include NAME/tables/comparison.md -->
//! (replaced on every refresh)
//! <!-- /vigil:include -->
//! ```
//!
//! whose body becomes the named file (relative to `DIR`). Blocks of other reports are left as
//! they are; a block naming a missing file of this report is an error naming the line.

use std::path::{Path, PathBuf};

use vigil_core::write_atomic;

use crate::ReportError;

const OPEN: &str = "<!-- vigil:include ";
const CLOSE: &str = "<!-- /vigil:include -->";

fn copy_tree(from: &Path, to: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReportError> {
    let rd = match std::fs::read_dir(from) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ReportError::io(from, e)),
    };
    for e in rd {
        let e = e.map_err(|e| ReportError::io(from, e))?;
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()), out)?;
        } else {
            let bytes = std::fs::read(&p).map_err(|e| ReportError::io(&p, e))?;
            let dst = to.join(e.file_name());
            write_atomic(&dst, &bytes).map_err(|e| ReportError::io(&dst, e))?;
            out.push(dst);
        }
    }
    Ok(())
}

/// Copies `out/{tables,figures,report.md}` to `paper/<name>/` and refreshes include blocks.
pub fn refresh(paper: &Path, name: &str, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let dst = paper.join(name);
    if dst.exists() {
        // Figures and tables of a previous report that this one no longer makes must not linger.
        for sub in ["tables", "figures"] {
            let d = dst.join(sub);
            if d.is_dir() {
                std::fs::remove_dir_all(&d).map_err(|e| ReportError::io(&d, e))?;
            }
        }
    }
    let mut files = Vec::new();
    copy_tree(&out.join("tables"), &dst.join("tables"), &mut files)?;
    copy_tree(&out.join("figures"), &dst.join("figures"), &mut files)?;
    let report = out.join("report.md");
    if report.is_file() {
        let text = std::fs::read_to_string(&report).map_err(|e| ReportError::io(&report, e))?;
        let p = dst.join("report.md");
        write_atomic(&p, text.as_bytes()).map_err(|e| ReportError::io(&p, e))?;
        files.push(p);
    }
    let rd = std::fs::read_dir(paper).map_err(|e| ReportError::io(paper, e))?;
    let mut mds: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")).collect();
    mds.sort();
    for md in mds {
        let text = std::fs::read_to_string(&md).map_err(|e| ReportError::io(&md, e))?;
        if let Some(new) = fill(&text, paper, name, &md)? {
            if new != text {
                write_atomic(&md, new.as_bytes()).map_err(|e| ReportError::io(&md, e))?;
                files.push(md);
            }
        }
    }
    Ok(files)
}

/// Returns the refreshed text, or `None` when the file has no block of report `name`.
pub fn fill(text: &str, paper: &Path, name: &str, md: &Path) -> Result<Option<String>, ReportError> {
    let mut out = String::with_capacity(text.len());
    let mut touched = false;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push_str(line);
        let t = line.trim();
        let Some(rest) = t.strip_prefix(OPEN).and_then(|r| r.strip_suffix("-->")) else {
            i += 1;
            continue;
        };
        let target = rest.trim();
        let end = (i + 1..lines.len()).find(|&j| lines[j].trim() == CLOSE);
        let Some(end) = end else {
            return Err(ReportError::parse(md, Some(i + 1), format!("include of `{target}` has no closing `{CLOSE}`")));
        };
        if target.split('/').next() != Some(name) {
            for l in &lines[i + 1..=end] {
                out.push_str(l);
            }
            i = end + 1;
            continue;
        }
        let path = paper.join(target);
        let body = std::fs::read_to_string(&path)
            .map_err(|e| ReportError::parse(md, Some(i + 1), format!("include `{target}`: {e} ({})", path.display())))?;
        let body = if target.ends_with(".md") { body } else { format!("```\n{body}```\n") };
        out.push_str(&body);
        if !body.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(lines[end]);
        touched = true;
        i = end + 1;
    }
    Ok(touched.then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_blocks_of_this_report_only() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/tables")).unwrap();
        std::fs::write(d.path().join("a/tables/t.md"), "| x |\n").unwrap();
        let md = d.path().join("paper.md");
        let text = "intro\n<!-- vigil:include a/tables/t.md -->\nold\n<!-- /vigil:include -->\n<!-- vigil:include b/tables/t.md -->\nkeep\n<!-- /vigil:include -->\n";
        let new = fill(text, d.path(), "a", &md).unwrap().unwrap();
        assert_eq!(new, "intro\n<!-- vigil:include a/tables/t.md -->\n| x |\n<!-- /vigil:include -->\n<!-- vigil:include b/tables/t.md -->\nkeep\n<!-- /vigil:include -->\n");
        assert!(fill("no blocks\n", d.path(), "a", &md).unwrap().is_none());
        let e = fill("<!-- vigil:include a/tables/missing.md -->\n<!-- /vigil:include -->\n", d.path(), "a", &md).unwrap_err();
        assert!(e.to_string().contains("paper.md:1"), "{e}");
        let e = fill("<!-- vigil:include a/tables/t.md -->\n", d.path(), "a", &md).unwrap_err();
        assert!(e.to_string().contains("no closing"), "{e}");
    }
}
