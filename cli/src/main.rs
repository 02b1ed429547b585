use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zcc_cli::local::{LocalOptions, LocalStack, process_env};
use zcc_shared::local::Storage;

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Local {
            addr,
            dynamodb_addr,
            data_dir,
            memory,
        } => {
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
            println!("{}", stack.ready_line(&storage));
            let _ = tokio::signal::ctrl_c().await;
            stack.stop().await;
            eprintln!("zcc local: stopped");
            ExitCode::SUCCESS
        }
    }
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
