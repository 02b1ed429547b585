//! `zcc list`: the engagements of an agent, a queue or a day, by time, through the indexes.

use std::process::ExitCode;

use zcc_domain::time_range::{Day, End, Start, TimeRange};
use zcc_shared::store::{EngagementSummary, ListQuery, Listing, RecordReader};

use super::show::{text, time};
use super::{CliError, TableArgs, text_table};

/// List engagements of an agent, a queue or a day, by time.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("by").required(true))]
pub struct Args {
    #[arg(long, group = "by")]
    agent: Option<String>,
    #[arg(long, group = "by")]
    queue: Option<String>,
    /// A UTC day, YYYY-MM-DD.
    #[arg(long, group = "by", value_name = "YYYY-MM-DD")]
    day: Option<Day>,
    /// Only engagements whose first event is at or after this (a day, or an ISO-8601 time).
    #[arg(long, value_name = "DAY|TIME")]
    from: Option<Start>,
    /// ...and at or before this (a day means its end).
    #[arg(long, value_name = "DAY|TIME")]
    to: Option<End>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let listing = match (args.agent, args.queue, args.day) {
        (Some(a), _, _) => Listing::Agent(a),
        (_, Some(q), _) => Listing::Queue(q),
        (_, _, Some(d)) => Listing::Day(d.to_string()),
        // clap requires one of the group.
        (None, None, None) => {
            return Err(CliError::Usage(
                "zcc list: give --agent ID, --queue ID or --day YYYY-MM-DD".into(),
            ));
        }
    };
    if let (Some(from), Some(to)) = (args.from, args.to) {
        TimeRange::new(from.0, to.0).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    let query = ListQuery {
        listing,
        from: args.from.map(|f| f.0.to_iso()),
        to: args.to.map(|t| t.0.to_iso()),
        limit: args.limit,
    };
    let store = args.table.store().await;
    let items = list(&store, &query).await?;
    args.table.print(&items, |i| render_list(i));
    Ok(ExitCode::SUCCESS)
}

pub async fn list(
    store: &impl RecordReader,
    query: &ListQuery,
) -> Result<Vec<EngagementSummary>, CliError> {
    Ok(store.list(query).await?)
}

pub fn render_list(items: &[EngagementSummary]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                time(&i.first_event_at),
                i.engagement_id.clone(),
                text(&i.status),
                text(&i.channel),
                text(&i.queue_name),
                text(&i.agent_display_name),
                text(&i.disposition_name),
            ]
        })
        .collect();
    text_table(
        &[
            "FIRST_EVENT_AT",
            "ENGAGEMENT",
            "STATUS",
            "CHANNEL",
            "QUEUE",
            "AGENT",
            "DISPOSITION",
        ],
        &rows,
    )
}
