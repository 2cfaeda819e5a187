//! `--rtt`: per connection and direction, the RTT sample of each ACK (the time from a
//! segment to the ACK that covers it, as tshark's `tcp.analysis.ack_rtt`) and the RFC
//! 6298 estimator run over them: SRTT, RTTVAR and the RTO a sender would set.

use super::arrow;
use crate::decode::Side;
use crate::tcp::Row;
use std::fmt::Write as _;

/// The most sample rows shown per direction; the estimator runs over all of them.
pub const RTT_ROWS: usize = 24;

/// RFC 6298's estimator for one direction's data, and the rows shown so far.
#[derive(Debug, Default, Clone)]
pub struct Estimator {
    /// (SRTT, RTTVAR) in seconds, after the first sample.
    state: Option<(f64, f64)>,
    samples: usize,
    skipped: usize,
    rows: String,
}

/// RFC 6298 2.4: the RTO is never below one second.
const MIN_RTO: f64 = 1.0;

impl Estimator {
    /// Takes one ACK's sample: `ack` acknowledges `acked`, `rtt` seconds later;
    /// `ambiguous` samples (the segment was sent twice) are shown but not used (Karn).
    pub fn sample(&mut self, ack: u64, acked: u64, rtt: f64, ambiguous: bool) {
        self.samples += 1;
        let used = !ambiguous;
        if used {
            self.state = Some(match self.state {
                // 2.2: the first measurement.
                None => (rtt, rtt / 2.0),
                // 2.3: RTTVAR first, with the old SRTT; β = 1/4, α = 1/8.
                Some((srtt, rttvar)) => {
                    let rttvar = 0.75 * rttvar + 0.25 * (srtt - rtt).abs();
                    (0.875 * srtt + 0.125 * rtt, rttvar)
                }
            });
        }
        if self.samples > RTT_ROWS {
            self.skipped += 1;
            return;
        }
        let ms = |s: f64| format!("{:.3}", s * 1000.0);
        let (srtt, rttvar, rto) = match self.state {
            Some((s, v)) => (ms(s), ms(v), ms(rto(s, v))),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let note = if used {
            ""
        } else {
            "  sent twice: not used (Karn)"
        };
        let _ = writeln!(
            self.rows,
            "        {:<8} {:<8} {:>10} {:>10} {:>10} {:>10}{note}",
            format!("#{ack}"),
            format!("#{acked}"),
            ms(rtt),
            srtt,
            rttvar,
            rto
        );
    }

    /// Appends the table for the data `sender` sends (empty without samples).
    pub fn table(&self, out: &mut String, sender: Side) {
        if self.samples == 0 {
            return;
        }
        let (who, peer) = match sender {
            Side::Client => ("client", "server"),
            Side::Server => ("server", "client"),
        };
        let _ = writeln!(
            out,
            "        RTT of the {who}'s segments ({}), each ACKed by the {peer}; RFC 6298:",
            arrow(sender)
        );
        out.push_str(
            "        SRTT ← 7/8 SRTT + 1/8 RTT, RTTVAR ← 3/4 RTTVAR + 1/4 |SRTT − RTT|, RTO = max(1 s, SRTT + 4 RTTVAR)\n",
        );
        let _ = writeln!(
            out,
            "        {:<8} {:<8} {:>10} {:>10} {:>10} {:>10}",
            "ACK", "acks", "RTT ms", "SRTT ms", "RTTVAR ms", "RTO ms"
        );
        out.push_str(&self.rows);
        if self.skipped > 0 {
            let (s, v) = self.state.unwrap_or((0.0, 0.0));
            let _ = writeln!(
                out,
                "        … {} more samples, then SRTT {:.3} ms, RTTVAR {:.3} ms, RTO {:.3} ms",
                self.skipped,
                s * 1000.0,
                v * 1000.0,
                rto(s, v) * 1000.0
            );
        }
    }
}

/// RFC 6298 2.2/2.3 with a clock granularity G of 0: SRTT + 4 RTTVAR, at least 1 s.
fn rto(srtt: f64, rttvar: f64) -> f64 {
    (srtt + 4.0 * rttvar).max(MIN_RTO)
}

/// The two directions' estimators of a connection: index 0 for the client's data.
#[derive(Debug, Default, Clone)]
pub struct Rtt {
    dirs: [Estimator; 2],
}

impl Rtt {
    /// Takes a segment: if it acknowledges one, a sample for the other side's data.
    pub fn row(&mut self, row: &Row) {
        if let Some((acked, rtt)) = row.analysis.acks {
            let sender = match row.side {
                Side::Client => 1,
                Side::Server => 0,
            };
            self.dirs[sender].sample(row.frame, acked, rtt, row.analysis.ambiguous);
        }
    }

    /// Appends both directions' tables.
    pub fn tables(&self, out: &mut String) {
        self.dirs[0].table(out, Side::Client);
        self.dirs[1].table(out, Side::Server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6298_by_hand() {
        let mut e = Estimator::default();
        e.sample(2, 1, 0.100, false);
        assert_eq!(e.state, Some((0.100, 0.050)));
        e.sample(4, 3, 0.200, false);
        // RTTVAR = 3/4 · 50 + 1/4 · |100 − 200| = 62.5; SRTT = 7/8 · 100 + 1/8 · 200 = 112.5
        let (s, v) = e.state.unwrap();
        assert!((s - 0.1125).abs() < 1e-12 && (v - 0.0625).abs() < 1e-12);
        assert!((rto(s, v) - 1.0).abs() < 1e-12);
        e.sample(6, 5, 9.0, true);
        assert_eq!(
            e.state.unwrap(),
            (s, v),
            "Karn: a resent segment's sample is not used"
        );
    }
}
