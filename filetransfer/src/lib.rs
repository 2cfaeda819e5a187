//! # filetransfer — Lab 3 Practice 4: file transfer in 260-byte segments
//!
//! The client sends a path; the server answers with the file cut into segments of a
//! 4-byte length and a 256-byte buffer, and closes. The programs speak the C handout's
//! format byte for byte, and fix what the C versions get wrong.
//!
//! | module | teaches |
//! |---|---|
//! | [`proto`] | the wire format: segment encode/decode, the request, the error-segment and end-of-file-segment extensions; describers for captures |
//! | [`serve`] | what a server must refuse (`..`, symlinks, devices, FIFOs), looking a path up race-free with `openat`, sending many segments per `write`, not letting a silent client hold an iterative server |
//! | [`fetch`] | TCP is a byte stream: reassembling frames from reads of any size; a FIN cannot tell "done" from "died"; replacing a file only when the transfer succeeded; a race-free Ctrl-C handler |
//! | [`interactive`] | Requirement 3: a client loop that asks for the next path |
//! | [`multiplexed`] | Lab 4: a per-connection state machine so that one thread serves many transfers with `poll` (`pollftserver`) |
//! | [`progress`] | the progress line the clients show on a terminal (bytes so far and the rate), silence elsewhere |
//!
//! Programs: `ftserver` and `ftclient` (the handout's FTServer and FTClient),
//! `iterftserver` and `iterftclient` (Requirement 3), `ftbench` (throughput against
//! `socat`). The protocol is written up in `docs/protocols/filetransfer.md`.

pub mod fetch;
pub mod interactive;
pub mod multiplexed;
pub mod progress;
pub mod proto;
pub mod serve;

use std::time::Duration;

/// Parses a timeout in seconds (`30`, `0.5`) for the programs' `--timeout` option.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timeouts_parse() {
        assert_eq!(
            super::parse_timeout("0.5"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert!(super::parse_timeout("-1").is_err());
        assert!(super::parse_timeout("nan").is_err());
        assert!(super::parse_timeout("x").is_err());
    }
}
