//! Progress of a long run on stderr: one line rewritten in place, only on a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub(crate) struct Progress {
    on: bool,
    label: &'static str,
    total: usize,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(wanted: bool, label: &'static str, total: usize) -> Self {
        Self {
            on: wanted && std::io::stderr().is_terminal() && total > 0,
            label,
            total,
            last: None,
        }
    }

    pub fn tick(&mut self, done: usize) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        if done < self.total
            && self
                .last
                .is_some_and(|l| now - l < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(now);
        let width = 30;
        let filled = width * done / self.total.max(1);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{} [{bar}] {done}/{}", self.label, self.total);
        if done >= self.total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}
