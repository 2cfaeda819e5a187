//! A one-line progress display for long transfers, shown only on a terminal.
//!
//! The protocol does not carry the file size, so the line shows what is known: the
//! bytes received so far and the rate (`  48.0 MiB   612.3 MB/s`). It is redrawn at most
//! ten times a second with `\r`, and stays silent when stdout is a pipe or a file, so
//! scripts and tests see only the program's real output.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use unp::Result;

/// The progress line of one transfer.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    start: Instant,
    last_draw: Option<Instant>,
}

const REDRAW: Duration = Duration::from_millis(100);

impl Progress {
    /// A progress line, drawn only if `wanted` and stdout is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stdout().is_terminal(),
            start: Instant::now(),
            last_draw: None,
        }
    }

    /// Records that `bytes` have arrived in total; redraws if it is time.
    pub fn update(&mut self, bytes: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        self.last_draw = Some(now);
        let _ = unp::error::print_flush(format_args!("\r{}\x1b[K", self.line(bytes, now)));
    }

    /// Draws the final line and ends it with a newline (if the line is shown at all).
    pub fn finish(&mut self, bytes: u64) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        self.enabled = false; // drawn for good: nothing left for Drop to do
        let line = self.line(bytes, Instant::now());
        unp::error::print_flush(format_args!("\r{line}\x1b[K\n"))
    }

    fn line(&self, bytes: u64, now: Instant) -> String {
        let secs = (now - self.start).as_secs_f64();
        format!("{:>12}  {}", human_bytes(bytes), rate(bytes, secs))
    }
}

impl Drop for Progress {
    /// A transfer that failed leaves its last progress line: end it, so the error
    /// message that follows starts on a line of its own.
    fn drop(&mut self) {
        if self.enabled && self.last_draw.is_some() {
            let _ = unp::error::print_flush(format_args!("\n"));
        }
    }
}

/// `600 B`, `1.5 KiB`, `48.0 MiB`, `4.2 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Decimal megabytes per second, as network tools print them: `612.3 MB/s`.
pub fn rate(bytes: u64, secs: f64) -> String {
    if secs <= 0.0 {
        return "-- MB/s".to_string();
    }
    format!("{:.1} MB/s", bytes as f64 / secs / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(human_bytes(600), "600 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(48 << 20), "48.0 MiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(rate(2_000_000, 2.0), "1.0 MB/s");
    }
}
