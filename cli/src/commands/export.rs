//! `zcc export`: the ended engagements of a time range as Firehose writes them, for the
//! Athena queries on one's own machine (under DuckDB).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zcc_domain::report::Row;

use super::report::{RangeArgs, rows};
use super::{CliError, TableArgs};

/// Write the ended engagements of a time range as Firehose writes them (newline-delimited
/// JSON under DIR/day=YYYY-MM-DD/), for the Athena queries on your own machine.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    range: RangeArgs,
    dir: PathBuf,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let range = args.range.range()?;
    let store = args.table.store().await;
    let rows = rows(&store, range).await?;
    let files = export(&rows, &args.dir)?;
    let summary = serde_json::json!({
        "engagements": rows.len(),
        "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
    });
    args.table.print(&summary, |s| {
        format!(
            "{} ended engagements written to {} file(s) under {}\n",
            s["engagements"],
            s["files"].as_array().map_or(0, Vec::len),
            args.dir.display()
        )
    });
    Ok(ExitCode::SUCCESS)
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
        let fail = |e: std::io::Error| CliError::write(&folder, e);
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
