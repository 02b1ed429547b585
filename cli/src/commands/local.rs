//! `zcc local`: start the stack, say it is ready, stop it cleanly on Ctrl-C or SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use zcc_shared::dynamodb::embedded::Storage;

use super::CliError;
use crate::notifier::NotifyTarget;
use crate::stack::{Stack, StackOptions, process_env};

/// Run the whole system on this machine: the embedded DynamoDB and the three functions.
#[derive(clap::Args, Debug)]
pub struct Args {
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
}

/// Runs until stopped.
pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    init_logging();
    let storage = if args.memory {
        Storage::Memory
    } else {
        Storage::File(args.data_dir.join("dynamodb.sqlite"))
    };
    let notify = match (args.notify_url, args.no_notify) {
        (_, true) => NotifyTarget::Off,
        (Some(url), _) => NotifyTarget::Url(url),
        (None, false) => NotifyTarget::Stdout,
    };
    let env = process_env();
    for (name, value) in env.defaulted() {
        eprintln!("zcc local: {name} is not set; using the development default `{value}`");
    }
    let options = StackOptions {
        addr: args.addr,
        dynamodb_addr: args.dynamodb_addr,
        storage: storage.clone(),
        notify,
    };
    let stack = Stack::start(&options, &env).await?;
    // Listen before saying ready: a Ctrl-C right after the ready line must stop us cleanly.
    let stopped = shutdown_signal().map_err(|err| CliError::Signal(err.to_string()))?;
    println!("{}", stack.ready_line(&storage));
    stopped.await;
    stack.stop().await;
    eprintln!("zcc local: stopped");
    Ok(ExitCode::SUCCESS)
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
