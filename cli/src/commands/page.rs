//! `zcc report --html FILE`: a self-contained page of the report.

use super::report::Report;

/// The page: for now the report's tables as HTML.
pub fn render(report: &Report, _by_hour: &Report, _by_queue: &Report) -> String {
    let json = serde_json::to_string(report).unwrap_or_default();
    format!(
        "<!doctype html><meta charset=utf-8><title>zcc report</title><pre>{}</pre>",
        json.replace('<', "&lt;")
    )
}
