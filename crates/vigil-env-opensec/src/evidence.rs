//! Evidence tables held in memory: the five log tables of the peer's SQLite schema (plus its
//! `prompt_injections` table, reachable only in compat mode), rows compiled from templates, and
//! JSON rendering of rows without intermediate allocations.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::{Deserialize, Serialize as SerializeDerive};

use crate::seed::LogTable;

/// A table the query tool can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, SerializeDerive, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Emails.
    EmailLogs,
    /// Authentication events.
    AuthLogs,
    /// Network flows.
    Netflow,
    /// Process events.
    ProcessEvents,
    /// Alerts.
    Alerts,
    /// The injection catalogue (compat mode only: it is the answer key).
    PromptInjections,
}

/// A table column; `label` columns are ground truth and exist only in compat mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: &'static str,
    /// Integer typed (otherwise text).
    pub int: bool,
    /// Ground-truth label (hidden in hardened mode).
    pub label: bool,
}

const fn t(name: &'static str) -> Column {
    Column { name, int: false, label: false }
}
const fn i(name: &'static str) -> Column {
    Column { name, int: true, label: false }
}
const fn l(name: &'static str, int: bool) -> Column {
    Column { name, int, label: true }
}

const EMAIL: &[Column] = &[
    t("email_id"),
    t("scenario_id"),
    i("step"),
    t("sender"),
    t("recipient"),
    t("subject"),
    t("body"),
    l("is_phish", true),
    l("injection_id", false),
    t("trust_tier"),
    t("source"),
    t("created_at"),
];
const AUTH: &[Column] = &[
    t("auth_id"),
    t("scenario_id"),
    i("step"),
    t("user_id"),
    t("host_id"),
    t("source_ip"),
    t("auth_type"),
    i("success"),
    t("trust_tier"),
    t("source"),
    t("created_at"),
];
const FLOW: &[Column] = &[
    t("flow_id"),
    t("scenario_id"),
    i("step"),
    t("src_host"),
    t("dst_host"),
    t("dst_domain"),
    i("dst_port"),
    t("protocol"),
    i("bytes_sent"),
    i("bytes_received"),
    t("trust_tier"),
    t("source"),
    t("created_at"),
];
const PROC: &[Column] = &[
    t("event_id"),
    t("scenario_id"),
    i("step"),
    t("host_id"),
    t("user_id"),
    t("process_name"),
    t("command_line"),
    t("parent_process"),
    t("trust_tier"),
    t("source"),
    t("created_at"),
];
const ALERT: &[Column] = &[
    t("alert_id"),
    t("scenario_id"),
    i("step"),
    t("alert_type"),
    t("severity"),
    t("message"),
    t("related_log_id"),
    l("injection_id", false),
    t("trust_tier"),
    t("source"),
    t("created_at"),
];
const INJ: &[Column] = &[
    l("injection_id", false),
    l("scenario_id", false),
    l("surface", false),
    l("payload", false),
    l("expected_violation", false),
    l("target_action", false),
    l("target_params", false),
    l("evidence_ids", false),
    l("injection_type", false),
    l("objective", false),
    l("source", false),
];

impl Table {
    /// Every table, in prompt order.
    pub const ALL: [Table; 6] = [
        Table::EmailLogs,
        Table::AuthLogs,
        Table::Netflow,
        Table::ProcessEvents,
        Table::Alerts,
        Table::PromptInjections,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::EmailLogs => "email_logs",
            Table::AuthLogs => "auth_logs",
            Table::Netflow => "netflow",
            Table::ProcessEvents => "process_events",
            Table::Alerts => "alerts",
            Table::PromptInjections => "prompt_injections",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Table> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// All columns, labels included, in storage order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::EmailLogs => EMAIL,
            Table::AuthLogs => AUTH,
            Table::Netflow => FLOW,
            Table::ProcessEvents => PROC,
            Table::Alerts => ALERT,
            Table::PromptInjections => INJ,
        }
    }

    /// Index of a column visible under `labels` (compat shows labels).
    pub fn column(self, name: &str, labels: bool) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name && (labels || !c.label))
    }

    /// Whether the table exists under `labels`.
    pub fn visible(self, labels: bool) -> bool {
        labels || self != Table::PromptInjections
    }

    /// The id column's prefix for generated row ids (`auth-<scenario>-<step>`).
    pub(crate) fn id_prefix(self) -> &'static str {
        match self {
            Table::AuthLogs => "auth",
            Table::Netflow => "flow",
            Table::ProcessEvents => "proc",
            Table::Alerts => "alert",
            Table::EmailLogs => "email",
            Table::PromptInjections => "inj",
        }
    }
}

impl From<LogTable> for Table {
    fn from(t: LogTable) -> Self {
        match t {
            LogTable::AuthLogs => Table::AuthLogs,
            LogTable::Netflow => Table::Netflow,
            LogTable::ProcessEvents => Table::ProcessEvents,
            LogTable::Alerts => Table::Alerts,
            LogTable::EmailLogs => Table::EmailLogs,
        }
    }
}

/// One cell. Text is shared (`Arc<str>`) so emitting a row from its template is cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Integer.
    Int(i64),
    /// Text.
    Text(Arc<str>),
}

impl Cell {
    pub(crate) fn text(s: &str) -> Cell {
        Cell::Text(Arc::from(s))
    }
    pub(crate) fn opt(s: Option<&str>) -> Cell {
        s.map_or(Cell::Null, Cell::text)
    }
    /// The cell as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => s.serialize_none(),
            Cell::Int(n) => s.serialize_i64(*n),
            Cell::Text(t) => s.serialize_str(t),
        }
    }
}

/// One evidence row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its table.
    pub table: Table,
    /// Step at which it exists (rows from the future are hidden in hardened mode).
    pub step: u32,
    /// One cell per column of `table.columns()`.
    pub cells: Vec<Cell>,
    /// Injection carried by the row (index into the scenario's payloads), for exposure checks.
    pub injection: Option<usize>,
    /// The scenario prototype the row was emitted from (`None`: injection catalogue).
    pub(crate) proto: Option<usize>,
}

impl Row {
    /// The row id (first column).
    pub fn id(&self) -> &str {
        self.cells[0].as_str().unwrap_or("")
    }

    /// The trust tier, if any.
    pub fn trust_tier(&self) -> Option<&str> {
        self.table.column("trust_tier", true).and_then(|i| self.cells[i].as_str())
    }

    /// A view that serializes the row as a JSON object of its visible columns.
    pub fn view(&self, labels: bool) -> RowView<'_> {
        RowView { row: self, labels, compact: false }
    }

    /// The [`ObservationFormat::Compact`](crate::ObservationFormat) view: without the cells every
    /// row of an episode shares (`scenario_id`, `created_at`, which `step` already dates) and
    /// without empty (null) cells.
    pub fn compact_view(&self, labels: bool) -> RowView<'_> {
        RowView { row: self, labels, compact: true }
    }
}

/// Serializes a row as `{column: value}` over the columns visible in the mode.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    row: &'a Row,
    labels: bool,
    compact: bool,
}

impl Serialize for RowView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cols = self.row.table.columns();
        let mut m = s.serialize_map(None)?;
        for (c, v) in cols.iter().zip(&self.row.cells) {
            let dropped = self.compact && (matches!(v, Cell::Null) || matches!(c.name, "scenario_id" | "created_at"));
            if (self.labels || !c.label) && !dropped {
                m.serialize_entry(c.name, v)?;
            }
        }
        m.end()
    }
}

/// `key=value` tokens of a template line, split on whitespace (the peer's compiler rule).
pub(crate) fn template_kv(body: &str) -> Vec<(&str, &str)> {
    body.split_whitespace().filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect()
}

/// `key=value` pairs inside free text, where keys are letters/underscores and values are
/// id-like (`[A-Za-z0-9_.:@-]+`): how alert messages carry structured fields.
pub fn text_kv(text: &str) -> Vec<(&str, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut floor) = (0, 0);
    while i < b.len() {
        if b[i] != b'=' {
            i += 1;
            continue;
        }
        let mut k = i;
        while k > floor && (b[k - 1].is_ascii_alphabetic() || b[k - 1] == b'_') {
            k -= 1;
        }
        let mut v = i + 1;
        while v < b.len() && (b[v].is_ascii_alphanumeric() || matches!(b[v], b'_' | b'.' | b':' | b'@' | b'-')) {
            v += 1;
        }
        if k < i && v > i + 1 {
            out.push((&text[k..i], &text[i + 1..v]));
            floor = v;
        }
        i = v.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_parsers_follow_the_peer_rules() {
        assert_eq!(
            template_kv("AUTH success user=u-1 host=h-1 method=x=y"),
            vec![("user", "u-1"), ("host", "h-1"), ("method", "x=y")]
        );
        let msg = "ALERT type=exfil message=\"dst_domain=evil.io src_host=h-2\" =x a= 9=z";
        assert_eq!(text_kv(msg), vec![("type", "exfil"), ("dst_domain", "evil.io"), ("src_host", "h-2")]);
        assert_eq!(text_kv("a=b=c"), vec![("a", "b")]);
    }

    #[test]
    fn hardened_views_hide_labels() {
        let row = Row {
            table: Table::Alerts,
            step: 1,
            cells: Table::Alerts.columns().iter().map(|c| Cell::text(c.name)).collect(),
            injection: None,
            proto: None,
        };
        let hard = serde_json::to_string(&row.view(false)).unwrap();
        let compat = serde_json::to_string(&row.view(true)).unwrap();
        assert!(!hard.contains("injection_id") && compat.contains("injection_id"));
        assert_eq!(Table::Alerts.column("injection_id", false), None);
        assert!(!Table::PromptInjections.visible(false));
    }
}
