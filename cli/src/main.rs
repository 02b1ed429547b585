//! `zcc`: parse the command line and dispatch; each command lives in `commands/`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use zcc_cli::commands::send::{self, ChallengeCheck};
use zcc_cli::commands::{
    CliError, examples, exit, local, page, print, read, rebuild, report, watch,
};
use zcc_cli::notifier::NotifyTarget;
use zcc_domain::report::GroupBy;
use zcc_shared::edge::config::TABLE_NAME;
use zcc_shared::store::{ListQuery, Listing};

#[derive(Parser)]
#[command(
    name = "zcc",
    version,
    about = "zcc-events: Zoom contact-center events into DynamoDB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system on this machine: the embedded DynamoDB and the three functions.
    Local {
        /// Where the functions listen (paths /lambda-url/<function>/).
        #[arg(long, default_value = "127.0.0.1:9000")]
        addr: SocketAddr,
        /// Where the DynamoDB API listens, for the aws CLI and SDKs.
        #[arg(long, default_value = "127.0.0.1:8000")]
        dynamodb_addr: SocketAddr,
        /// Directory of the data file (kept between runs).
        #[arg(long, default_value = ".zcc", conflicts_with = "memory")]
        data_dir: PathBuf,
        /// Keep everything in memory: gone on exit.
        #[arg(long)]
        memory: bool,
        /// POST each notification to this URL, as an EventBridge API destination would
        /// (default: one JSON line per notification on stdout).
        #[arg(long, conflicts_with = "no_notify")]
        notify_url: Option<String>,
        /// Run without the notifier.
        #[arg(long)]
        no_notify: bool,
    },
    /// Sign (ZOOM_WEBHOOK_SECRET_TOKEN) or authorize (FLOW_AUTH_TOKEN) one event and POST it
    /// exactly as Zoom or a Flow script does.
    Send {
        /// The function URL (zoom-webhook, flow-events or url-validation).
        #[arg(long)]
        url: String,
        /// A JSON body to send as it is.
        #[arg(long, conflicts_with = "example", required_unless_present = "example")]
        file: Option<PathBuf>,
        /// A built-in example (`zcc examples` lists them).
        #[arg(long)]
        example: Option<String>,
        /// The engagement the example is about (default: a new id).
        #[arg(long)]
        engagement_id: Option<String>,
        /// Send the file as a Flow POST (bearer token) even if it looks like a webhook.
        #[arg(long)]
        flow: bool,
        #[arg(long)]
        json: bool,
    },
    /// Send a scenario file: {"engagement_id": "...", "events": [{"delay_ms": 0, "example":
    /// "engagement_started", "at_ms": 0} | {"delay_ms": 100, "body": {...}}, ...]}.
    Replay {
        /// The zoom-webhook URL.
        #[arg(long)]
        url: String,
        /// The flow-events URL (default: beside --url on the local stack).
        #[arg(long)]
        flow_url: Option<String>,
        scenario: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Show one engagement and its timeline.
    Get {
        engagement_id: String,
        #[command(flatten)]
        table: TableArgs,
    },
    /// List engagements of an agent, a queue or a day, by time.
    List {
        #[arg(long, group = "by")]
        agent: Option<String>,
        #[arg(long, group = "by")]
        queue: Option<String>,
        /// A UTC day, YYYY-MM-DD.
        #[arg(long, group = "by")]
        day: Option<String>,
        /// Only engagements whose first event is at or after this (ISO-8601, or a day).
        #[arg(long)]
        from: Option<String>,
        /// ...and at or before this.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        table: TableArgs,
    },
    /// Show an agent's current presence: login, status, queues.
    Agent {
        user_id: String,
        #[command(flatten)]
        table: TableArgs,
    },
    /// Derive an engagement's (or an agent's, or with --all every) state item again from its
    /// stored events: after upgrading to a version that models more events or changes a merge
    /// rule, or to merge events kept raw with `merge_error`. Safe while events arrive.
    Rebuild {
        #[arg(
            required_unless_present_any = ["agent", "all"],
            conflicts_with_all = ["agent", "all"]
        )]
        engagement_id: Option<String>,
        /// Rebuild this agent's state item instead.
        #[arg(long, conflicts_with = "all")]
        agent: Option<String>,
        /// Rebuild every engagement and agent (found by a Scan), N at a time; resumable: the
        /// partitions done are kept in a checkpoint file until all are done.
        #[arg(long)]
        all: bool,
        /// With --all: only engagements whose first event is on this UTC day or later (by the
        /// day index; engagements with no state item are not found this way), and all agents.
        #[arg(long, requires = "all", value_name = "YYYY-MM-DD")]
        since: Option<String>,
        /// With --all: partitions rebuilt at a time (and Scan segments) [default: 8].
        #[arg(
            long,
            requires = "all",
            value_name = "N",
            value_parser = clap::value_parser!(u16).range(1..=256)
        )]
        concurrency: Option<u16>,
        /// With --all: where the partitions done are kept [default:
        /// .zcc/rebuild-<table>.checkpoint].
        #[arg(long, requires = "all", value_name = "PATH")]
        checkpoint: Option<PathBuf>,
        /// With --all: ignore the checkpoint and start over.
        #[arg(long, requires = "all")]
        restart: bool,
        /// Show what would change, write nothing (with --all, the checkpoint neither).
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        table: TableArgs,
    },
    /// The contact center's figures over a time range: offered, answered, abandoned, service
    /// level, speed of answer, handle time, transfers, holds (docs, "Reporting").
    Report {
        /// A day (YYYY-MM-DD) or an ISO-8601 time; default: today (UTC).
        #[arg(long)]
        from: Option<String>,
        /// A day (its end) or an ISO-8601 time; default: today (UTC).
        #[arg(long)]
        to: Option<String>,
        /// queue, agent, hour, day or channel.
        #[arg(long, default_value = "queue")]
        by: String,
        /// Answered within this many seconds counts toward the service level.
        #[arg(long, default_value_t = 20)]
        sla_seconds: u32,
        /// Comma-separated values instead of a table.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// Also write a self-contained page with charts to this file.
        #[arg(long)]
        html: Option<PathBuf>,
        #[command(flatten)]
        table: TableArgs,
    },
    /// Write the ended engagements of a time range as Firehose writes them (newline-delimited
    /// JSON under DIR/day=YYYY-MM-DD/), for the Athena queries on your own machine.
    Export {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        dir: PathBuf,
        #[command(flatten)]
        table: TableArgs,
    },
    /// Follow engagements and agents as they change, from the table's stream: a table
    /// redrawn in place, or one JSON line per change with --json.
    Watch {
        /// Stop after this many changes (default: until Ctrl-C).
        #[arg(long)]
        max_changes: Option<usize>,
        #[command(flatten)]
        table: TableArgs,
    },
    /// List the built-in examples for `zcc send --example`.
    Examples {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct TableArgs {
    /// The DynamoDB endpoint (e.g. http://127.0.0.1:8000 for `zcc local`); default: AWS.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// The table (default: $TABLE_NAME).
    #[arg(long, env = TABLE_NAME)]
    table: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Local {
            addr,
            dynamodb_addr,
            data_dir,
            memory,
            notify_url,
            no_notify,
        } => {
            let notify = match (notify_url, no_notify) {
                (_, true) => NotifyTarget::Off,
                (Some(url), _) => NotifyTarget::Url(url),
                (None, false) => NotifyTarget::Stdout,
            };
            return local::run(addr, dynamodb_addr, data_dir, memory, notify).await;
        }
        Command::Send {
            url,
            file,
            example,
            engagement_id,
            flow,
            json,
        } => send::send_one(&url, file, example, engagement_id, flow)
            .await
            .map(|(reply, challenge)| {
                send::print_reply(&reply, challenge.as_ref(), json);
                reply.status < 300 && challenge.is_none_or(|c| c == ChallengeCheck::Matches)
            }),
        Command::Replay {
            url,
            flow_url,
            scenario,
            json,
        } => send::replay(&url, flow_url, &scenario, json).await,
        Command::Get {
            engagement_id,
            table,
        } => {
            let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
            read::engagement(&store, &table.table, &engagement_id)
                .await
                .map(|found| print(&found, table.json, read::render_engagement))
                .map(|()| true)
        }
        Command::List {
            agent,
            queue,
            day,
            from,
            to,
            limit,
            table,
        } => match listing(agent, queue, day) {
            Err(err) => Err(err),
            Ok(listing) => {
                let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
                let query = ListQuery {
                    listing,
                    from,
                    to,
                    limit,
                };
                read::list(&store, &query)
                    .await
                    .map(|items| print(&items, table.json, |i| read::render_list(i)))
                    .map(|()| true)
            }
        },
        Command::Agent { user_id, table } => {
            let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
            read::agent(&store, &table.table, &user_id)
                .await
                .map(|a| print(&a, table.json, read::render_agent))
                .map(|()| true)
        }
        Command::Rebuild {
            all: true,
            since,
            concurrency,
            checkpoint,
            restart,
            dry_run,
            table,
            ..
        } => {
            let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
            let options = rebuild::AllOptions {
                since,
                dry_run,
                concurrency: usize::from(concurrency.unwrap_or(rebuild::DEFAULT_CONCURRENCY)),
                checkpoint: checkpoint.unwrap_or_else(|| rebuild::default_checkpoint(&table.table)),
                restart,
            };
            rebuild::rebuild_all(&store, &options).await.map(|summary| {
                print(&summary, table.json, rebuild::render_summary);
                summary.failed == 0
            })
        }
        Command::Rebuild {
            engagement_id,
            agent,
            since,
            concurrency,
            checkpoint,
            restart,
            dry_run,
            table,
            ..
        } => match rebuild::only_with_all(
            since.is_some() || concurrency.is_some() || checkpoint.is_some() || restart,
        )
        .and_then(|()| rebuild::target(engagement_id, agent))
        {
            Err(err) => Err(err),
            Ok(target) => {
                let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
                rebuild::rebuild(&store, &target, dry_run)
                    .await
                    .map(|rebuilt| {
                        if table.json {
                            println!("{}", rebuild::json(&rebuilt));
                        } else {
                            print!("{}", rebuild::render(&rebuilt, dry_run));
                        }
                        true
                    })
            }
        },
        Command::Report {
            from,
            to,
            by,
            sla_seconds,
            csv,
            html,
            table,
        } => match (
            report::Range::parse(from.as_deref(), to.as_deref()),
            GroupBy::parse(&by),
        ) {
            (Err(err), _) => Err(err),
            (_, None) => Err(CliError::Usage(format!(
                "--by {by}: give queue, agent, hour, day or channel"
            ))),
            (Ok(range), Some(group)) => {
                let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
                match report::rows(&store, range).await {
                    Err(err) => Err(err),
                    Ok(rows) => {
                        let mut found = report::report(&rows, range, group, sla_seconds);
                        if let Err(err) = report::agent_times(&store, &mut found).await {
                            return finish(Err(err));
                        }
                        let page = html.map(|path| {
                            let by_hour = report::report(&rows, range, GroupBy::Hour, sla_seconds);
                            let by_queue =
                                report::report(&rows, range, GroupBy::Queue, sla_seconds);
                            std::fs::write(&path, page::render(&found, &by_hour, &by_queue))
                                .map_err(|e| CliError::File {
                                    path: path.display().to_string(),
                                    reason: e.to_string(),
                                })
                        });
                        if csv {
                            print!("{}", report::csv(&found));
                        } else {
                            print(&found, table.json, report::render);
                        }
                        page.unwrap_or(Ok(())).map(|()| true)
                    }
                }
            }
        },
        Command::Export {
            from,
            to,
            dir,
            table,
        } => match report::Range::parse(from.as_deref(), to.as_deref()) {
            Err(err) => Err(err),
            Ok(range) => {
                let store = read::store(table.endpoint_url.as_deref(), &table.table).await;
                match report::rows(&store, range).await {
                    Err(err) => Err(err),
                    Ok(rows) => report::export(&rows, &dir).map(|files| {
                        let summary = serde_json::json!({
                            "engagements": rows.len(),
                            "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                        });
                        print(&summary, table.json, |s| {
                            format!(
                                "{} ended engagements written to {} file(s) under {}\n",
                                s["engagements"],
                                s["files"].as_array().map_or(0, Vec::len),
                                dir.display()
                            )
                        });
                        true
                    }),
                }
            }
        },
        Command::Watch { max_changes, table } => {
            let client = watch::streams_client(table.endpoint_url.as_deref()).await;
            watch::run(client, &table.table, table.json, max_changes)
                .await
                .map(|()| true)
        }
        Command::Examples { json } => {
            let listed = examples::listed();
            if json {
                println!("{}", examples::as_json(&listed));
            } else {
                print!("{}", examples::render(&listed));
            }
            Ok(true)
        }
    };
    finish(result)
}

fn finish(result: Result<bool, CliError>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::from(exit::OK),
        Ok(false) => ExitCode::from(exit::FAILURE),
        Err(err) => {
            eprintln!("zcc: {err}");
            err.exit_code()
        }
    }
}

fn listing(
    agent: Option<String>,
    queue: Option<String>,
    day: Option<String>,
) -> Result<Listing, CliError> {
    match (agent, queue, day) {
        (Some(a), _, _) => Ok(Listing::Agent(a)),
        (_, Some(q), _) => Ok(Listing::Queue(q)),
        (_, _, Some(d)) => Ok(Listing::Day(d)),
        _ => Err(CliError::Usage(
            "zcc list: give --agent ID, --queue ID or --day YYYY-MM-DD".into(),
        )),
    }
}
