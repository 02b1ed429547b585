//! The operator's commands, one module each, against the local stack or AWS. Each module owns
//! its arguments (`Args`, a `clap::Args` struct) and `run(args) -> Result<ExitCode, CliError>`;
//! `main.rs` lists them. Adding a command is one module here and one line in `main.rs`.
//!
//! What they share: [`CliError`] and the [`exit`] codes, [`TableArgs`] (which table, where),
//! [`print`] and [`text_table`] for output, [`terminal::safe`] for every text a person reads,
//! and [`is_loopback`].

pub mod agent;
pub mod examples;
pub mod export;
pub mod get;
pub mod list;
pub mod local;
pub mod rebuild;
pub mod reconcile;
pub mod replay;
pub mod report;
pub mod send;
pub mod show;
pub mod terminal;
pub mod watch;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::process::ExitCode;

use aws_sdk_dynamodb::Client;
use zcc_shared::aws;
use zcc_shared::dynamodb::DynamoStore;
use zcc_shared::settings::TABLE_NAME;
use zcc_shared::store::StoreError;

use crate::stack::StartError;

/// How `zcc` exits (docs/src/reference/zcc.md).
pub mod exit {
    /// Done; for `send`, the endpoint answered 2xx.
    pub const OK: u8 = 0;
    /// The command ran and failed: a non-2xx answer, an unreachable store, a wrong challenge.
    pub const FAILURE: u8 = 1;
    /// The command line is wrong (as clap exits for its own errors).
    pub const USAGE: u8 = 2;
    /// What was asked for is not there: no such engagement, agent or stored events.
    pub const NOT_FOUND: u8 = 3;
}

/// Why a command could not do what it was asked; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong in a way clap cannot see (an id that is not one).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason} (check the directory exists and is writable)")]
    Write { path: String, reason: String },
    #[error("the request to {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error(
        "could not reach DynamoDB ({0}): is `zcc local` running and --endpoint-url right, or \
         are AWS credentials and a region set?"
    )]
    Unreachable(String),
    #[error("DynamoDB: {0}")]
    Store(StoreError),
    #[error("cannot start the local stack: {0}")]
    Local(#[from] StartError),
    #[error("cannot listen for Ctrl-C: {0}")]
    Signal(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Usage(_) => exit::USAGE,
            Self::NotFound(_) => exit::NOT_FOUND,
            Self::Read { .. }
            | Self::Write { .. }
            | Self::Http { .. }
            | Self::Unreachable(_)
            | Self::Store(_)
            | Self::Local(_)
            | Self::Signal(_) => exit::FAILURE,
        })
    }

    /// A stable name for the kind of failure, for scripts (`--json`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Usage(_) => "usage",
            Self::NotFound(_) => "not_found",
            Self::Read { .. } => "cannot_read",
            Self::Write { .. } => "cannot_write",
            Self::Http { .. } => "request_failed",
            Self::Unreachable(_) => "unreachable",
            Self::Store(err) => err.code(),
            Self::Local(_) | Self::Signal(_) => "cannot_start",
        }
    }

    /// Tells the person (or, with `--json`, the script) on stderr: `zcc: <what to do>`, or
    /// `{"error":{"code":"…","message":"…"}}` as the functions answer errors.
    pub fn report(&self, json: bool) {
        if json {
            let error =
                serde_json::json!({"error": {"code": self.code(), "message": self.to_string()}});
            eprintln!("{error}");
        } else {
            eprintln!("zcc: {}", terminal::cell(&self.to_string()));
        }
    }

    pub fn read(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        Self::Read {
            path: path.display().to_string(),
            reason: err.to_string(),
        }
    }

    pub fn write(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        Self::Write {
            path: path.display().to_string(),
            reason: err.to_string(),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unreachable(detail) => Self::Unreachable(detail),
            StoreError::BadQuery(detail) => Self::Usage(detail),
            other => Self::Store(other),
        }
    }
}

/// `ExitCode` for a command that ran: 0 when it did what was asked, 1 when it ran and failed
/// (a non-2xx answer, partitions that failed).
pub fn succeeded(ok: bool) -> ExitCode {
    ExitCode::from(if ok { exit::OK } else { exit::FAILURE })
}

/// Which table the reading commands read, and how they print.
#[derive(clap::Args, Debug, Clone)]
pub struct TableArgs {
    /// The DynamoDB endpoint (e.g. http://127.0.0.1:8000 for `zcc local`); default: AWS.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// The table (default: $TABLE_NAME).
    #[arg(long, env = TABLE_NAME)]
    pub table: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl TableArgs {
    /// A client for the endpoint (the local stack needs no credentials) or for AWS by the
    /// standard chain.
    pub async fn client(&self) -> Client {
        let endpoint = self.endpoint_url.as_deref();
        aws::tool_dynamodb(endpoint, endpoint.is_some_and(is_loopback)).await
    }

    /// The store over the table, for reading.
    pub async fn store(&self) -> DynamoStore {
        DynamoStore::new(self.client().await, &self.table, None)
    }

    /// Prints `value` as JSON (`--json`), or as `render` shows it to a person.
    pub fn print<T: serde::Serialize>(&self, value: &T, render: impl Fn(&T) -> String) {
        print(value, self.json, render);
    }
}

/// Prints `value` as JSON, exactly, or as `render` shows it to a person, with what the data
/// could do to a terminal made harmless ([`terminal::safe`]).
pub fn print<T: serde::Serialize>(value: &T, json: bool, render: impl Fn(&T) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string(value).unwrap_or_else(|_| "null".into())
        );
    } else {
        print!("{}", terminal::safe(&render(value)));
    }
}

/// Columns padded to their widest cell; the last one is left ragged. Cells are made safe for
/// a terminal on one line each ([`terminal::cell`]) before they are measured.
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| terminal::cell(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                let _ = write!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push('\n');
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Whether a URL points at this machine (the local stack), where development defaults apply:
/// its host is `localhost` or a loopback address (127.0.0.0/8, ::1). The URL is parsed, so
/// `http://127.example.com` (a name that only begins like one) is not.
pub fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<lambda_http::http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        let code = |e: CliError| format!("{:?}", e.exit_code());
        assert_eq!(
            code(CliError::Usage("x".into())),
            format!("{:?}", ExitCode::from(2))
        );
        assert_eq!(
            code(CliError::NotFound("x".into())),
            format!("{:?}", ExitCode::from(3))
        );
        assert_eq!(
            code(CliError::Store(StoreError::Contended(3))),
            format!("{:?}", ExitCode::from(1))
        );
        let unreachable = CliError::from(StoreError::Unreachable("could not connect".into()));
        assert!(unreachable.to_string().contains("zcc local"));
        assert_eq!(code(unreachable), format!("{:?}", ExitCode::from(1)));
        // Told apart by kind, not by text: an Unavailable that says the same is not this.
        let refused = CliError::from(StoreError::Unavailable("could not connect".into()));
        assert!(!refused.to_string().contains("zcc local"), "{refused}");
        assert!(matches!(
            CliError::from(StoreError::BadQuery("x".into())),
            CliError::Usage(_)
        ));
        assert_eq!(
            CliError::from(StoreError::Unreachable("x".into())).code(),
            "unreachable"
        );
        assert_eq!(
            CliError::Store(StoreError::Contended(3)).code(),
            "storage_contended"
        );
    }

    #[test]
    fn tables_align_and_loopback_is_recognised() {
        let t = text_table(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(t, "A    BB\nxyz  1\n");
        assert!(is_loopback(
            "http://127.0.0.1:9000/lambda-url/zoom-webhook/"
        ));
        assert!(is_loopback("http://localhost:8000"));
        assert!(!is_loopback("https://abc.lambda-url.us-east-1.on.aws/"));
    }

    #[test]
    fn loopback_is_the_host_parsed_from_the_url() {
        for local in [
            "http://[::1]:8000",
            "http://[::1]:9000/lambda-url/flow-events/",
            "http://127.0.0.1",
            "http://127.1.2.3:8000/",
            "http://LOCALHOST:8000",
            "http://[0:0:0:0:0:0:0:1]:8000",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "http://127.example.com",
            "http://127.example.com:8000/",
            "http://localhost.example.com:8000",
            "http://example.com/127.0.0.1",
            "http://user@example.com:8000",
            "http://[::2]:8000",
            "http://128.0.0.1:8000",
            "http://0.0.0.0:8000",
            "127.0.0.1:8000 and more",
            "",
            "not a url",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }
}
