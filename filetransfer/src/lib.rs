//! # filetransfer — Lab 3 Practice 4: file transfer in 260-byte segments
//!
//! The client sends a path; the server answers with the file cut into segments of a
//! 4-byte length and a 256-byte buffer, and closes. The programs speak the C handout's
//! format byte for byte, and fix what the C versions get wrong.
//!
//! Each program reaches its lesson in one step: the socket calls in the handout's order,
//! with the blanks ㉑–㉗ and ㉞–㊳ marked where they are filled.
//!
//! | module | teaches |
//! |---|---|
//! | [`server`] | **the lesson of FTServer and its iterative version**: socket, bind, listen, accept, read the path, read the file, write segments, close ([`server::serve`]) |
//! | [`fetch`] | **the lesson of FTClient**: socket, connect, write the path, read segments, write the file, close ([`fetch::fetch`]) |
//! | [`proto`] | the wire format and its framing interface: is a buffer a complete segment, incomplete or invalid; parse; encode; one-line `Display` |
//! | [`interactive`] | Requirement 3: a client loop that asks for the next path |
//!
//! The armour beside the lessons, each called from them in one line:
//!
//! | module | protects against |
//! |---|---|
//! | [`jail`] | a path leaving `--root` (`..`, symlinks, devices, FIFOs), looked up race-free with `openat` |
//! | [`stall`] | a peer that goes silent or stops reading (`--timeout`, `--request-timeout`) |
//! | [`changing`] | a file that shrinks or grows while it is sent, passed off as complete |
//! | [`refusal`] | a client left guessing why it gets nothing (the error segment), and a reset losing it |
//! | [`forgery`] | a requested path forging log lines or driving the terminal |
//! | [`reassembly`] | taking one `read` for one segment (TCP is a byte stream), and a FIN for a complete file |
//! | [`partial`] | a failed or interrupted transfer leaving a partial LOCAL_PATH |
//! | [`progress`] | a long transfer that looks hung: a progress line on a terminal, silence elsewhere |
//!
//! Programs: `ftserver` and `ftclient` (the handout's FTServer and FTClient),
//! `iterftserver` and `iterftclient` (Requirement 3), `ftbench` (throughput against
//! `socat`). The protocol is written up in `docs/protocols/filetransfer.md`.

pub mod changing;
pub mod fetch;
pub mod forgery;
pub mod interactive;
pub mod jail;
pub mod partial;
pub mod progress;
pub mod proto;
pub mod reassembly;
pub mod refusal;
pub mod server;
pub mod stall;

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
