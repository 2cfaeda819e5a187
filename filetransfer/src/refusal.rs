//! Armour: a client that is refused, or whose transfer fails halfway, learns why.
//!
//! The C FTServer closes without a word when `open` fails, and its client ends up with an
//! empty file and no idea why; a server that stops mid-file closes just as it does at the
//! end. unplab's servers send one error segment instead (`refused: outside the served
//! directory`, `No such file or directory: x.txt`, `file changed while being sent: x`),
//! the protocol extension in `docs/protocols/filetransfer.md`, then close.

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use unp::Error;

use crate::jail::Refusal;
use crate::proto;

/// Refuses a request: sends the error segment that says why, waits up to a second for
/// the client to close (discarding what it still sends, so that no reset loses the
/// segment), and returns the refusal as the error to report.
pub fn refuse(conn: &TcpStream, refusal: Refusal) -> Error {
    let message = refusal.message();
    if let Err(e) = unp::writen(&mut &*conn, &proto::encode_error(&message)) {
        return e;
    }
    drain(conn);
    Error::msg(message)
}

/// Ends a transfer that failed after it began (the file could not be read, or it
/// changed): sends `err` as an error segment, so that the client does not take a cut
/// file for a whole one, and returns it. The segment goes out on a best-effort basis:
/// the client may be gone already.
pub fn abort(out: &mut impl Write, err: Error) -> Error {
    let _ = out.write_all(&proto::encode_error(&err.to_string()));
    err
}

/// Half-closes, then discards what the client still sends (a path longer than one read)
/// until it closes too, for at most a second: closing with unread data would send RST,
/// and a reset can make the client's kernel drop the error segment it has not read yet.
fn drain(conn: &TcpStream) {
    let _ = conn.shutdown(Shutdown::Write);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut sink = [0u8; 4096];
    let mut left = 64 * 1024;
    while left > 0 {
        match unp::read(&mut &*conn, &mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left -= n.min(left),
        }
    }
}
