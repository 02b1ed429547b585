//! `zcc reconcile`: what the webhooks never delivered, from Zoom's own REST API (recover the
//! app's failed deliveries, backfill engagements the table lacks, cross-check the figures of
//! those both sides have). The work is `zcc_reconcile`'s; this is its command line.

use std::process::ExitCode;

use zcc_domain::time_range::{End, Start};
use zcc_reconcile::{
    Options, ReconcileError, ReconcileReport, Reconciler, Window, ZoomCredentials,
};

use super::{CliError, TableArgs, exit, print, terminal, text_table};

/// Recover failed webhook deliveries, backfill engagements the table lacks and cross-check
/// figures, from Zoom's REST API. Credentials: ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID,
/// ZOOM_CLIENT_SECRET (a Server-to-Server OAuth app), ZOOM_APP_ID (the Marketplace app whose
/// webhook logs to read; without it recovery is skipped), ZOOM_API_URL and ZOOM_OAUTH_URL
/// (Zoom's own by default).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// From: a day (YYYY-MM-DD, from its start) or an ISO-8601 time.
    #[arg(long)]
    from: Start,
    /// To: a day (to its end) or an ISO-8601 time.
    #[arg(long)]
    to: End,
    /// Fetch and compare, write nothing: say what a run would do.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let window = Window::new(args.from.0, args.to.0).map_err(usage)?;
    let json = args.table.json;
    // Nothing is connected or written before the credentials are all there.
    let credentials = match ZoomCredentials::from_env() {
        Ok(credentials) => credentials,
        Err(err) => return Ok(failed(&err, json)),
    };
    let reconciler = Reconciler::new(credentials, args.table.store().await);
    let options = Options {
        dry_run: args.dry_run,
        progress: !json,
    };
    match reconciler.run(window, options).await {
        Ok(report) => {
            print(&report, json, render);
            Ok(ExitCode::from(exit::OK))
        }
        Err(ReconcileError::Usage(message)) => Err(CliError::Usage(message)),
        Err(ReconcileError::Store(err)) => Err(CliError::from(err)),
        Err(err) => Ok(failed(&err, json)),
    }
}

fn usage(err: ReconcileError) -> CliError {
    CliError::Usage(err.to_string())
}

/// Says what could not be done, as the other commands say it (`zcc: …`, or the functions'
/// JSON error with `--json`), and exits 1.
fn failed(err: &ReconcileError, json: bool) -> ExitCode {
    if json {
        let error = serde_json::json!({"error": {"code": err.code(), "message": err.to_string()}});
        eprintln!("{error}");
    } else {
        eprintln!("zcc: {}", terminal::cell(&err.to_string()));
    }
    ExitCode::from(exit::FAILURE)
}

/// The summary a person reads; every text from Zoom goes through the terminal-safe output.
fn render(report: &ReconcileReport) -> String {
    let would = if report.dry_run { "would be " } else { "" };
    let mut out = format!(
        "Reconciled {} to {}{}\n\n",
        report.from,
        report.to,
        if report.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    out += &text_table(
        &["", ""],
        &[
            vec![
                "failed deliveries in Zoom's logs".into(),
                report.failed_deliveries.to_string(),
            ],
            vec![
                format!("events {would}recovered"),
                report.recovered_events.to_string(),
            ],
            vec![
                "events already merged".into(),
                report.duplicate_events.to_string(),
            ],
            vec![
                "engagements Zoom lists".into(),
                report.listed_engagements.to_string(),
            ],
            vec![
                format!("engagements {would}backfilled"),
                report.backfilled_engagements.to_string(),
            ],
            vec![
                "engagements skipped (no detail yet)".into(),
                report.skipped_engagements.to_string(),
            ],
            vec!["engagements compared".into(), report.checked.to_string()],
            vec!["  every figure matched".into(), report.matched.to_string()],
            vec![
                "requests to Zoom (retries)".into(),
                format!("{} ({})", report.requests, report.retries),
            ],
            vec!["write units".into(), format!("{:.1}", report.write_units)],
        ],
    );
    if !report.mismatches.is_empty() {
        out += "\nFigures that differ from Zoom's (findings: see the docs on why a figure may differ)\n\n";
        let rows: Vec<Vec<String>> = report
            .mismatches
            .iter()
            .map(|m| {
                vec![
                    m.engagement_id.clone(),
                    m.figure.clone(),
                    m.ours.to_string(),
                    m.zoom.to_string(),
                ]
            })
            .collect();
        out += &text_table(&["engagement", "figure", "ours", "zoom"], &rows);
    }
    for note in &report.notes {
        out += &format!("\nnote: {note}");
    }
    if !report.notes.is_empty() {
        out += "\n";
    }
    out
}
