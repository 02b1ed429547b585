//! The Athena named queries of template.yaml (analytics/*.sql), run under DuckDB over what
//! `zcc export` writes, give the figures `zcc report` gives: every grouping, the total, two
//! service-level thresholds, on a generated day read back from the local stack. The export is
//! also given older versions of some rows, as Firehose delivers them (an ended row, then an
//! updated one): the queries must count each engagement by its latest version.
//!
//! Needs .venv with duckdb and cfn-lint (`scripts/python-tools duckdb`; scripts/test installs
//! them). ZCC_SKIP_DUCKDB=1 skips this test.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use zcc_testkit::day::generate;

use crate::helpers::{self, root};

const SECRET: &str = "analytics-test-secret";
const TABLE: &str = "zcc-analytics";
const DAY: &str = "2026-12-01";

/// Counts: equal. Rates: within 0.0001. Milliseconds: within 1.
const COUNTS: [&str; 6] = [
    "offered",
    "answered",
    "abandoned",
    "answered_within_sla",
    "transfers",
    "holds",
];
const RATES: [&str; 2] = ["abandon_rate", "service_level"];
const MILLISECONDS: [&str; 6] = [
    "average_speed_of_answer_ms",
    "average_handle_ms",
    "p90_handle_ms",
    "average_talk_ms",
    "average_hold_ms",
    "average_wrap_up_ms",
];
const GROUPINGS: [&str; 5] = ["queue", "agent", "hour", "day", "channel"];

/// The virtualenv's python, when it has duckdb and cfn-lint; a failure that says what to do
/// when not (or `None`: skipped by ZCC_SKIP_DUCKDB=1).
fn python() -> Option<PathBuf> {
    if std::env::var("ZCC_SKIP_DUCKDB").as_deref() == Ok("1") {
        eprintln!(
            "analytics: skipped (ZCC_SKIP_DUCKDB=1): the named queries were not run under DuckDB"
        );
        return None;
    }
    let python = root().join(".venv/bin/python");
    let fix = "run `scripts/python-tools duckdb` (installs duckdb and cfn-lint into .venv), \
               or set ZCC_SKIP_DUCKDB=1 to skip this test";
    assert!(python.exists(), "{} is missing: {fix}", python.display());
    let probe = std::process::Command::new(&python)
        .args(["-c", "import duckdb, cfnlint.decode"])
        .output()
        .expect("run the virtualenv's python");
    assert!(
        probe.status.success(),
        "duckdb or cfn-lint is missing from .venv ({}): {fix}",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    Some(python)
}

async fn zcc(args: &[&str]) -> String {
    let run = helpers::zcc(TABLE, &[], None, args).await;
    assert!(run.ok, "zcc {args:?}: {}", run.stderr);
    run.stdout
}

/// analytics/run_duckdb.py over `dir`: {query name: [rows]}.
async fn duckdb(python: &Path, dir: &Path, from: &str, to: &str, sla: u32) -> Map<String, Value> {
    let root = root();
    let output = tokio::process::Command::new(python)
        .current_dir(&root)
        .arg(root.join("analytics/run_duckdb.py"))
        .arg(dir)
        .arg(root.join("template.yaml"))
        .args([
            "--from",
            from,
            "--to",
            to,
            "--sla-seconds",
            &sla.to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "run_duckdb.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout).unwrap() {
        Value::Object(queries) => queries,
        other => panic!("run_duckdb.py printed {other}"),
    }
}

/// Every figure of `sql` against `report` (one group's Figures), within the tolerances.
fn same_figures(what: &str, sql: &Value, report: &Value) {
    let field = |v: &Value, name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    for name in ["group", "name"] {
        assert_eq!(field(sql, name), field(report, name), "{what}: {name}");
    }
    for name in COUNTS {
        assert_eq!(
            field(sql, name).as_u64(),
            field(report, name).as_u64(),
            "{what}: {name}"
        );
        assert!(field(report, name).is_u64(), "{what}: {name} is a count");
    }
    for name in RATES {
        let (a, b) = (field(sql, name).as_f64(), field(report, name).as_f64());
        let (Some(a), Some(b)) = (a, b) else {
            panic!("{what}: {name} is {a:?} in SQL, {b:?} in zcc report");
        };
        assert!(
            (a - b).abs() <= 0.0001,
            "{what}: {name} {a} in SQL, {b} in zcc report"
        );
    }
    for name in MILLISECONDS {
        match (field(sql, name), field(report, name)) {
            (Value::Null, Value::Null) => {}
            (a, b) => {
                let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) else {
                    panic!("{what}: {name} is {a} in SQL, {b} in zcc report");
                };
                assert!(
                    (a - b).abs() <= 1,
                    "{what}: {name} {a} in SQL, {b} in zcc report"
                );
            }
        }
    }
    let fields = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(fields(sql), fields(report), "{what}: the same fields");
}

/// Older versions of every third exported row, with other figures, plus one row repeated
/// (Firehose delivers at least once): what the bucket holds besides the latest rows.
fn older_versions(dir: &Path) -> usize {
    let exported = dir.join(format!("day={DAY}/zcc-export.json"));
    let text = std::fs::read_to_string(&exported).unwrap();
    let mut older = String::new();
    let mut count = 0;
    for (n, line) in text.lines().enumerate() {
        let row: Value = serde_json::from_str(line).unwrap();
        if n == 0 {
            older.push_str(line);
            older.push('\n');
        }
        if n % 3 != 0 || row["version"].as_u64().unwrap_or(0) < 2 {
            continue;
        }
        let mut stale = row.clone();
        stale["version"] = Value::from(row["version"].as_u64().unwrap() - 1);
        stale["queue_id"] = Value::from("q-stale");
        stale["agent_user_id"] = Value::from("u-stale");
        stale["channel"] = Value::from("stale");
        stale["hour"] = Value::from("23");
        stale["abandoned"] = Value::from(false);
        stale["handle_ms"] = Value::from(99_999_999);
        stale["transfer_count"] = Value::from(7);
        older.push_str(&stale.to_string());
        older.push('\n');
        count += 1;
    }
    std::fs::write(dir.join(format!("day={DAY}/firehose-earlier.json")), older).unwrap();
    count
}

#[tokio::test]
async fn the_named_queries_under_duckdb_give_the_figures_of_zcc_report() {
    let Some(python) = python() else {
        return;
    };
    let day = generate(DAY, 80, 23);
    let stack = helpers::stack_with_day(TABLE, SECRET, &day).await;
    let endpoint = stack.dynamodb_endpoint();

    let dir = std::env::temp_dir().join(format!("zcc-analytics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.display().to_string();
    zcc(&[
        "export",
        "--from",
        DAY,
        "--to",
        DAY,
        &dir_text,
        "--endpoint-url",
        &endpoint,
    ])
    .await;
    assert!(older_versions(&dir) > 10, "older versions of some rows");

    for sla in [20u32, 30] {
        let sql = duckdb(&python, &dir, DAY, DAY, sla).await;
        let mut names: Vec<&String> = sql.keys().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "by_agent",
                "by_channel",
                "by_day",
                "by_hour",
                "by_queue",
                "total"
            ],
            "one named query per grouping, and the total"
        );
        for by in GROUPINGS {
            let out = zcc(&[
                "report",
                "--from",
                DAY,
                "--to",
                DAY,
                "--by",
                by,
                "--sla-seconds",
                &sla.to_string(),
                "--endpoint-url",
                &endpoint,
                "--json",
            ])
            .await;
            let report: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["engagements"], 80);
            let groups = report["groups"].as_array().unwrap();
            let rows = sql[&format!("by_{by}")].as_array().unwrap();
            let keys = |list: &[Value]| -> Vec<String> {
                list.iter()
                    .map(|g| g["group"].as_str().unwrap().to_owned())
                    .collect()
            };
            assert_eq!(keys(rows), keys(groups), "by {by} at {sla} s: the groups");
            for (row, group) in rows.iter().zip(groups) {
                same_figures(
                    &format!("by {by} at {sla} s, {}", group["group"]),
                    row,
                    group,
                );
            }
            let total = &sql["total"].as_array().unwrap()[0];
            same_figures(&format!("total at {sla} s"), total, &report["total"]);
        }
        let total = &sql["total"][0];
        assert!(
            total["abandoned"].as_u64() > Some(0) && total["transfers"].as_u64() > Some(0),
            "the day has abandons and transfers: {total}"
        );
    }

    // A range without engagements: no groups, and a total of zeros (no division by zero).
    let sql = duckdb(&python, &dir, "2026-11-29", "2026-11-29", 20).await;
    assert_eq!(sql["by_queue"], Value::Array(vec![]));
    let out = zcc(&[
        "report",
        "--from",
        "2026-11-29",
        "--to",
        "2026-11-29",
        "--endpoint-url",
        &endpoint,
        "--json",
    ])
    .await;
    let report: Value = serde_json::from_str(&out).unwrap();
    same_figures("empty total", &sql["total"][0], &report["total"]);

    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}
