//! What the data says, made harmless for a terminal. Names, notes and messages come from
//! consumers and agents: a display name holding `ESC ] 0 ; … BEL` would retitle the window,
//! `ESC [ 2 J` clear it, a bidi override make a line read backwards. Every human-readable
//! output goes through [`safe`] (whole outputs, keeping their lines) or [`cell`] (one table
//! cell or value, on one line); JSON output is left exact.
//!
//! Escaped rather than dropped, so that a person sees something was there: C0 controls
//! (but newline and tab in [`safe`]), DEL, C1 controls and the bidi embeddings, overrides
//! and isolates (U+202A–U+202E, U+2066–U+2069) become `\u{…}`.

use std::borrow::Cow;
use std::fmt::Write as _;

fn dangerous(c: char, keep_lines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_lines,
        c if c.is_control() => true, // C0, DEL and C1
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| dangerous(c, keep_lines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if dangerous(c, keep_lines) {
            let _ = write!(out, "{}", c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A whole output for a terminal: its lines and tabs kept, every other control escaped.
pub fn safe(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// One value on one line (a table cell, a name): newlines and tabs escaped too.
pub fn cell(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_shown_not_obeyed() {
        let name = "Ana\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{7f}\u{202e}evil\u{2069}";
        let shown = safe(name);
        assert_eq!(
            shown,
            "Ana\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{7f}\\u{202e}evil\\u{2069}"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn lines_are_kept_in_an_output_and_escaped_in_a_cell() {
        assert_eq!(safe("a\tb\nc\r\n"), "a\tb\nc\\u{d}\n");
        assert_eq!(cell("a\tb\nc"), "a\\u{9}b\\u{a}c");
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(safe("Ana Díaz · 日本 ≤20S"), Cow::Borrowed(_)));
        assert!(matches!(cell("Bo"), Cow::Borrowed(_)));
    }
}
