//! `zcc`: parse the command line and run the command. Each command is a module of
//! `zcc_cli::commands` that owns its arguments (`Args`) and its `run`; this file only lists
//! them. Usage errors are clap's (exit 2); a command's own errors say what to do next, as
//! JSON when it was given `--json`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use zcc_cli::commands::{self, CliError};

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
/// is its module (declared in `commands/mod.rs`) and one line here.
macro_rules! commands {
    ($($variant:ident => $module:ident,)*) => {
        #[derive(Subcommand)]
        enum Command {
            $($variant(commands::$module::Args),)*
        }

        impl Command {
            async fn run(self) -> Result<ExitCode, CliError> {
                match self {
                    $(Self::$variant(args) => commands::$module::run(args).await,)*
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
    Reconcile => reconcile,
    Report => report,
    Export => export,
    Watch => watch,
    Examples => examples,
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // A command given `--json` reports its errors as JSON too: a script reads both streams.
    let json = matches
        .subcommand()
        .is_some_and(|(_, args)| matches!(args.try_get_one::<bool>("json"), Ok(Some(true))));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    cli.command.run().await.unwrap_or_else(|err| {
        err.report(json);
        err.exit_code()
    })
}
