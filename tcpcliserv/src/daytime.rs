//! Daytime (UNP intro/daytimetcpsrv.c and daytimetcpcli.c): the port and the local
//! time the server sends. The programs themselves are `src/bin/daytimetcpsrv.rs` and
//! `src/bin/daytimetcpcli.rs`; the bytes on the wire are [`crate::proto::daytime`].

use std::time::{SystemTime, UNIX_EPOCH};

use unp::{Error, Result};

use crate::proto::Message;
use crate::proto::daytime::{CivilTime, Reply};

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

/// What the server sends now: [`now_local`] as `ctime` shows it, cut to 24 characters,
/// and `\r\n` ([`crate::proto::daytime::Reply`]).
pub fn reply_now() -> Result<Vec<u8>> {
    Ok(Reply::at(&now_local()?).encode())
}
