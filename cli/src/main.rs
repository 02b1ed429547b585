use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use zcc_cli::catalog::{self, Target};
use zcc_cli::commands::CliError;
use zcc_cli::commands::read::{self, Listing};
use zcc_cli::commands::rebuild;
use zcc_cli::commands::send::{self, ChallengeCheck, Reply, Scenario, Signer, sibling_url};
use zcc_cli::local::{LocalOptions, LocalStack, process_env};
use zcc_shared::config::{ProcessEnv, TABLE_NAME};
use zcc_shared::local::Storage;
use zcc_shared::timestamp::Timestamp;

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
    /// Derive an engagement's (or an agent's) state item again from its stored events: after
    /// upgrading to a version that models more events, or to merge events kept raw with
    /// `merge_error`. Safe while events arrive.
    Rebuild {
        #[arg(required_unless_present = "agent", conflicts_with = "agent")]
        engagement_id: Option<String>,
        /// Rebuild this agent's state item instead.
        #[arg(long)]
        agent: Option<String>,
        /// Show what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
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
        } => {
            return run_local(addr, dynamodb_addr, data_dir, memory).await;
        }
        Command::Send {
            url,
            file,
            example,
            engagement_id,
            flow,
            json,
        } => send_one(&url, file, example, engagement_id, flow)
            .await
            .map(|(reply, challenge)| {
                print_reply(&reply, challenge.as_ref(), json);
                reply.status < 300 && challenge.is_none_or(|c| c == ChallengeCheck::Matches)
            }),
        Command::Replay {
            url,
            flow_url,
            scenario,
            json,
        } => replay(&url, flow_url, &scenario, json).await,
        Command::Get {
            engagement_id,
            table,
        } => {
            let client = read::client(table.endpoint_url.as_deref()).await;
            read::engagement(&client, &table.table, &engagement_id)
                .await
                .map(|found| {
                    print(&found, table.json, read::render_engagement);
                    true
                })
        }
        Command::List {
            agent,
            queue,
            day,
            from,
            to,
            limit,
            table,
        } => {
            let listing = match (agent, queue, day) {
                (Some(a), _, _) => Listing::Agent(a),
                (_, Some(q), _) => Listing::Queue(q),
                (_, _, Some(d)) => Listing::Day(d),
                _ => {
                    eprintln!("zcc list: give --agent ID, --queue ID or --day YYYY-MM-DD");
                    return ExitCode::from(2);
                }
            };
            let client = read::client(table.endpoint_url.as_deref()).await;
            read::list(
                &client,
                &table.table,
                &listing,
                from.as_deref(),
                to.as_deref(),
                limit,
            )
            .await
            .map(|items| {
                if table.json {
                    println!("{}", Value::Array(items));
                } else {
                    print!("{}", read::render_list(&items));
                }
                true
            })
        }
        Command::Agent { user_id, table } => {
            let client = read::client(table.endpoint_url.as_deref()).await;
            read::agent(&client, &table.table, &user_id).await.map(|a| {
                print(&a, table.json, read::render_agent);
                true
            })
        }
        Command::Rebuild {
            engagement_id,
            agent,
            dry_run,
            table,
        } => match rebuild::target(engagement_id, agent) {
            Err(err) => Err(err),
            Ok(target) => {
                let client = read::client(table.endpoint_url.as_deref()).await;
                rebuild::rebuild(&client, &table.table, &target, dry_run)
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
        Command::Examples { json } => {
            let listed: Vec<(&str, &str)> = catalog::all()
                .map(|e| {
                    let to = match e.target {
                        Target::Webhook => "zoom-webhook",
                        Target::Flow => "flow-events",
                    };
                    (e.name, to)
                })
                .collect();
            if json {
                let items: Vec<Value> = listed
                    .iter()
                    .map(|(name, to)| json!({"name": name, "function": to}))
                    .collect();
                println!("{}", Value::Array(items));
            } else {
                for (name, to) in listed {
                    println!("{name:<42} {to}");
                }
            }
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("zcc: {err}");
            ExitCode::FAILURE
        }
    }
}

fn print(value: &Value, json: bool, render: fn(&Value) -> String) {
    if json {
        println!("{value}");
    } else {
        print!("{}", render(value));
    }
}

fn print_reply(reply: &Reply, challenge: Option<&ChallengeCheck>, json: bool) {
    if json {
        let mut out = reply.to_json();
        if let Some(check) = challenge {
            out["secret_token_matches"] = Value::Bool(*check == ChallengeCheck::Matches);
            if let ChallengeCheck::Differs(why) = check {
                out["secret_token_problem"] = Value::String(why.clone());
            }
        }
        println!("{out}");
    } else {
        println!("{} {}", reply.status, reply.body);
        match challenge {
            Some(ChallengeCheck::Matches) => println!(
                "The answer is the one your Secret Token gives: Zoom's Validate will pass."
            ),
            Some(ChallengeCheck::Differs(why)) => {
                eprintln!("zcc: the challenge answer is wrong: {why}. Zoom's Validate would fail.")
            }
            None => {}
        }
    }
}

async fn send_one(
    url: &str,
    file: Option<PathBuf>,
    example: Option<String>,
    engagement_id: Option<String>,
    flow: bool,
) -> Result<(Reply, Option<ChallengeCheck>), CliError> {
    let (body, target) = match (file, example) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let parsed: Value = serde_json::from_str(&text).map_err(|e| CliError::File {
                path: path.display().to_string(),
                reason: format!("not JSON: {e}"),
            })?;
            // The file's bytes are sent as they are: that is what gets signed.
            let target = if flow {
                Target::Flow
            } else {
                send::target_of(&parsed)
            };
            (text, target)
        }
        (None, Some(name)) => {
            let example = catalog::find(&name).ok_or_else(|| {
                CliError::Usage(format!("no example `{name}`; `zcc examples` lists them"))
            })?;
            let id = engagement_id.unwrap_or_else(send::new_engagement_id);
            (
                catalog::body(example, &id, Timestamp::now()).to_string(),
                example.target,
            )
        }
        (None, None) => return Err(CliError::Usage("give --file or --example".into())),
    };
    let signer = Signer::from_env(&ProcessEnv, url);
    let reply = send::post(url, &body, target, &signer).await?;
    let challenge = send::check_challenge(&body, &reply, &signer);
    Ok((reply, challenge))
}

async fn replay(
    url: &str,
    flow_url: Option<String>,
    path: &PathBuf,
    json: bool,
) -> Result<bool, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let scenario = Scenario::parse(&text)?;
    let id = send::new_engagement_id();
    let steps = scenario.bodies(&id, Timestamp::now())?;
    let flow_url = flow_url.or_else(|| sibling_url(url, "flow-events"));
    let signer = Signer::from_env(&ProcessEnv, url);
    let mut all_ok = true;
    let mut replies = Vec::new();
    for (n, (delay, target, body)) in steps.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        let to = match target {
            Target::Webhook => url.to_owned(),
            Target::Flow => flow_url.clone().ok_or_else(|| {
                CliError::Usage(format!("step {} is a Flow POST: give --flow-url", n + 1))
            })?,
        };
        let reply = send::post(&to, &body.to_string(), *target, &signer).await?;
        all_ok &= reply.status < 300;
        let event = body["event"].as_str().unwrap_or("?").to_owned();
        if json {
            replies.push(json!({"event": event, "status": reply.status, "body": reply.body}));
        } else {
            println!("{:>3} {:<48} {} {}", n + 1, event, reply.status, reply.body);
        }
    }
    if json {
        let engagement = scenario.engagement_id.unwrap_or(id);
        println!(
            "{}",
            json!({"engagement_id": engagement, "replies": replies})
        );
    }
    Ok(all_ok)
}

async fn run_local(
    addr: SocketAddr,
    dynamodb_addr: SocketAddr,
    data_dir: PathBuf,
    memory: bool,
) -> ExitCode {
    init_logging();
    let storage = if memory {
        Storage::Memory
    } else {
        Storage::File(data_dir.join("dynamodb.sqlite"))
    };
    let env = process_env();
    for (name, value) in env.defaulted() {
        eprintln!("zcc local: {name} is not set; using the development default `{value}`");
    }
    let options = LocalOptions {
        addr,
        dynamodb_addr,
        storage: storage.clone(),
    };
    let stack = match LocalStack::start(&options, &env).await {
        Ok(stack) => stack,
        Err(err) => {
            eprintln!("zcc local: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Listen before saying ready: a Ctrl-C right after the ready line must stop us cleanly.
    let stopped = match shutdown_signal() {
        Ok(stopped) => stopped,
        Err(err) => {
            eprintln!("zcc local: cannot listen for Ctrl-C: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", stack.ready_line(&storage));
    stopped.await;
    stack.stop().await;
    eprintln!("zcc local: stopped");
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; the handlers are installed before it returns.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Handler logs on stderr (stdout carries the ready line); the SDK's own chatter about
/// expected errors, such as "table exists", only when asked for with RUST_LOG.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "info,aws_smithy_runtime=error,aws_sdk_dynamodb=error,aws_config=error",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
