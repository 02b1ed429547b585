//! `zcc examples`: the built-in bodies `zcc send --example` sends, and where each goes.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::CliError;
use crate::catalog;

/// List the built-in examples for `zcc send --example`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of a list.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let listed = listed();
    if args.json {
        println!("{}", as_json(&listed));
    } else {
        print!("{}", render(&listed));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each example's name and the function that receives it.
pub fn listed() -> Vec<(&'static str, &'static str)> {
    catalog::all()
        .map(|e| (e.name, e.target.function()))
        .collect()
}

pub fn as_json(listed: &[(&str, &str)]) -> Value {
    Value::Array(
        listed
            .iter()
            .map(|(name, function)| json!({"name": name, "function": function}))
            .collect(),
    )
}

pub fn render(listed: &[(&str, &str)]) -> String {
    listed
        .iter()
        .map(|(name, function)| format!("{name:<42} {function}\n"))
        .collect()
}
