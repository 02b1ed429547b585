//! The operator's commands, one module each, against the local stack or AWS: `zcc local`
//! ([`local`]), `send` and `replay` ([`send`]), `get`, `list` and `agent` ([`read`]),
//! `rebuild` ([`rebuild`]), `report` and `export` ([`report`]), `watch` ([`watch`]) and
//! `examples` ([`examples`]).

pub mod examples;
pub mod local;
pub mod page;
pub mod read;
pub mod rebuild;
pub mod report;
pub mod send;
pub mod watch;

use std::fmt::Write as _;
use std::process::ExitCode;

use zcc_shared::store::StoreError;

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

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    #[error("the request to {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error("DynamoDB: {0}")]
    Dynamo(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Usage(_) => exit::USAGE,
            Self::NotFound(_) => exit::NOT_FOUND,
            Self::File { .. } | Self::Http { .. } | Self::Dynamo(_) => exit::FAILURE,
        })
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(detail) if detail == "could not connect" => Self::Dynamo(
                "could not connect (is `zcc local` running, or are AWS credentials set?)".into(),
            ),
            StoreError::BadQuery(detail) => Self::Usage(detail),
            other => Self::Dynamo(other.to_string()),
        }
    }
}

/// Prints `value` as JSON, or as `render` shows it to a person.
pub fn print<T: serde::Serialize>(value: &T, json: bool, render: impl Fn(&T) -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string(value).unwrap_or_else(|_| "null".into())
        );
    } else {
        print!("{}", render(value));
    }
}

/// Columns padded to their widest cell; the last one is left ragged.
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
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
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Whether a URL points at this machine (the local stack), where development defaults apply.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
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
            code(CliError::Dynamo("x".into())),
            format!("{:?}", ExitCode::from(1))
        );
        let unreachable = CliError::from(StoreError::Unavailable("could not connect".into()));
        assert!(unreachable.to_string().contains("zcc local"));
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
}
