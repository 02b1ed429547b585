//! `zcc watch`: engagements and agents changing live, from the table's stream (the local
//! stack's or AWS's): a table redrawn in place on a terminal, or one JSON line per change.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_shared::aws;
use zcc_shared::dynamodb::schema::{AGENT_PK_PREFIX, ENGAGEMENT_PK_PREFIX, STATE_SK};
use zcc_shared::dynamodb::stream::{Change, StreamReader};

use super::{CliError, TableArgs, is_loopback, terminal, text_table};

/// Follow engagements and agents as they change, from the table's stream: a table redrawn in
/// place, or one JSON line per change with --json.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Stop after this many changes (default: until Ctrl-C).
    #[arg(long)]
    max_changes: Option<usize>,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let client = streams_client(args.table.endpoint_url.as_deref()).await;
    follow(client, &args.table.table, args.table.json, args.max_changes).await?;
    Ok(ExitCode::SUCCESS)
}

/// A Streams client for `endpoint` (the local stack needs no credentials) or for AWS.
pub async fn streams_client(endpoint: Option<&str>) -> aws_sdk_dynamodbstreams::Client {
    aws::tool_dynamodb_streams(endpoint, endpoint.is_some_and(is_loopback)).await
}

/// One change of a record, as `--json` prints it.
pub fn change_line(change: &Change) -> Option<Value> {
    if change.sk != STATE_SK {
        return None;
    }
    let new = change.new.clone()?;
    let notifications: Vec<&str> = change
        .notifications()
        .map(|n| n.iter().map(|n| n.detail_type.as_str()).collect())
        .unwrap_or_default();
    let (kind, id) = if let Some(id) = change.pk.strip_prefix(ENGAGEMENT_PK_PREFIX) {
        ("engagement", id)
    } else if let Some(id) = change.pk.strip_prefix(AGENT_PK_PREFIX) {
        ("agent", id)
    } else {
        return None;
    };
    Some(json!({
        "kind": kind,
        "id": id,
        "version": new.get("version"),
        "notifications": notifications,
        "state": new,
    }))
}

fn field(state: &Value, name: &str) -> String {
    match state.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

/// The latest state of each record seen, redrawn as two tables.
#[derive(Default)]
struct Board {
    engagements: BTreeMap<String, EngagementState>,
    agents: BTreeMap<String, AgentState>,
}

impl Board {
    fn take(&mut self, line: &Value) {
        let state = line["state"].clone();
        match line["kind"].as_str() {
            Some("engagement") => {
                if let Ok(s) = serde_json::from_value::<EngagementState>(state) {
                    self.engagements.insert(s.engagement_id.clone(), s);
                }
            }
            Some("agent") => {
                if let Ok(a) = serde_json::from_value::<AgentState>(state) {
                    self.agents.insert(a.user_id.clone(), a);
                }
            }
            _ => {}
        }
    }

    fn render(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let engagements: Vec<Vec<String>> = self
            .engagements
            .values()
            .map(|s| {
                let v = serde_json::to_value(s).unwrap_or_default();
                vec![
                    s.engagement_id.clone(),
                    field(&v, "status"),
                    opt(&s.channel),
                    opt(&s.queue_name),
                    opt(&s.agent_display_name),
                    s.transfer_count.to_string(),
                    opt(&s.disposition_name),
                    field(&v, "last_event_at"),
                ]
            })
            .collect();
        let agents: Vec<Vec<String>> = self
            .agents
            .values()
            .map(|a| {
                vec![
                    a.user_id.clone(),
                    opt(&a.display_name),
                    a.logged_in
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "-".into()),
                    format!("{} / {}", opt(&a.status), opt(&a.sub_status)),
                    a.queues.iter().cloned().collect::<Vec<_>>().join(","),
                ]
            })
            .collect();
        let mut out = text_table(
            &[
                "ENGAGEMENT",
                "STATUS",
                "CHANNEL",
                "QUEUE",
                "AGENT",
                "TRANSFERS",
                "DISPOSITION",
                "LAST_EVENT_AT",
            ],
            &engagements,
        );
        out.push('\n');
        out.push_str(&text_table(
            &["AGENT", "NAME", "LOGGED_IN", "STATUS", "QUEUES"],
            &agents,
        ));
        out
    }
}

/// Follows the table's stream until `max_changes` record changes were shown (or forever).
pub async fn follow(
    client: aws_sdk_dynamodbstreams::Client,
    table: &str,
    json: bool,
    max_changes: Option<usize>,
) -> Result<(), CliError> {
    let mut reader = StreamReader::open(client, table, false).await?;
    let terminal = std::io::stdout().is_terminal() && !json;
    let mut board = Board::default();
    let mut shown = 0;
    eprintln!("zcc watch: following table {table}; Ctrl-C to stop");
    loop {
        for record in reader.poll().await? {
            let Ok(change) = Change::from_lambda_record(&record) else {
                continue;
            };
            let Some(line) = change_line(&change) else {
                continue;
            };
            shown += 1;
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{line}");
            } else {
                board.take(&line);
                if terminal {
                    // Home and clear, then the tables: redrawn in place.
                    // Only this escape sequence is ours: the tables' text is made safe.
                    let _ = write!(out, "\x1b[H\x1b[2J{}", terminal::safe(&board.render()));
                } else {
                    let text = format!(
                        "{} {} v{} {}",
                        line["kind"].as_str().unwrap_or(""),
                        line["id"].as_str().unwrap_or(""),
                        line["version"],
                        line["notifications"]
                    );
                    let _ = writeln!(out, "{}", terminal::cell(&text));
                }
            }
            let _ = out.flush();
            if max_changes.is_some_and(|max| shown >= max) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_redrawn_tables_are_shown_not_obeyed() {
        let mut board = Board::default();
        let mut engagement = EngagementState::new("e1");
        engagement.queue_name = Some("Sales\u{1b}]0;owned\u{7}".into());
        engagement.agent_display_name = Some("Ana\u{1b}[2J\u{202e}".into());
        board.take(&json!({"kind": "engagement", "state": engagement}));
        let mut agent: AgentState = serde_json::from_value(json!({"user_id": "u1"})).unwrap();
        agent.display_name = Some("Bo\u{9b}2J\nnext line".into());
        board.take(&json!({"kind": "agent", "state": agent}));
        let shown = board.render();
        assert!(
            !shown
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{shown:?}"
        );
        assert!(shown.contains("Sales\\u{1b}]0;owned\\u{7}"), "{shown}");
        assert!(shown.contains("Bo\\u{9b}2J\\u{a}next line"), "{shown}");
        assert_eq!(shown.lines().count(), 5, "one line per record: {shown}");
    }
}
