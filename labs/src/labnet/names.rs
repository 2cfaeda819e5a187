//! What a network is called and where it lives: the namespaces `NAME-client` and
//! `NAME-server`, their addresses, and the state directory `/run/labnet/NAME/` that
//! holds the link's pid (for `labnet down`) and the network's index.
//!
//! Addresses come from the documentation ranges (RFC 5737, RFC 3849). The first network
//! (index 0) uses 192.0.2.0/24 and 2001:db8::/64, the next 198.51.100.0/24 and
//! 2001:db8:1::/64, then 203.0.113.0/24 and 2001:db8:2::/64; the client is `.1`/`::1`,
//! the server `.2`/`::2`. Two networks never see each other's packets (each is its own
//! pair of namespaces), so the index only keeps their captures easy to tell apart.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Where every network's state directory lives.
pub const STATE_ROOT: &str = "/run/labnet";

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

    /// The network's index (which address block it uses).
    pub fn index(&self) -> u16 {
        self.index
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

/// The lowest index no live network uses (read from `/run/labnet/*/index`).
pub fn free_index() -> u16 {
    let used: Vec<u16> = std::fs::read_dir(STATE_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("index")).ok())
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    (0..).find(|i| !used.contains(i)).unwrap_or(0)
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
    fn names_that_could_escape_are_refused() {
        assert!(Names::new("../x", 0).is_err());
        assert!(Names::new("", 0).is_err());
        assert!(Names::new("a b", 0).is_err());
    }
}
