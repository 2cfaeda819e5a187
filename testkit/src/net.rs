//! Reading from a server as its clients do.

use super::*;

/// Reads from `stream` until `n` bytes arrived or the peer closed (then fewer).
pub fn read_exactly(stream: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let got = unp::readn(stream, &mut buf).expect("read from server");
    buf.truncate(got);
    buf
}

/// True if the peer has closed `stream` (a read returns EOF or a reset) within
/// [`TIMEOUT`]; data that arrives first is discarded.
pub fn sees_close(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("set_read_timeout");
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}
