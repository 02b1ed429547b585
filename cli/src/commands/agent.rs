//! `zcc agent`: an agent's current presence, read through the store's port.

use std::process::ExitCode;

use zcc_domain::agent::AgentState;
use zcc_domain::ids::UserId;
use zcc_shared::store::RecordReader;

use super::show::{text, time};
use super::{CliError, TableArgs, text_table};

/// Show an agent's current presence: login, status, queues.
#[derive(clap::Args, Debug)]
pub struct Args {
    user_id: String,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let store = args.table.store().await;
    let found = agent(&store, &args.table.table, &args.user_id).await?;
    args.table.print(&found, render_agent);
    Ok(ExitCode::SUCCESS)
}

pub async fn agent(
    store: &impl RecordReader,
    table: &str,
    id: &str,
) -> Result<AgentState, CliError> {
    let id = UserId::parse(id).map_err(|e| CliError::Usage(e.to_string()))?;
    store
        .agent(&id)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("no agent `{id}` in table {table}")))
}

pub fn render_agent(a: &AgentState) -> String {
    let queues = a.queues.iter().cloned().collect::<Vec<_>>().join(", ");
    let rows = vec![
        vec![
            "agent".into(),
            format!("{} ({})", text(&a.display_name), a.user_id),
        ],
        vec!["email".into(), text(&a.email)],
        vec![
            "logged in".into(),
            format!("{} since {}", text(&a.logged_in), time(&a.logged_in_since)),
        ],
        vec![
            "status".into(),
            format!(
                "{} / {} since {}",
                text(&a.status),
                text(&a.sub_status),
                time(&a.status_since)
            ),
        ],
        vec!["queues".into(), format!("[{queues}]")],
        vec![
            "last event".into(),
            format!("{} at {}", text(&a.last_event), time(&a.last_event_at)),
        ],
    ];
    text_table(&["FIELD", "VALUE"], &rows)
}
