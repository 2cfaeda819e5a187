//! Requirement 3: the iterative client. Instead of taking the path from the command
//! line, it asks for it, transfers the file over a new connection, reports, and asks
//! again.
//!
//! ```text
//! remote path: /home/ancl/temp1
//! local path: ./temp1
//! received 39 bytes into ./temp1
//! remote path:
//! ```
//!
//! An empty answer or the end of input ends the loop. A failed transfer is reported on
//! stderr and the loop goes on; the program's exit status is then 1.

use std::io::BufRead;
use std::path::Path;

use unp::{Error, LineReader, Result};

use crate::fetch::{self, Options};

/// The prompt for the path on the server.
pub const REMOTE_PROMPT: &str = "remote path: ";
/// The prompt for the path to save the file as.
pub const LOCAL_PROMPT: &str = "local path: ";

/// Runs the prompt loop on `input`; returns how many transfers failed.
pub fn run(host: &str, port: u16, input: impl BufRead, opts: &Options) -> Result<usize> {
    let mut lines = LineReader::new(input);
    let mut failed = 0;
    while let Some((remote, local)) = ask_both(&mut lines)? {
        match fetch::fetch(host, port, &remote, Path::new(&local), opts) {
            Ok(n) => unp::error::print_flush(format_args!("received {n} bytes into {local}\n"))?,
            Err(e) if e.is_stdout() => return Err(e),
            Err(e) => {
                failed += 1;
                unp::err_msg(format!("{e} ({local} not written)"));
            }
        }
    }
    Ok(failed)
}

/// Asks for the remote path, then the local one; `None` when either is empty or input ends.
fn ask_both(lines: &mut LineReader<impl BufRead>) -> Result<Option<(String, String)>> {
    let Some(remote) = ask(lines, REMOTE_PROMPT)? else {
        return Ok(None);
    };
    Ok(ask(lines, LOCAL_PROMPT)?.map(|local| (remote, local)))
}

/// Prints `prompt`, reads one line; `None` at end of input or for an empty line.
fn ask(lines: &mut LineReader<impl BufRead>, prompt: &str) -> Result<Option<String>> {
    unp::error::print_flush(format_args!("{prompt}"))?;
    let mut line = Vec::new();
    if lines.read_line(&mut line)? == 0 {
        unp::error::print_flush(format_args!("\n"))?;
        return Ok(None);
    }
    let text = String::from_utf8(line).map_err(|_| Error::msg("input is not UTF-8"))?;
    let text = text.trim_end_matches(['\n', '\r']);
    Ok((!text.is_empty()).then(|| text.to_string()))
}
