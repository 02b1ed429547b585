//! `zcc report`: the contact center's figures over a time range, with the definitions of
//! `zcc_domain::report` (docs/src/using-the-data/reporting.md), read through the day index; as a table, JSON,
//! CSV ([`csv`]) or also a page with charts ([`page`]).

pub mod csv;
pub mod page;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde::Serialize;
use zcc_domain::report::{Figures, GroupBy, Row, figures, latest, time_in_status, total};
use zcc_domain::time_range::{Day, End, Start, TimeRange};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::store::RecordReader;

use super::{CliError, TableArgs, text_table};

/// The contact center's figures over a time range: offered, answered, abandoned, service
/// level, speed of answer, handle time, transfers, holds (docs/src/using-the-data/reporting.md).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub range: RangeArgs,
    /// What a row is.
    #[arg(long, default_value = "queue", value_parser = group_by())]
    pub by: GroupBy,
    /// Answered within this many seconds counts toward the service level.
    #[arg(long, default_value_t = 20)]
    pub sla_seconds: u32,
    /// Comma-separated values instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Also write a self-contained page with charts to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub table: TableArgs,
}

/// `--from` and `--to`, as `report` and `export` take them.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct RangeArgs {
    /// A day (YYYY-MM-DD) or an ISO-8601 time; default: today (UTC).
    #[arg(long, value_name = "DAY|TIME")]
    pub from: Option<Start>,
    /// A day (its end) or an ISO-8601 time; default: today (UTC).
    #[arg(long, value_name = "DAY|TIME")]
    pub to: Option<End>,
}

impl RangeArgs {
    /// The range; ends not given are today's (UTC).
    pub fn range(self) -> Result<TimeRange, CliError> {
        TimeRange::or_today(self.from, self.to, Day::today())
            .map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// `--by`: one of the groupings, checked by clap (a usage error lists them).
fn group_by() -> impl TypedValueParser<Value = GroupBy> {
    PossibleValuesParser::new(["queue", "agent", "hour", "day", "channel"]).try_map(|by| {
        GroupBy::parse(&by)
            .ok_or_else(|| format!("give queue, agent, hour, day or channel, not {by}"))
    })
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let range = args.range.range()?;
    let store = args.table.store().await;
    let rows = rows(&store, range).await?;
    let mut found = report(&rows, range, args.by, args.sla_seconds);
    agent_times(&store, &mut found).await?;
    if let Some(path) = &args.html {
        let by_hour = report(&rows, range, GroupBy::Hour, args.sla_seconds);
        let by_queue = report(&rows, range, GroupBy::Queue, args.sla_seconds);
        std::fs::write(path, page::render(&found, &by_hour, &by_queue))
            .map_err(|e| CliError::write(path, e))?;
    }
    if args.csv {
        print!("{}", csv::csv(&found));
    } else {
        args.table.print(&found, render);
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: Timestamp,
    pub to: Timestamp,
    pub by: GroupBy,
    pub sla_seconds: u32,
    /// Ended engagements in the range (the population every figure is about).
    pub engagements: usize,
    pub groups: Vec<Figures>,
    /// All groups together.
    pub total: Figures,
    /// By agent: each agent's engagements handled and time in each status (ms), from the
    /// agent's stored events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AgentTime {
    pub user_id: String,
    pub handled: u64,
    pub time_in_status_ms: std::collections::BTreeMap<String, i64>,
}

/// For a report by agent: each agent's time in each status within the range (up to now).
pub async fn agent_times(store: &impl RecordReader, report: &mut Report) -> Result<(), CliError> {
    if report.by != GroupBy::Agent {
        return Ok(());
    }
    let end = report.to.min(Timestamp::now());
    for group in &report.groups {
        let Ok(id) = zcc_domain::ids::UserId::parse(&group.group) else {
            continue;
        };
        if group.group == "-" {
            continue;
        }
        let changes = store.agent_statuses(&id, end).await?;
        report.agents.push(AgentTime {
            user_id: group.group.clone(),
            handled: group.answered,
            time_in_status_ms: time_in_status(&changes, report.from, end),
        });
    }
    Ok(())
}

/// A line on stderr while rows are read, when a person is watching.
fn progress(read: usize) {
    if std::io::stderr().is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\rzcc: {read} engagements read");
        let _ = err.flush();
    }
}

fn done_progress(read: usize) {
    if std::io::stderr().is_terminal() && read > 0 {
        eprintln!();
    }
}

/// The ended engagements of the range, each once (its latest version).
pub async fn rows(store: &impl RecordReader, range: TimeRange) -> Result<Vec<Row>, CliError> {
    let rows = store.rows(range.from, range.to, &progress).await?;
    done_progress(rows.len());
    Ok(latest(rows.into_iter().filter(|r| r.ended)))
}

pub fn report(rows: &[Row], range: TimeRange, by: GroupBy, sla_seconds: u32) -> Report {
    let sla_ms = i64::from(sla_seconds) * 1000;
    Report {
        from: range.from,
        to: range.to,
        by,
        sla_seconds,
        engagements: rows.iter().filter(|r| r.ended).count(),
        groups: figures(rows, by, sla_ms),
        total: total(rows, sla_ms),
        agents: Vec::new(),
    }
}

fn ms(value: Option<i64>) -> String {
    value
        .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
        .unwrap_or_else(|| "-".into())
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The CSV's header row.
pub const COLUMNS: [&str; 16] = [
    "group",
    "name",
    "offered",
    "answered",
    "abandoned",
    "abandon_rate",
    "answered_within_sla",
    "service_level",
    "average_speed_of_answer_s",
    "average_handle_s",
    "p90_handle_s",
    "average_talk_s",
    "average_hold_s",
    "average_wrap_up_s",
    "transfers",
    "holds",
];

/// A group's row: the group and its name (text from the data), then its figures.
fn cells(f: &Figures, rate: fn(f64) -> String) -> Vec<String> {
    vec![
        f.group.clone(),
        f.name.clone().unwrap_or_else(|| "-".into()),
        f.offered.to_string(),
        f.answered.to_string(),
        f.abandoned.to_string(),
        rate(f.abandon_rate),
        f.answered_within_sla.to_string(),
        rate(f.service_level),
        ms(f.average_speed_of_answer_ms),
        ms(f.average_handle_ms),
        ms(f.p90_handle_ms),
        ms(f.average_talk_ms),
        ms(f.average_hold_ms),
        ms(f.average_wrap_up_ms),
        f.transfers.to_string(),
        f.holds.to_string(),
    ]
}

/// The report as a person reads it: one row per group, then the total.
pub fn render(report: &Report) -> String {
    let headers = [
        report.by.as_str().to_uppercase(),
        "NAME".into(),
        "OFFERED".into(),
        "ANSWERED".into(),
        "ABANDONED".into(),
        "ABANDON%".into(),
        format!("≤{}S", report.sla_seconds),
        "SL%".into(),
        "ASA_S".into(),
        "AHT_S".into(),
        "P90_AHT_S".into(),
        "TALK_S".into(),
        "HOLD_S".into(),
        "WRAP_S".into(),
        "TRANSFERS".into(),
        "HOLDS".into(),
    ];
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut rows: Vec<Vec<String>> = report.groups.iter().map(|f| cells(f, percent)).collect();
    rows.push(cells(&report.total, percent));
    let mut out = format!(
        "{} ended engagements from {} to {}, service level threshold {} s\n\n{}",
        report.engagements,
        report.from.to_iso(),
        report.to.to_iso(),
        report.sla_seconds,
        text_table(&headers, &rows)
    );
    if !report.agents.is_empty() {
        let statuses: std::collections::BTreeSet<&String> = report
            .agents
            .iter()
            .flat_map(|a| a.time_in_status_ms.keys())
            .collect();
        let mut headers = vec!["AGENT".to_owned(), "HANDLED".to_owned()];
        headers.extend(statuses.iter().map(|s| format!("{}_H", s.to_uppercase())));
        let rows: Vec<Vec<String>> = report
            .agents
            .iter()
            .map(|a| {
                let mut row = vec![a.user_id.clone(), a.handled.to_string()];
                row.extend(statuses.iter().map(|s| {
                    a.time_in_status_ms
                        .get(*s)
                        .map_or("-".into(), |ms| format!("{:.2}", *ms as f64 / 3_600_000.0))
                }));
                row
            })
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        out.push_str("\ntime in each status (hours)\n");
        out.push_str(&text_table(&headers, &rows));
    }
    out
}
