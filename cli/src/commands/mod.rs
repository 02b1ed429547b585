//! The operator's commands, against the local stack or AWS.

pub mod read;
pub mod rebuild;
pub mod send;

use std::fmt::Write as _;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    #[error("the request to {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error("DynamoDB: {0}")]
    Dynamo(String),
}

/// Columns padded to their widest cell; the last one is left ragged.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
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
    fn tables_align_and_loopback_is_recognised() {
        let t = table(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(t, "A    BB\nxyz  1\n");
        assert!(is_loopback(
            "http://127.0.0.1:9000/lambda-url/zoom-webhook/"
        ));
        assert!(is_loopback("http://localhost:8000"));
        assert!(!is_loopback("https://abc.lambda-url.us-east-1.on.aws/"));
    }
}
