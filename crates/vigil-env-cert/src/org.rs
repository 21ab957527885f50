//! Organisation files: monthly `LDAP/YYYY-MM.csv` snapshots and `psychometric.csv`.
//!
//! Windows use LDAP for context only (role, work address, supervisor), never for labels:
//! leaving the company is a label leak in r4.2 (every insider leaves), so the snapshot a user
//! disappears from is not exposed to the model.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::csv::CsvReader;
use crate::error::{CertError, ValueError};
use crate::rows::{check_header, read_error};
use crate::source::DataSource;
use crate::types::UserId;

/// Header of an r4.2 LDAP snapshot.
pub const LDAP_HEADER: [&str; 9] = [
    "employee_name",
    "user_id",
    "email",
    "role",
    "business_unit",
    "functional_unit",
    "department",
    "team",
    "supervisor",
];

/// Header of `psychometric.csv`.
pub const PSYCHOMETRIC_HEADER: [&str; 7] = ["employee_name", "user_id", "o", "c", "e", "a", "n"];

/// One LDAP row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LdapRow {
    /// Full name.
    pub employee_name: String,
    /// User id.
    pub user_id: UserId,
    /// Work address.
    pub email: String,
    /// Role (`ITAdmin`, `Salesman`, ...).
    pub role: String,
    /// Always `1` in r4.2.
    pub business_unit: String,
    /// `N - Name`.
    pub functional_unit: String,
    /// `N - Name`.
    pub department: String,
    /// `N - Name`.
    pub team: String,
    /// Supervisor's full name (not an id).
    pub supervisor: String,
}

/// One psychometric row (Big Five scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Psychometric {
    /// User id.
    pub user_id: UserId,
    /// Openness, conscientiousness, extraversion, agreeableness, neuroticism.
    pub ocean: [u8; 5],
}

/// All LDAP snapshots, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// `(month "YYYY-MM", rows)`.
    pub snapshots: Vec<(String, Vec<LdapRow>)>,
    latest: HashMap<UserId, (usize, usize)>,
}

impl Directory {
    /// Reads every `LDAP/*.csv` file.
    pub fn load(src: &dyn DataSource) -> Result<Self, CertError> {
        if !src.exists("LDAP") {
            return Err(CertError::Missing { path: src.display_path("LDAP"), what: "the monthly LDAP snapshots" });
        }
        let mut dir = Directory::default();
        for name in src.list("LDAP")? {
            let Some(month) = name.strip_suffix(".csv") else { continue };
            let rel = format!("LDAP/{name}");
            let rows = read_table(src, &rel, &LDAP_HEADER, |f| {
                Ok(LdapRow {
                    employee_name: f[0].clone(),
                    user_id: UserId::parse(f[1].as_bytes())?,
                    email: f[2].clone(),
                    role: f[3].clone(),
                    business_unit: f[4].clone(),
                    functional_unit: f[5].clone(),
                    department: f[6].clone(),
                    team: f[7].clone(),
                    supervisor: f[8].clone(),
                })
            })?;
            dir.snapshots.push((month.to_string(), rows));
        }
        dir.index();
        Ok(dir)
    }

    /// Builds a directory from snapshots (generator and tests).
    pub fn from_snapshots(snapshots: Vec<(String, Vec<LdapRow>)>) -> Self {
        let mut d = Self { snapshots, latest: HashMap::new() };
        d.index();
        d
    }

    fn index(&mut self) {
        self.latest.clear();
        for (s, (_, rows)) in self.snapshots.iter().enumerate() {
            for (r, row) in rows.iter().enumerate() {
                self.latest.insert(row.user_id, (s, r));
            }
        }
    }

    /// The user's row in the last snapshot that lists them.
    pub fn user(&self, user: UserId) -> Option<&LdapRow> {
        self.latest.get(&user).map(|&(s, r)| &self.snapshots[s].1[r])
    }

    /// Number of distinct users over all snapshots.
    pub fn user_count(&self) -> usize {
        self.latest.len()
    }
}

/// Reads `psychometric.csv`.
pub fn load_psychometric(src: &dyn DataSource) -> Result<Vec<Psychometric>, CertError> {
    read_table(src, "psychometric.csv", &PSYCHOMETRIC_HEADER, |f| {
        let mut ocean = [0u8; 5];
        for (k, v) in ocean.iter_mut().enumerate() {
            *v = f[2 + k].trim().parse().map_err(|_| ValueError::Number {
                field: ["O", "C", "E", "A", "N"][k],
                value: f[2 + k].clone(),
            })?;
        }
        Ok(Psychometric { user_id: UserId::parse(f[1].as_bytes())?, ocean })
    })
}

/// Reads a small headed CSV table into typed rows; any bad row is an error (these files are
/// tiny and a wrong org chart would silently corrupt every window's context).
fn read_table<T>(
    src: &dyn DataSource,
    rel: &str,
    header: &'static [&'static str],
    mut parse: impl FnMut(&[String]) -> Result<T, ValueError>,
) -> Result<Vec<T>, CertError> {
    let path = src.display_path(rel);
    let mut csv = CsvReader::new(src.open(rel)?);
    if !csv.advance().map_err(|e| read_error(&path, e))? {
        return Err(CertError::Header { path, expected: header.join(","), found: String::new() });
    }
    check_header(&path, &csv.current(), header)?;
    let mut out = Vec::new();
    let mut fields = Vec::with_capacity(header.len());
    while csv.advance().map_err(|e| read_error(&path, e))? {
        let rec = csv.current();
        let bad = |reason| CertError::BadRow { path: path.clone(), line: rec.line, reason };
        if rec.len() != header.len() {
            return Err(bad(ValueError::FieldCount { expected: header.len(), found: rec.len() }));
        }
        fields.clear();
        for (i, f) in rec.iter().enumerate() {
            fields.push(String::from_utf8(f.to_vec()).map_err(|_| bad(ValueError::NotUtf8(header[i])))?);
        }
        out.push(parse(&fields).map_err(bad)?);
    }
    Ok(out)
}

/// Serializes rows as CSV lines (quoting fields that need it), for the generator.
pub fn csv_line(fields: &[&str]) -> String {
    let mut s = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            s.push('"');
            s.push_str(&f.replace('"', "\"\""));
            s.push('"');
        } else {
            s.push_str(f);
        }
    }
    s.push_str("\r\n");
    s
}
