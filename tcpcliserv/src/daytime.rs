//! Daytime (UNP intro/daytimetcpsrv.c and daytimetcpcli.c): the first client and server
//! of the book. The server answers every connection with the time and closes it; the
//! client prints everything it reads until the server's FIN.

use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};

use unp::{Error, Result, writen};

use crate::proto::daytime::{self, CivilTime};

/// RFC 867's port. Below 1024, so listening on it needs root.
pub const DAYTIME_PORT: u16 = 13;

/// The current local time, as `ctime(3)` would show it.
///
/// Calls `localtime_r(3)`, which applies the time zone from `TZ` or the system's
/// `/etc/localtime`, so the server prints the same time as the C one on the same host.
pub fn now_local() -> Result<CivilTime> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::msg("the clock is before 1970"))?
        .as_secs();
    let ticks =
        nix::libc::time_t::try_from(secs).map_err(|_| Error::msg("the clock is beyond time_t"))?;
    // SAFETY: `tm` is plain old data (integers and, on some systems, a pointer that
    // localtime_r overwrites); all zeroes is a valid value for it.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r reads `ticks` and writes only into `tm`, both owned here and
    // valid for the whole call; it is the thread-safe form of localtime.
    let converted = unsafe { nix::libc::localtime_r(&ticks, &mut tm) };
    if converted.is_null() {
        return Err(Error::last_os("localtime_r"));
    }
    let small = |v: nix::libc::c_int| u8::try_from(v).unwrap_or(0);
    Ok(CivilTime {
        year: tm.tm_year.saturating_add(1900),
        month: small(tm.tm_mon + 1),
        day: small(tm.tm_mday),
        hour: small(tm.tm_hour),
        minute: small(tm.tm_min),
        second: small(tm.tm_sec),
        weekday: small(tm.tm_wday),
    })
}

/// The iterative daytime server: for each connection, write the time line and close.
/// Prints `connection from ADDR` for each client (as UNP's daytimetcpsrv1 does).
///
/// Nothing one client does stops it: a failed write or close is reported with the
/// client's address, a shortage of descriptors pauses it
/// ([`crate::server::accept_restarting`]).
pub fn serve(listener: TcpListener) -> Result<()> {
    loop {
        let Some((mut conn, peer)) = crate::server::accept_restarting(&listener)? else {
            continue;
        };
        let peer = unp::sock_ntop(&peer);
        unp::log(format_args!("connection from {peer}"));
        let reply = daytime::encode_reply(&now_local()?);
        if let Err(e) = writen(&mut conn, &reply) {
            crate::server::client_error(&peer, &e);
        }
        if let Err(e) = unp::sock::close(conn) {
            // FIN: the end of the reply
            crate::server::client_error(&peer, &e);
        }
    }
}

/// The daytime client: connects, copies everything the server sends to stdout until
/// EOF (each `read` may return part of the line: TCP has no message boundaries).
///
/// Line ends pass through; other control characters are shown as escapes
/// ([`crate::client::TextPrinter`]), so a hostile server cannot drive the terminal.
pub fn client(host: &str, port: u16) -> Result<()> {
    let mut conn = unp::tcp_connect(host, port)?;
    let mut buf = [0u8; unp::MAXLINE];
    let mut printer = crate::client::TextPrinter::default();
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("read", e)),
        };
        printer.print(&buf[..n])?;
    }
    printer.finish()
}
