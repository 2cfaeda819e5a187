//! The impairments of one direction of the link, and how the command line writes them:
//! `--loss 10%`, `--delay 100ms`, `--jitter 10ms`, `--reorder 5%`, `--duplicate 1%`,
//! `--rate 10mbit`. A value applies to both directions; `A,B` gives client→server `A`
//! and server→client `B` (`--loss 10%,0%`).

use std::fmt;
use std::time::Duration;

/// What happens to the packets of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impairments {
    /// Probability that a packet is dropped, 0 to 1.
    pub loss: f64,
    /// Time each packet spends on the link (one way).
    pub delay: Duration,
    /// Each packet's delay is drawn uniformly from `delay ± jitter` (never below 0), so
    /// packets can overtake each other, as with netem's jitter.
    pub jitter: Duration,
    /// Probability that a packet skips the delay and goes ahead of those queued (with
    /// no delay: is held back 1 ms so that the next packets overtake it).
    pub reorder: f64,
    /// Probability that a packet is sent twice.
    pub duplicate: f64,
    /// Bits per second the link carries; `None`: as fast as the machine goes. Packets
    /// wait for their turn; beyond 100 ms of backlog they are dropped (a full queue).
    pub rate: Option<u64>,
}

impl Impairments {
    /// True when no packet is changed: the link just copies.
    pub fn is_none(&self) -> bool {
        *self == Impairments::default()
    }

    /// True when packets are treated one by one (a draw each, or a place in the rate's
    /// queue): the link needs the packets a wire would carry, not 64 KB segments. A
    /// delay alone treats a large segment as its packets: all wait the same.
    pub fn acts_per_packet(&self) -> bool {
        let drawn = self.loss > 0.0 || self.reorder > 0.0 || self.duplicate > 0.0;
        drawn || !self.jitter.is_zero() || self.rate.is_some()
    }

    /// True when the link holds packets until a time of their own (a delay, jitter,
    /// the rate's queue, a packet held back to be overtaken), so that it must wake up on
    /// time to deliver them; otherwise it forwards each packet as it comes.
    pub fn keeps_time(&self) -> bool {
        let held = !self.delay.is_zero() || !self.jitter.is_zero() || self.reorder > 0.0;
        held || self.rate.is_some()
    }
}

impl fmt::Display for Impairments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("no impairment");
        }
        let mut parts = Vec::new();
        let pct = |p: f64| format!("{}%", (p * 1e4).round() / 1e2);
        if self.loss > 0.0 {
            parts.push(format!("loss {}", pct(self.loss)));
        }
        if !self.delay.is_zero() || !self.jitter.is_zero() {
            let mut d = format!("delay {:?}", self.delay);
            if !self.jitter.is_zero() {
                d += &format!(" ± {:?}", self.jitter);
            }
            parts.push(d);
        }
        if self.reorder > 0.0 {
            parts.push(format!("reorder {}", pct(self.reorder)));
        }
        if self.duplicate > 0.0 {
            parts.push(format!("duplicate {}", pct(self.duplicate)));
        }
        if let Some(r) = self.rate {
            parts.push(format!("rate {} kbit/s", r / 1000));
        }
        f.write_str(&parts.join(", "))
    }
}

/// A value for each direction: client→server, then server→client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerDirection<T> {
    /// Packets the client sends.
    pub to_server: T,
    /// Packets the server sends.
    pub to_client: T,
}

/// Parses `A` (both directions) or `A,B` (client→server, server→client) with `one`.
pub fn both_ways<T: Copy>(
    s: &str,
    one: impl Fn(&str) -> Result<T, String>,
) -> Result<PerDirection<T>, String> {
    match s.split_once(',') {
        Some((a, b)) => Ok(PerDirection {
            to_server: one(a.trim())?,
            to_client: one(b.trim())?,
        }),
        None => {
            let v = one(s.trim())?;
            Ok(PerDirection {
                to_server: v,
                to_client: v,
            })
        }
    }
}

/// `10%`, `10` or `0.5%` → 0.1, 0.1, 0.005.
pub fn percent(s: &str) -> Result<f64, String> {
    let n: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}`: expected a percentage such as 10%"))?;
    if !(0.0..=100.0).contains(&n) {
        return Err(format!("`{s}`: a percentage is between 0% and 100%"));
    }
    Ok(n / 100.0)
}

/// `100ms`, `1.5s`, `250us`, `100` (milliseconds).
pub fn duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}`: expected a time such as 100ms, 1s or 500us");
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "" | "ms" => n / 1e3,
        "s" => n,
        "us" => n / 1e6,
        _ => return Err(bad()),
    };
    if !(0.0..=3600.0).contains(&seconds) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `10mbit`, `1gbit`, `500kbit`, `64000` (bits per second); `bps`/`bit/s` are also
/// accepted as the unit's tail, case does not matter.
pub fn rate(s: &str) -> Result<Option<u64>, String> {
    let bad = || format!("`{s}`: expected a rate such as 10mbit, 1gbit or 500kbit");
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_end_matches("/s");
    let unit = ["bps", "bit"]
        .iter()
        .find_map(|tail| unit.strip_suffix(tail))
        .unwrap_or(unit);
    let scale = match unit {
        "" | "b" => 1e0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        _ => return Err(bad()),
    };
    let bits = n * scale;
    if !(1000.0..=1e12).contains(&bits) && bits != 0.0 {
        return Err(format!(
            "`{s}`: a rate is between 1kbit and 1000gbit (0: no limit)"
        ));
    }
    Ok((bits > 0.0).then_some(bits as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_written() {
        assert_eq!(percent("10%"), Ok(0.1));
        assert_eq!(percent("2.5"), Ok(0.025));
        assert!(percent("101%").is_err());
        assert_eq!(duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("250us"), Ok(Duration::from_micros(250)));
        assert!(duration("3 weeks").is_err());
        assert_eq!(rate("10mbit"), Ok(Some(10_000_000)));
        assert_eq!(rate("1Gbit/s"), Ok(Some(1_000_000_000)));
        assert_eq!(rate("500kbps"), Ok(Some(500_000)));
        assert_eq!(rate("0"), Ok(None));
        assert!(rate("fast").is_err());
    }

    #[test]
    fn a_pair_sets_each_direction() {
        let p = both_ways("10%,0%", percent).unwrap();
        assert_eq!((p.to_server, p.to_client), (0.1, 0.0));
        let p = both_ways("5%", percent).unwrap();
        assert_eq!((p.to_server, p.to_client), (0.05, 0.05));
    }

    #[test]
    fn display_names_what_is_set() {
        let i = Impairments {
            loss: 0.1,
            delay: Duration::from_millis(100),
            ..Impairments::default()
        };
        assert_eq!(i.to_string(), "loss 10%, delay 100ms");
        assert_eq!(Impairments::default().to_string(), "no impairment");
    }

    #[test]
    fn only_a_link_that_holds_packets_keeps_time() {
        let with = |f: fn(&mut Impairments)| {
            let mut i = Impairments::default();
            f(&mut i);
            i.keeps_time()
        };
        assert!(!with(|_| {}));
        assert!(!with(|i| i.loss = 0.2));
        assert!(!with(|i| i.duplicate = 0.1));
        assert!(with(|i| i.delay = Duration::from_millis(5)));
        assert!(with(|i| i.jitter = Duration::from_millis(10)));
        assert!(with(|i| i.reorder = 0.1));
        assert!(with(|i| i.rate = Some(10_000_000)));
    }
}
