//! The retransmission timeout, as UNP 22.5's `rtt_info` computes it (Jacobson's
//! algorithm, RFC 6298): a smoothed round-trip time and its mean deviation, updated
//! from each measured round trip; the timeout is `srtt + 4 × rttvar`, doubled on each
//! expiry (exponential backoff) and kept between a floor and a ceiling.
//!
//! Round trips are measured with timestamps that the receiver echoes (UNP's `ts`
//! field), so a retransmitted packet still gives an exact sample: no Karn ambiguity.

use std::time::Duration;

/// UNP's `struct rtt_info`, in microseconds.
#[derive(Debug, Clone)]
pub struct Rtt {
    srtt: f64,
    rttvar: f64,
    rto: f64,
    min: f64,
    max: f64,
}

impl Rtt {
    /// Before any sample: srtt 0, rttvar 250 ms as UNP starts (so the first RTO is 1 s,
    /// RFC 6298's initial value), clamped to `[min, max]`.
    pub fn new(min: Duration, max: Duration) -> Rtt {
        let (min, max) = (min.as_micros() as f64, max.as_micros() as f64);
        let mut r = Rtt {
            srtt: 0.0,
            rttvar: 250_000.0,
            rto: 0.0,
            min,
            max,
        };
        r.rto = r.clamp(r.srtt + 4.0 * r.rttvar);
        r
    }

    fn clamp(&self, us: f64) -> f64 {
        us.clamp(self.min, self.max)
    }

    /// A measured round trip (`rtt_stop`): `delta = m - srtt; srtt += delta/8;
    /// rttvar += (|delta| - rttvar)/4; rto = srtt + 4 rttvar`.
    pub fn sample(&mut self, measured: Duration) {
        let m = measured.as_micros() as f64;
        if self.srtt == 0.0 {
            (self.srtt, self.rttvar) = (m, m / 2.0); // the first sample (RFC 6298 2.2)
        } else {
            let delta = m - self.srtt;
            self.srtt += delta / 8.0;
            self.rttvar += (delta.abs() - self.rttvar) / 4.0;
        }
        self.rto = self.clamp(self.srtt + 4.0 * self.rttvar);
    }

    /// The timer expired (`rtt_timeout`): double the timeout.
    pub fn backoff(&mut self) {
        self.rto = self.clamp(self.rto * 2.0);
    }

    /// The current retransmission timeout.
    pub fn rto(&self) -> Duration {
        Duration::from_micros(self.rto as u64)
    }

    /// The smoothed round trip.
    pub fn srtt(&self) -> Duration {
        Duration::from_micros(self.srtt as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_follows_the_samples_and_backs_off() {
        let ms = Duration::from_millis;
        let mut r = Rtt::new(ms(1), ms(2000));
        assert_eq!(r.rto(), ms(1000));
        r.sample(ms(100));
        assert_eq!((r.srtt(), r.rto()), (ms(100), ms(300)));
        for _ in 0..50 {
            r.sample(ms(100));
        }
        assert!(r.rto() < ms(110), "{:?}", r.rto());
        let before = r.rto();
        r.backoff();
        assert_eq!(r.rto(), before * 2);
        for _ in 0..20 {
            r.backoff();
        }
        assert_eq!(r.rto(), ms(2000), "never beyond the ceiling");
    }
}
