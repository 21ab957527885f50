//! Every `exp …` command line quoted in README.md matches the CLI: each subcommand path answers
//! `--help`, each `--flag` the line names is in that help, and each positional placeholder
//! (`CONFIG`, `ENV`, …) is a positional argument of the same name in its usage line.

mod common;

use std::path::PathBuf;

use common::Capture;

/// Command lines: inline code spans starting with `exp `, and code-block lines starting with
/// `exp ` or `target/release/exp ` (comments after `#` dropped).
fn quoted_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let l = line.split(" #").next().unwrap_or("").trim();
            if let Some(rest) = l
                .strip_prefix("target/release/exp ")
                .or_else(|| l.strip_prefix("exp "))
            {
                out.push(format!("exp {rest}"));
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("exp ") {
                out.push(span.replace("\\|", "|"));
            }
        }
    }
    out
}

/// A subcommand word (`run`, `serve-env`, `sft|holdout`).
fn is_word(t: &str) -> bool {
    !t.is_empty()
        && t.split('|')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        && !t.starts_with('-')
}

/// A positional placeholder (`CONFIG`, `FILE|-`, `RUN_OR_SWEEP_DIR…`), its name.
fn placeholder(t: &str) -> Option<String> {
    let t = t.trim_matches(|c| matches!(c, '[' | ']' | '…' | '.'));
    let name = t.split('|').next()?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .then(|| name.to_string())
}

fn help(words: &[&str]) -> String {
    let out = common::exp().args(words).arg("--help").capture();
    assert!(
        out.success(),
        "`exp {} --help` failed: {}",
        words.join(" "),
        out.stderr
    );
    out.stdout
}

/// Checks one README command line; returns what is wrong with it.
fn check(line: &str) -> Vec<String> {
    let tokens: Vec<&str> = line.split_whitespace().skip(1).collect();
    let n_words = tokens.iter().take_while(|t| is_word(t)).count();
    let (words, rest) = tokens.split_at(n_words);
    // Expand `a|b` alternatives into every subcommand path.
    let mut paths: Vec<Vec<&str>> = vec![Vec::new()];
    for w in words {
        paths = paths
            .into_iter()
            .flat_map(|p| w.split('|').map(move |alt| [p.clone(), vec![alt]].concat()))
            .collect();
    }
    let mut problems = Vec::new();
    for path in paths {
        let text = help(&path);
        let usage = text
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or("")
            .to_string();
        let mut after_flag = false;
        for t in rest {
            let bare = t.trim_matches(|c| matches!(c, '[' | ']' | '…'));
            if let Some(flag) = bare.strip_prefix("--") {
                let flag = flag.split('=').next().unwrap_or(flag);
                if !text.contains(&format!("--{flag}")) {
                    problems.push(format!(
                        "`{line}`: `exp {} --help` has no `--{flag}`",
                        path.join(" ")
                    ));
                }
                after_flag = true;
                continue;
            }
            // A placeholder right after a flag is that flag's value (`--out DIR`, `--workers N`).
            if let Some(name) = placeholder(t).filter(|_| !after_flag)
                && !usage.contains(&format!("<{name}>"))
                && !usage.contains(&format!("[{name}]"))
            {
                problems.push(format!(
                    "`{line}`: `{name}` is not a positional argument of `exp {}` ({usage})",
                    path.join(" ")
                ));
            }
            after_flag = false;
        }
    }
    problems
}

#[test]
fn every_exp_command_line_in_the_readme_matches_the_cli() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README.md");
    let lines = quoted_commands(&readme);
    assert!(
        lines.len() >= 15,
        "found only {} command lines: {lines:?}",
        lines.len()
    );
    let problems: Vec<String> = lines.iter().flat_map(|l| check(l)).collect();
    assert!(
        problems.is_empty(),
        "README command lines that do not match the CLI:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_catches_a_wrong_positional_and_a_missing_flag() {
    assert!(
        !check("exp serve MODEL_DIR").is_empty(),
        "`exp serve` takes --model, not a positional"
    );
    assert!(!check("exp eval CONFIG --no-such-flag").is_empty());
    assert!(check("exp serve --model DIR").is_empty());
}
