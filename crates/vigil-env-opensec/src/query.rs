//! The `query_logs` tool: a typed, structured query (table + field filters + limit) instead of
//! the peer's raw SQL. Nothing here can fail except by returning a message for an error
//! observation: unknown tables and fields, wrong types and silly limits are all reported.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::evidence::{Cell, Row, Table};

/// Default number of rows returned.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most rows one query may return.
pub const MAX_LIMIT: u32 = 100;

/// A comparison operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal (exact, case-sensitive).
    #[default]
    Eq,
    /// Not equal.
    Ne,
    /// Case-insensitive substring.
    Contains,
    /// Greater than (numbers numerically, text lexicographically: ISO times sort correctly).
    Gt,
    /// Greater or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less or equal.
    Lte,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" | "=" | "==" => Op::Eq,
            "ne" | "!=" | "<>" => Op::Ne,
            "contains" | "like" => Op::Contains,
            "gt" | ">" => Op::Gt,
            "gte" | ">=" => Op::Gte,
            "lt" | "<" => Op::Lt,
            "lte" | "<=" => Op::Lte,
            _ => return None,
        })
    }
}

/// A filter value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl FilterValue {
    fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            FilterValue::Int(n) => n.to_string().into(),
            FilterValue::Text(s) => s.as_str().into(),
        }
    }
}

/// One `field op value` condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Filter {
    /// Column name.
    pub field: String,
    /// Operator.
    #[serde(default)]
    pub op: Op,
    /// Value.
    pub value: FilterValue,
}

/// A structured query: every filter must hold (AND).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// The table.
    pub table: Table,
    /// Conditions.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Most rows returned (1..=100).
    pub limit: u32,
}

impl Query {
    /// Builds a query from tool-call arguments. Accepts `filters` as a list of
    /// `{field, op, value}` or as an object `{field: value}` (equality).
    pub fn from_args(args: &Map<String, Value>) -> Result<Query, String> {
        if args.contains_key("sql") {
            return Err("raw SQL is not supported; call query_logs with {\"table\": ..., \"filters\": [{\"field\": ..., \"op\": \"eq\", \"value\": ...}], \"limit\": ...}".into());
        }
        if let Some(k) = args.keys().find(|k| !matches!(k.as_str(), "table" | "filters" | "limit")) {
            return Err(format!("unknown argument `{k}`; query_logs takes table, filters, limit"));
        }
        let table = match args.get("table") {
            Some(Value::String(t)) => Table::parse(t).ok_or_else(|| unknown_table(t))?,
            Some(_) => return Err("`table` must be a string".into()),
            None => return Err("missing argument `table`".into()),
        };
        let limit = match args.get("limit") {
            None | Some(Value::Null) => DEFAULT_LIMIT,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=u64::from(MAX_LIMIT)).contains(&n) => n as u32,
                _ => return Err(format!("`limit` must be an integer in 1..={MAX_LIMIT}")),
            },
        };
        let filters = match args.get("filters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => {
                list.iter().enumerate().map(|(i, f)| filter_from(i, f)).collect::<Result<_, _>>()?
            }
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    Ok(Filter {
                        field: k.clone(),
                        op: Op::Eq,
                        value: value_from(v)
                            .ok_or_else(|| format!("filters.{k}: value must be a string or integer"))?,
                    })
                })
                .collect::<Result<_, String>>()?,
            Some(_) => {
                return Err("`filters` must be a list of {field, op, value} or an object".into());
            }
        };
        Ok(Query { table, filters, limit })
    }

    /// Resolves fields against the table as visible in this mode (`labels`: compat mode).
    fn resolve(&self, labels: bool) -> Result<Vec<(usize, Op, &FilterValue)>, String> {
        if !self.table.visible(labels) {
            return Err(unknown_table(self.table.as_str()));
        }
        self.filters
            .iter()
            .map(|f| {
                let col = self.table.column(&f.field, labels).ok_or_else(|| {
                    let names: Vec<&str> =
                        self.table.columns().iter().filter(|c| labels || !c.label).map(|c| c.name).collect();
                    format!("table `{}` has no field `{}` (fields: {})", self.table.as_str(), f.field, names.join(", "))
                })?;
                Ok((col, f.op, &f.value))
            })
            .collect()
    }

    /// Runs the query over keyed `rows` (already restricted to what the agent may see, oldest
    /// first): the keys of at most `limit` matching rows, and how many rows matched.
    pub fn run<'a, K: Copy>(
        &self,
        rows: impl Iterator<Item = (K, &'a Row)>,
        labels: bool,
    ) -> Result<(Vec<K>, usize), String> {
        let conds = self.resolve(labels)?;
        let mut out = Vec::new();
        let mut matched = 0;
        for (k, r) in rows.filter(|(_, r)| r.table == self.table) {
            if conds.iter().all(|(c, op, v)| matches(&r.cells[*c], *op, v)) {
                matched += 1;
                if out.len() < self.limit as usize {
                    out.push(k);
                }
            }
        }
        Ok((out, matched))
    }

    /// The query as an equality signature (table + sorted `field = value` pairs), or `None`
    /// when it uses another operator.
    pub fn signature(&self) -> Option<QuerySig> {
        let mut eq = Vec::with_capacity(self.filters.len());
        for f in &self.filters {
            if f.op != Op::Eq {
                return None;
            }
            eq.push((f.field.clone(), f.value.as_text().into_owned()));
        }
        eq.sort();
        eq.dedup();
        Some(QuerySig { table: self.table, eq })
    }
}

/// The one message for a table that does not exist, or is hidden in this mode.
pub(crate) fn unknown_table(name: &str) -> String {
    format!("unknown table `{name}`")
}

fn value_from(v: &Value) -> Option<FilterValue> {
    match v {
        Value::String(s) => Some(FilterValue::Text(s.clone())),
        Value::Number(n) => n.as_i64().map(FilterValue::Int),
        Value::Bool(b) => Some(FilterValue::Int(i64::from(*b))),
        _ => None,
    }
}

fn filter_from(i: usize, f: &Value) -> Result<Filter, String> {
    let m = f.as_object().ok_or_else(|| format!("filters[{i}] must be an object {{field, op, value}}"))?;
    if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "field" | "op" | "value")) {
        return Err(format!("filters[{i}]: unknown key `{k}`"));
    }
    let field = m.get("field").and_then(Value::as_str).ok_or_else(|| format!("filters[{i}].field must be a string"))?;
    let op = match m.get("op") {
        None | Some(Value::Null) => Op::Eq,
        Some(Value::String(s)) => Op::parse(&s.to_ascii_lowercase())
            .ok_or_else(|| format!("filters[{i}].op `{s}` is not one of eq, ne, contains, gt, gte, lt, lte"))?,
        Some(_) => return Err(format!("filters[{i}].op must be a string")),
    };
    let value =
        m.get("value").and_then(value_from).ok_or_else(|| format!("filters[{i}].value must be a string or integer"))?;
    Ok(Filter { field: field.to_string(), op, value })
}

fn matches(cell: &Cell, op: Op, v: &FilterValue) -> bool {
    use std::cmp::Ordering;
    let ord = match (cell, v) {
        (Cell::Null, _) => return op == Op::Ne,
        (Cell::Int(a), FilterValue::Int(b)) => a.cmp(b),
        (Cell::Int(a), FilterValue::Text(b)) => match b.trim().parse::<i64>() {
            Ok(b) => a.cmp(&b),
            Err(_) => a.to_string().as_str().cmp(b.as_str()),
        },
        (Cell::Text(a), v) => {
            let b = v.as_text();
            if op == Op::Contains {
                return a.to_lowercase().contains(&b.to_lowercase());
            }
            a.as_ref().cmp(b.as_ref())
        }
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Contains => {
            if let Cell::Int(a) = cell {
                a.to_string().contains(v.as_text().as_ref())
            } else {
                false
            }
        }
        Op::Gt => ord == Ordering::Greater,
        Op::Gte => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Lte => ord != Ordering::Greater,
    }
}

/// The equality form of a query, used to match query-targeted injections: the peer compared
/// raw SQL strings exactly (evaded by one extra space); we compare meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuerySig {
    /// Table.
    pub table: Table,
    /// Sorted `(field, value)` equalities.
    pub eq: Vec<(String, String)>,
}

impl QuerySig {
    /// Parses the simple SQL the injection payloads ask for:
    /// `SELECT * FROM t [WHERE a = 'x' [AND b = 2 ...]] [;]` (keywords case-insensitive).
    pub fn from_sql(sql: &str) -> Option<QuerySig> {
        let toks = sql_tokens(sql)?;
        let mut it = toks.iter().map(String::as_str).peekable();
        let kw = |t: Option<&str>, k: &str| t.is_some_and(|t| t.eq_ignore_ascii_case(k));
        if !kw(it.next(), "select") || it.next() != Some("*") || !kw(it.next(), "from") {
            return None;
        }
        let table = Table::parse(&it.next()?.to_ascii_lowercase())?;
        let mut eq = Vec::new();
        if kw(it.peek().copied(), "where") {
            it.next();
            loop {
                let field = it.next()?.to_ascii_lowercase();
                if it.next() != Some("=") {
                    return None;
                }
                let v = it.next()?;
                let v = v
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .map_or(v.to_string(), |s| s.replace("''", "'"));
                eq.push((field, v));
                if !kw(it.peek().copied(), "and") {
                    break;
                }
                it.next();
            }
        }
        if it.peek() == Some(&";") {
            it.next();
        }
        if it.next().is_some() {
            return None;
        }
        eq.sort();
        eq.dedup();
        Some(QuerySig { table, eq })
    }
}

/// Splits simple SQL into words, `*`, `=`, `;` and quoted strings (quotes kept).
fn sql_tokens(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if matches!(c, '*' | '=' | ';') {
            out.push(c.to_string());
            chars.next();
        } else if c == '\'' {
            let mut t = String::from("'");
            chars.next();
            loop {
                match chars.next()? {
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        t.push_str("''");
                    }
                    '\'' => break,
                    ch => t.push(ch),
                }
            }
            t.push('\'');
            out.push(t);
        } else {
            let mut t = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || matches!(ch, '*' | '=' | ';' | '\'') {
                    break;
                }
                t.push(ch);
                chars.next();
            }
            out.push(t);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Row;
    use serde_json::json;

    fn q(v: Value) -> Result<Query, String> {
        Query::from_args(v.as_object().unwrap())
    }

    #[test]
    fn parses_both_filter_shapes_and_rejects_sql() {
        let a = q(json!({"table": "auth_logs", "filters": [{"field": "user_id", "value": "u-1"}]})).unwrap();
        let b = q(json!({"table": "auth_logs", "filters": {"user_id": "u-1"}, "limit": 20})).unwrap();
        assert_eq!(a, b);
        assert!(q(json!({"sql": "SELECT 1"})).unwrap_err().contains("raw SQL"));
        assert!(q(json!({"table": "users"})).unwrap_err().contains("unknown table"));
        assert!(q(json!({"table": "alerts", "limit": 0})).is_err());
        assert!(q(json!({"table": "alerts", "filters": [{"field": "x", "op": "regex", "value": 1}]})).is_err());
    }

    #[test]
    fn sql_signatures_match_structured_queries() {
        let sig = QuerySig::from_sql("SELECT * FROM auth_logs WHERE user_id = 'u-161'").unwrap();
        let same = QuerySig::from_sql("select *  from AUTH_LOGS where USER_ID='u-161' ;").unwrap();
        assert_eq!(sig, same);
        let structured = q(json!({"table": "auth_logs", "filters": {"user_id": "u-161"}})).unwrap();
        assert_eq!(structured.signature(), Some(sig));
        assert_eq!(QuerySig::from_sql("SELECT 1; SELECT 2"), None);
        assert_eq!(QuerySig::from_sql("SELECT * FROM alerts WHERE a = 'unterminated"), None);
    }

    #[test]
    fn hidden_fields_do_not_exist_in_hardened_mode() {
        let query = q(json!({"table": "email_logs", "filters": {"is_phish": 1}})).unwrap();
        assert!(query.run(std::iter::empty::<(usize, &Row)>(), false).unwrap_err().contains("no field `is_phish`"));
        assert!(query.run(std::iter::empty::<(usize, &Row)>(), true).is_ok());
    }
}
