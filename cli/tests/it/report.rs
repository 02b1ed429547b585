//! `zcc report` on a generated day whose figures are known from its plan: every grouping, the
//! total, every format, as the shipped binary reads them from the local stack.

use serde_json::Value;
use zcc_cli::stack::Stack;
use zcc_domain::report::{Figures, GroupBy};
use zcc_testkit::day::{GeneratedDay, generate};

use crate::helpers;

const SECRET: &str = "report-test-secret";
const TABLE: &str = "zcc-report";
const DAY: &str = "2026-11-30";

async fn stack_with(day: &GeneratedDay) -> Stack {
    helpers::stack_with_day(TABLE, SECRET, day).await
}

async fn zcc(args: &[&str]) -> (bool, String, String) {
    let run = helpers::zcc(TABLE, &[], None, args).await;
    (run.ok, run.stdout, run.stderr)
}

#[tokio::test]
async fn the_report_gives_the_known_figures_in_every_grouping_and_format() {
    let day = generate(DAY, 120, 7);
    let stack = stack_with(&day).await;
    let endpoint = stack.dynamodb_endpoint();
    for sla in [20u32, 30] {
        for by in [
            GroupBy::Queue,
            GroupBy::Agent,
            GroupBy::Hour,
            GroupBy::Day,
            GroupBy::Channel,
        ] {
            let sla_text = sla.to_string();
            let (ok, out, err) = zcc(&[
                "report",
                "--from",
                DAY,
                "--to",
                DAY,
                "--by",
                by.as_str(),
                "--sla-seconds",
                &sla_text,
                "--endpoint-url",
                &endpoint,
                "--json",
            ])
            .await;
            assert!(ok, "{err}");
            let report: Value = serde_json::from_str(&out).unwrap();
            let groups: Vec<Figures> = serde_json::from_value(report["groups"].clone()).unwrap();
            assert_eq!(
                groups,
                day.expected(by, sla),
                "by {} at {sla} s",
                by.as_str()
            );
            let total: Figures = serde_json::from_value(report["total"].clone()).unwrap();
            assert_eq!(total, day.expected_total(sla));
            assert_eq!(report["engagements"], 120);
        }
    }
    let total = day.expected_total(20);
    assert!(total.abandoned > 0 && total.transfers > 0 && total.holds > 0);

    // By agent, each agent's time in each status, from the agents' own events.
    let (ok, out, err) = zcc(&[
        "report",
        "--from",
        DAY,
        "--to",
        DAY,
        "--by",
        "agent",
        "--endpoint-url",
        &endpoint,
        "--json",
    ])
    .await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let expected = day.expected_time_in_status();
    let agents = report["agents"].as_array().expect("agent times");
    assert_eq!(agents.len(), expected.len());
    for agent in agents {
        let user = agent["user_id"].as_str().unwrap();
        let spent: std::collections::BTreeMap<String, i64> =
            serde_json::from_value(agent["time_in_status_ms"].clone()).unwrap();
        assert_eq!(spent, expected[user], "{user}");
        let handled = day
            .expected(GroupBy::Agent, 20)
            .into_iter()
            .find(|g| g.group == user)
            .unwrap()
            .answered;
        assert_eq!(agent["handled"], handled);
    }

    // The table and the CSV say the same.
    let (ok, table, _) = zcc(&[
        "report",
        "--from",
        DAY,
        "--to",
        DAY,
        "--by",
        "queue",
        "--endpoint-url",
        &endpoint,
    ])
    .await;
    assert!(ok);
    assert!(table.starts_with("120 ended engagements"), "{table}");
    for group in day.expected(GroupBy::Queue, 20) {
        let line = table.lines().find(|l| l.starts_with(&group.group)).unwrap();
        assert!(line.contains(&group.offered.to_string()), "{line}");
    }
    let (ok, csv, _) = zcc(&[
        "report",
        "--from",
        DAY,
        "--to",
        DAY,
        "--by",
        "agent",
        "--csv",
        "--endpoint-url",
        &endpoint,
    ])
    .await;
    assert!(ok);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,name,offered,answered,abandoned,abandon_rate"));
    let agents = day.expected(GroupBy::Agent, 20);
    assert_eq!(lines.len(), 1 + agents.len() + 1);
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(first[0], agents[0].group);
    assert_eq!(first[2], agents[0].offered.to_string());
    assert_eq!(first[7], format!("{:.4}", agents[0].service_level));

    // Nothing in a range without engagements; a bad grouping or range is a usage error.
    let (ok, out, _) = zcc(&[
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
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["engagements"],
        0
    );
    for bad in [
        vec!["report", "--by", "weekday"],
        vec!["report", "--from", "2026-12-02", "--to", "2026-12-01"],
    ] {
        let mut args = bad.clone();
        args.extend(["--endpoint-url", &endpoint]);
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"))
            .args(&args)
            .env("TABLE_NAME", TABLE)
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn export_writes_firehose_s_layout() {
    let day = generate(DAY, 30, 11);
    let stack = stack_with(&day).await;
    let dir = std::env::temp_dir().join(format!("zcc-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, out, err) = zcc(&[
        "export",
        "--from",
        DAY,
        "--to",
        DAY,
        dir.to_str().unwrap(),
        "--endpoint-url",
        &stack.dynamodb_endpoint(),
        "--json",
    ])
    .await;
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["engagements"], 30);
    let file = dir.join(format!("day={DAY}")).join("zcc-export.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 30);
    assert!(rows.iter().all(|r| r["day"] == DAY && r["ended"] == true));
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}
