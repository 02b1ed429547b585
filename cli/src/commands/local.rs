//! `zcc local`: start the stack, say it is ready, stop it cleanly on Ctrl-C or SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use zcc_shared::dynamodb::embedded::Storage;

use crate::notifier::NotifyTarget;
use crate::stack::{Stack, StackOptions, process_env};

/// Runs until stopped.
pub async fn run(
    addr: SocketAddr,
    dynamodb_addr: SocketAddr,
    data_dir: PathBuf,
    memory: bool,
    notify: NotifyTarget,
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
    let options = StackOptions {
        addr,
        dynamodb_addr,
        storage: storage.clone(),
        notify,
    };
    let stack = match Stack::start(&options, &env).await {
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
