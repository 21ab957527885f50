//! The loader on hand-written tricky rows (`tests/data/tricky`, CRLF line endings): quoted
//! commas and escaped quotes, a quoted multi-line body, empty fields, bad dates, ids, numbers
//! and activities, a short row. Expected results are the documented ones, row by row.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use vigil_env_cert::Dataset;
use vigil_env_cert::labels::{LabelConfig, RiskLabel};
use vigil_env_cert::org::{Directory, load_psychometric};
use vigil_env_cert::rows::{BadRowPolicy, SourceReader};
use vigil_env_cert::source::{DataSource, FsSource};
use vigil_env_cert::types::SourceKind;
use vigil_env_cert::window::WindowConfig;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky")
}

fn read_all(kind: SourceKind, policy: BadRowPolicy) -> Result<(Vec<Vec<String>>, vigil_env_cert::rows::SourceStats), String> {
    let p = dir().join(kind.file_name());
    let mut r = SourceReader::open(kind, &p, policy).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    while let Some(row) = r.next_row().map_err(|e| e.to_string())? {
        rows.push(vec![
            row.line().to_string(),
            row.id.to_string(),
            row.time.cert_string(),
            row.user.to_string(),
            row.pc.to_string(),
            row.activity.map(|a| a.as_str().to_string()).unwrap_or_default(),
            row.filename().into(),
            row.url().into(),
            row.to().into(),
            row.cc().into(),
            row.content().into(),
        ]);
    }
    Ok((rows, r.stats()))
}

#[test]
fn strict_policy_names_file_and_line_of_the_first_bad_row() {
    let cases = [
        (SourceKind::Logon, "logon.csv:4: bad activity `Login`"),
        (SourceKind::File, "file.csv:3: bad date `1/4/2010 21:41:00`"),
        (SourceKind::Email, "email.csv:3: bad number in `size`: `12x`"),
        (SourceKind::Http, "http.csv:4: bad date `01/04/2010 25:00:00`"),
    ];
    for (kind, want) in cases {
        let e = read_all(kind, BadRowPolicy::Error).unwrap_err();
        assert!(e.contains(want), "{e}");
    }
    assert_eq!(read_all(SourceKind::Device, BadRowPolicy::Error).unwrap().0.len(), 2);
}

#[test]
fn skip_policy_counts_every_bad_row_and_keeps_the_good_ones_intact() {
    let (rows, st) = read_all(SourceKind::Logon, BadRowPolicy::Skip).unwrap();
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["2", "3", "6"]);
    assert_eq!((st.rows, st.skipped), (3, 2));
    assert_eq!(st.examples[1].reason, "expected 5 fields, found 4");
    assert_eq!(st.examples[1].line, 5);

    let (rows, st) = read_all(SourceKind::Http, BadRowPolicy::Skip).unwrap();
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["2", "3", "5", "8"]);
    assert_eq!(st.skipped, 3);
    let reasons: Vec<(u64, &str)> = st.examples.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert_eq!(reasons[1], (6, "bad date `02/30/2010 10:00:00` (want MM/DD/YYYY HH:MM:SS)"));
    assert!(reasons[2].1.starts_with("bad event id `{H001-AAAAAAAA-0000000?}`"), "{reasons:?}");
    assert_eq!(rows[1][10], "leak, spy, \"quoted\" word", "quoted commas and escaped quotes");
    assert_eq!(rows[2][10], "", "empty content field");
    assert_eq!(rows[3][7], "http://example.com/a,b.htm", "quoted comma in the url");
    assert_eq!(rows[0][2], "01/04/2010 08:00:00");

    let (rows, st) = read_all(SourceKind::Email, BadRowPolicy::Skip).unwrap();
    assert_eq!(st.skipped, 1);
    assert_eq!(rows[0][8], "X.Y.Z@dtaa.com;foo_bar@gmail.com");
    assert_eq!(rows[0][9], "", "empty cc");
    assert_eq!(rows[0][10], "kw1, kw2 kw3");
    assert_eq!(rows[1][0], "4", "a multi-line record is reported at its first line");
    assert_eq!(rows[1][10], "multi\r\nline \"quoted\" body");
}

#[test]
fn windows_over_tricky_rows_with_skipping() {
    let src: Arc<dyn DataSource> = Arc::new(FsSource::new(dir(), None));
    let ds = Dataset::open(src, "4.2", LabelConfig::default()).unwrap();
    assert_eq!(ds.labeler().key().insiders().len(), 1, "only the 4.2 insider");
    let role = ds.directory().and_then(|d| d.user(vigil_env_cert::types::UserId::parse(b"XYZ0002").unwrap()));
    assert_eq!(role.unwrap().supervisor, "Cole, Alice Beth");
    let strict = ds.windows(&WindowConfig::default(), |_| Ok(())).unwrap_err().to_string();
    assert!(strict.contains("logon.csv:4"), "{strict}");
    let cfg = WindowConfig { bad_rows: BadRowPolicy::Skip, ..WindowConfig::default() };
    let mut windows = Vec::new();
    let summary = ds.windows(&cfg, |v| {
        windows.push(v.to_window());
        Ok(())
    })
    .unwrap();
    assert_eq!(summary.events, 12);
    assert_eq!(summary.sources.iter().map(|s| s.skipped).sum::<u64>(), 7);
    assert_eq!(windows.len(), 2);
    let w = &windows[0];
    assert_eq!((w.id.as_str(), w.label, w.role.as_deref()), ("ABC0001@2010-01-04", RiskLabel::Malicious, Some("ITAdmin")));
    let order: Vec<String> = w.events.iter().map(|e| format!("{}:{}", e.eid, e.detail.source())).collect();
    assert_eq!(
        order,
        ["E001:logon", "E002:http", "E003:email", "E004:http", "E005:logon", "E006:device", "E007:file", "E008:http", "E009:device"]
    );
    assert_eq!(w.malicious_eids, ["E005", "E006", "E007", "E008", "E009"]);
    assert_eq!((w.features.after_hours, w.features.leak_site_http, w.features.external_emails), (5, 1, 1));
    assert_eq!((windows[1].id.as_str(), windows[1].label), ("XYZ0002@2010-01-05", RiskLabel::Normal));
    assert_eq!(windows[1].history.prior_active_days, 0);
    assert_eq!(summary.malicious_days_found, 1);
}

#[test]
fn org_files_and_missing_files() {
    let src = FsSource::new(dir(), None);
    assert_eq!(Directory::load(&src).unwrap().user_count(), 2);
    let e = load_psychometric(&src).unwrap_err().to_string();
    assert!(e.ends_with("psychometric.csv:3: bad number in `C`: ``"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = Dataset::open(Arc::new(FsSource::new(empty.path(), None)), "4.2", LabelConfig::default()).unwrap_err();
    assert!(e.to_string().contains("insiders.csv: missing"), "{e}");
}

/// A file body: arbitrary bytes, or valid-looking pieces (ids, in- and out-of-order dates,
/// users, activities, quoted fields) joined by random separators.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("{A1B2-C3D4E5F6-G7H8I9J0}"), Just("{A1B2-C3D4E5F6-G7H8I9J1}"), Just("01/04/2010 08:00:00"),
        Just("01/03/2010 23:59:59"), Just("01/05/2010 21:30:00"), Just("ABC0001"), Just("XYZ0002"), Just("PC-0001"),
        Just("Logon"), Just("Connect"), Just("http://wikileaks.org/x"), Just("a@dtaa.com;b@x.com"), Just("12"),
        Just("kw"), Just("\"q,q\""), Just(""),
    ];
    let sep = prop_oneof![Just(","), Just(","), Just(","), Just("\r\n"), Just("\n")];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec((piece, sep), 0..60)
            .prop_map(|v| v.into_iter().flat_map(|(p, s)| [p, s]).collect::<String>().into_bytes()),
    ]
}

proptest! {
    /// Window building over five files of arbitrary bodies (skip policy): a result or a typed
    /// error, never a panic.
    #[test]
    fn window_building_never_panics(bodies in proptest::collection::vec(body(), 5)) {
        use vigil_env_cert::source::MemSource;
        let mut m = MemSource::new();
        m.insert("answers/insiders.csv", b"dataset,scenario,details,user,start,end\n".to_vec());
        for (kind, body) in SourceKind::ALL.into_iter().zip(&bodies) {
            let mut bytes = kind.header().join(",").into_bytes();
            bytes.push(b'\n');
            bytes.extend_from_slice(body);
            m.insert(kind.file_name(), bytes);
        }
        let ds = Dataset::open(Arc::new(m), "4.2", LabelConfig::default()).unwrap();
        for policy in [BadRowPolicy::Skip, BadRowPolicy::Error] {
            let cfg = WindowConfig { bad_rows: policy, ..WindowConfig::default() };
            let _ = ds.windows(&cfg, |v| {
                v.to_window().check().unwrap();
                Ok(())
            });
        }
    }

    /// Arbitrary bytes after a valid header: typed rows or typed errors, never a panic.
    #[test]
    fn typed_reader_never_panics(body in proptest::collection::vec(any::<u8>(), 0..1024), skip in any::<bool>()) {
        for kind in SourceKind::ALL {
            let mut bytes = kind.header().join(",").into_bytes();
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(&body);
            let policy = if skip { BadRowPolicy::Skip } else { BadRowPolicy::Error };
            let mut r = SourceReader::new(kind, Path::new("x.csv"), bytes.as_slice(), policy);
            while let Ok(Some(_)) = r.next_row() {}
        }
    }

    /// Rows that look almost right (valid pieces glued with random separators).
    #[test]
    fn typed_reader_never_panics_on_near_rows(
        parts in proptest::collection::vec(prop_oneof![
            Just("{A1B2-C3D4E5F6-G7H8I9J0}"), Just("01/04/2010 08:00:00"), Just("ABC0001"), Just("PC-0001"),
            Just("Logon"), Just("Connect"), Just("\""), Just(""), Just("13/45/2010 99:99:99"), Just("x\u{e9}")
        ], 0..40),
        seps in proptest::collection::vec(prop_oneof![Just(","), Just("\r\n"), Just("\n"), Just("\"")], 40),
    ) {
        let mut s = String::from("id,date,user,pc,activity\n");
        for (p, sep) in parts.iter().zip(&seps) {
            s.push_str(p);
            s.push_str(sep);
        }
        for kind in SourceKind::ALL {
            let mut r = SourceReader::new(kind, Path::new("x.csv"), s.as_bytes(), BadRowPolicy::Skip);
            while let Ok(Some(_)) = r.next_row() {}
        }
    }
}
