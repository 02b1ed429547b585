//! `zcc`: parse the command line and run the command. Each command is a module of
//! `zcc_cli::commands` that owns its arguments (`Args`) and its `run`; this file only lists
//! them. Usage errors are clap's (exit 2); a command's own errors say what to do next.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zcc_cli::commands::{
    CliError, agent, examples, export, get, list, local, rebuild, replay, report, send, terminal,
    watch,
};

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

/// The commands, in the order `zcc --help` lists them: `Variant => module`, where the module
/// has `Args` (its help is the struct's doc comment) and `async fn run(Args)`. Adding a command
/// is its module and one line here.
macro_rules! commands {
    ($($variant:ident => $module:ident,)*) => {
        #[derive(Subcommand)]
        enum Command {
            $($variant($module::Args),)*
        }

        impl Command {
            async fn run(self) -> Result<ExitCode, CliError> {
                match self {
                    $(Self::$variant(args) => $module::run(args).await,)*
                }
            }
        }
    };
}

commands! {
    Local => local,
    Send => send,
    Replay => replay,
    Get => get,
    List => list,
    Agent => agent,
    Rebuild => rebuild,
    Report => report,
    Export => export,
    Watch => watch,
    Examples => examples,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.command.run().await.unwrap_or_else(|err| {
        eprintln!("zcc: {}", terminal::cell(&err.to_string()));
        err.exit_code()
    })
}
