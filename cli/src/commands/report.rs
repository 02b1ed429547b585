//! `zcc report` and `zcc export`: the contact center's figures over a time range, with the
//! definitions of `zcc_domain::report` (docs, "Reporting"), read through the day index.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use zcc_domain::report::{Figures, GroupBy, Row, figures, latest, time_in_status, total};
use zcc_domain::timestamp::Timestamp;
use zcc_shared::store::RecordReader;

use super::{CliError, text_table};

/// A time range, inclusive: from a day's start or an instant, to a day's end or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: Timestamp,
    pub to: Timestamp,
}

fn instant(text: &str, end_of_day: bool) -> Result<Timestamp, CliError> {
    let day = text.len() == 10;
    let iso = match (day, end_of_day) {
        (true, false) => format!("{text}T00:00:00.000Z"),
        (true, true) => format!("{text}T23:59:59.999Z"),
        (false, _) => text.to_owned(),
    };
    Timestamp::parse(&iso).map_err(|e| {
        CliError::Usage(format!(
            "`{text}` is neither a day (YYYY-MM-DD) nor an ISO-8601 time: {e}"
        ))
    })
}

impl Range {
    /// `--from` and `--to`, each a day or an ISO-8601 time; both default to today (UTC).
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, CliError> {
        let today = Timestamp::now().day();
        let from = instant(from.unwrap_or(&today), false)?;
        let to = instant(to.unwrap_or(&today), true)?;
        if to < from {
            return Err(CliError::Usage(format!(
                "--to ({}) is before --from ({})",
                to.to_iso(),
                from.to_iso()
            )));
        }
        Ok(Self { from, to })
    }
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
pub async fn rows(store: &impl RecordReader, range: Range) -> Result<Vec<Row>, CliError> {
    let rows = store.rows(range.from, range.to, &progress).await?;
    done_progress(rows.len());
    Ok(latest(rows.into_iter().filter(|r| r.ended)))
}

pub fn report(rows: &[Row], range: Range, by: GroupBy, sla_seconds: u32) -> Report {
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

const COLUMNS: [&str; 16] = [
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

/// CSV with a header row; rates as fractions, durations in seconds.
pub fn csv(report: &Report) -> String {
    let quote = |cell: &str| {
        if cell.contains([',', '"', '\n']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell.to_owned()
        }
    };
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for f in report.groups.iter().chain([&report.total]) {
        let line: Vec<String> = cells(f, |r| format!("{r:.4}"))
            .iter()
            .map(|c| quote(c))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Writes the rows as Firehose does: newline-delimited JSON under `day=YYYY-MM-DD/`.
/// Returns the files written.
pub fn export(rows: &[Row], dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut by_day: std::collections::BTreeMap<&str, Vec<&Row>> = Default::default();
    for row in rows {
        by_day.entry(row.day.as_str()).or_default().push(row);
    }
    let mut written = Vec::new();
    for (day, rows) in by_day {
        let folder = dir.join(format!("day={day}"));
        let fail = |e: std::io::Error| CliError::File {
            path: folder.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&folder).map_err(fail)?;
        let path = folder.join("zcc-export.json");
        let mut text = String::new();
        for row in rows {
            text.push_str(&serde_json::to_string(row).unwrap_or_default());
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}
