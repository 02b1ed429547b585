//! `zcc report --csv`: one row per group, then the total; rates as fractions, durations in
//! seconds. A group's key and name come from the data (queue and agent names are typed by
//! people), so they are written as text a spreadsheet will not run: OWASP's advice on CSV
//! injection, a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! `'` before it. The figures are numbers the CLI writes and stay as they are.

use super::{COLUMNS, Report, cells};

/// How many leading cells of a row are text from the data: the group and its name.
const TEXT_CELLS: usize = 2;

/// The report as CSV with a header row.
pub fn csv(report: &Report) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for f in report.groups.iter().chain([&report.total]) {
        let line: Vec<String> = cells(f, |r| format!("{r:.4}"))
            .iter()
            .enumerate()
            .map(|(i, c)| if i < TEXT_CELLS { text(c) } else { quote(c) })
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// A cell as RFC 4180 has it: quoted when it holds a separator, a quote or a line break.
pub fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// A text cell from the data, neutralised so that a spreadsheet shows it rather than runs it,
/// then quoted. A lone `-` is left as it is: it is the CLI's mark for "none", and no formula.
pub fn text(cell: &str) -> String {
    let formula = cell != "-" && cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula {
        quote(&format!("'{cell}"))
    } else {
        quote(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_a_spreadsheet_would_run_is_written_as_text() {
        assert_eq!(
            text("=HYPERLINK(\"http://evil.example/\",\"Sales\")"),
            "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"Sales\"\")\""
        );
        assert_eq!(text("+1 555"), "'+1 555");
        assert_eq!(text("-2+3"), "'-2+3");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("\tq"), "'\tq");
        assert_eq!(text("\rq"), "\"'\rq\"");
        assert_eq!(text("Sales"), "Sales");
        assert_eq!(text("Sales = Billing"), "Sales = Billing");
        assert_eq!(text("-"), "-");
    }

    #[test]
    fn separators_quotes_and_line_breaks_are_quoted() {
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("a\nb"), "\"a\nb\"");
        assert_eq!(quote("a\rb"), "\"a\rb\"");
        assert_eq!(quote("-0.5"), "-0.5", "numbers are the CLI's own");
    }
}
