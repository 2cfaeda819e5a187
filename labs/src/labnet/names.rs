//! What a network is called and where it lives: the namespaces `NAME-client` and
//! `NAME-server`, their addresses, and the state directory `/run/labnet/NAME/` that
//! holds the link's pid (for `labnet down`) and the network's index.
//!
//! Two `labnet up` started at the same moment must not pick the same index: each
//! takes [`StateLock`] (an `flock(2)` on `/run/labnet/lock`) before it looks for a free
//! index, and keeps it until its state directory records the index it took. The kernel
//! releases the lock when its holder exits, even by SIGKILL, so no stale lock is left.
//!
//! Addresses come from the documentation ranges (RFC 5737, RFC 3849). The default
//! network (index 0) uses 192.0.2.0/24 and 2001:db8::/64; networks with other names take
//! the next free index from 1: 198.51.100.0/24 and 2001:db8:1::/64, then 203.0.113.0/24
//! and 2001:db8:2::/64; the client is `.1`/`::1`, the server `.2`/`::2`. Two networks never see each other's packets (each is its own
//! pair of namespaces), so the index only keeps their captures easy to tell apart.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use nix::libc;

/// Where every network's state directory lives.
pub const STATE_ROOT: &str = "/run/labnet";

/// The network `labnet` builds when no `--name` is given.
pub const DEFAULT_NAME: &str = "labnet";

/// The name of the TUN device inside each namespace.
pub const TUN_NAME: &str = "tun0";

/// One end of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The namespace where the client runs.
    Client,
    /// The namespace where the server runs.
    Server,
}

impl Side {
    /// Both sides, client first.
    pub const BOTH: [Side; 2] = [Side::Client, Side::Server];

    /// Parses `client` or `server`.
    pub fn parse(s: &str) -> Result<Side, String> {
        match s {
            "client" => Ok(Side::Client),
            "server" => Ok(Side::Server),
            _ => Err(format!("`{s}`: expected client or server")),
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

/// A network's name and index.
#[derive(Debug, Clone)]
pub struct Names {
    name: String,
    index: u16,
}

impl Names {
    /// Checks `name` (letters, digits, `-`, `_`; at most 24 characters, so that it is
    /// safe as a file name and a namespace name) and pairs it with `index`.
    pub fn new(name: &str, index: u16) -> Result<Names, String> {
        let ok = !name.is_empty()
            && name.len() <= 24
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!(
                "network name `{name}`: use 1 to 24 letters, digits, - or _"
            ));
        }
        Ok(Names {
            name: name.to_string(),
            index,
        })
    }

    /// The network's name (`labnet`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A labnet command for this network, as a hint to type: `labnet shell server` for
    /// the default network, `labnet shell --name N server` for another (the name comes
    /// first: `exec` takes everything after the side as the command).
    pub fn command(&self, sub: &str, rest: &str) -> String {
        let name = match self.name == DEFAULT_NAME {
            true => String::new(),
            false => format!(" --name {}", self.name),
        };
        let rest = match rest.is_empty() {
            true => String::new(),
            false => format!(" {rest}"),
        };
        format!("labnet {sub}{name}{rest}")
    }

    /// The network's index (which address block it uses).
    pub fn index(&self) -> u16 {
        self.index
    }

    /// The same network with index `index`.
    pub fn with_index(self, index: u16) -> Names {
        Names { index, ..self }
    }

    /// The network `name` as it exists: its index is the one its state directory
    /// records (0 when there is none).
    pub fn existing(name: &str) -> Result<Names, String> {
        let names = Names::new(name, 0)?;
        let index = std::fs::read_to_string(names.state_dir().join("index"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Ok(names.with_index(index))
    }

    /// The namespace of one side: `labnet-client`.
    pub fn netns(&self, side: Side) -> String {
        format!("{}-{side}", self.name)
    }

    /// The IPv4 address of one side.
    pub fn ipv4(&self, side: Side) -> Ipv4Addr {
        const BLOCKS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
        let [a, b, c] = BLOCKS[usize::from(self.index) % BLOCKS.len()];
        Ipv4Addr::new(a, b, c, host(side))
    }

    /// The IPv6 address of one side.
    pub fn ipv6(&self, side: Side) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, self.index, 0, 0, 0, 0, u16::from(host(side)))
    }

    /// `/run/labnet/NAME`.
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(STATE_ROOT).join(&self.name)
    }

    /// `/run/netns/NAME-SIDE`, which exists while the namespace does.
    pub fn netns_path(&self, side: Side) -> PathBuf {
        PathBuf::from("/run/netns").join(self.netns(side))
    }
}

fn host(side: Side) -> u8 {
    match side {
        Side::Client => 1,
        Side::Server => 2,
    }
}

/// The index of network `name`: the default network always has index 0, so that its
/// addresses are the ones every example in the docs shows (a student types
/// `192.0.2.2`); any other takes the lowest index from 1 on that no live network uses
/// (read from `/run/labnet/*/index`). Only meaningful while holding the [`StateLock`].
pub fn free_index(name: &str) -> u16 {
    if name == DEFAULT_NAME {
        return 0;
    }
    let used: Vec<u16> = std::fs::read_dir(STATE_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("index")).ok())
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    (1..).find(|i| !used.contains(i)).unwrap_or(1)
}

/// An exclusive `flock(2)` on `/run/labnet/lock`, held while a network picks its
/// index and creates its state directory; released when dropped (or when the process
/// ends, however it ends).
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Waits for the lock (another labnet holds it for the time of a few `ip`
    /// commands at most).
    pub fn take() -> unp::Result<StateLock> {
        std::fs::create_dir_all(STATE_ROOT)
            .map_err(|e| unp::Error::os("mkdir", e).with_detail(STATE_ROOT))?;
        let path = PathBuf::from(STATE_ROOT).join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| unp::Error::os("open", e).with_detail(path.display().to_string()))?;
        loop {
            // SAFETY: flock(2) on a descriptor this function owns; no memory is passed.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(StateLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(unp::Error::os("flock", err).with_detail(path.display().to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_the_index() {
        let a = Names::new("labnet", 0).unwrap();
        assert_eq!(a.ipv4(Side::Client).to_string(), "192.0.2.1");
        assert_eq!(a.ipv6(Side::Server).to_string(), "2001:db8::2");
        let b = Names::new("two", 1).unwrap();
        assert_eq!(b.ipv4(Side::Server).to_string(), "198.51.100.2");
        assert_eq!(b.ipv6(Side::Client).to_string(), "2001:db8:1::1");
        assert_eq!(b.netns(Side::Client), "two-client");
    }

    #[test]
    fn the_default_network_always_has_the_docs_addresses_and_others_never() {
        // Whatever other networks run (the trial saw the default network get
        // 198.51.100.x because a test's network held index 0).
        assert_eq!(free_index(DEFAULT_NAME), 0);
        assert!(free_index("other") >= 1);
    }

    #[test]
    fn hints_name_the_network_unless_it_is_the_default() {
        let default = Names::new(DEFAULT_NAME, 0).unwrap();
        assert_eq!(default.command("shell", "server"), "labnet shell server");
        assert_eq!(default.command("down", ""), "labnet down");
        let other = Names::new("two", 1).unwrap();
        assert_eq!(
            other.command("shell", "server"),
            "labnet shell --name two server"
        );
        assert_eq!(other.command("down", ""), "labnet down --name two");
    }

    #[test]
    fn names_that_could_escape_are_refused() {
        assert!(Names::new("../x", 0).is_err());
        assert!(Names::new("", 0).is_err());
        assert!(Names::new("a b", 0).is_err());
    }
}
