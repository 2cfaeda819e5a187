//! zoo: unplab's reliable UDP file client (docs/protocols/udp-rft.md) with one
//! deliberate mistake. `rft_client IP ORIGIN COPY PORT BUG`: 16 packets in flight, a
//! timeout from the measured round trips, the oldest packet resent when it runs out.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

mod rft_wire;
use rft_wire::{packet, parse, ACK, DATA, ERR, FIN, REQ};

fn fail(what: String) -> ! {
    eprintln!("rft_client: {what}");
    std::process::exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let bug = arg(5);
    let Ok(server) = format!("{}:{}", arg(1), arg(4)).parse::<SocketAddr>() else {
        fail("usage: rft_client IP ORIGIN COPY PORT BUG".into())
    };
    let data = std::fs::read(arg(2)).unwrap_or_else(|e| fail(format!("open error: {e}")));
    let sock = UdpSocket::bind(("0.0.0.0", 0)).unwrap_or_else(|e| fail(format!("bind error: {e}")));
    sock.connect(server).unwrap_or_else(|e| fail(format!("connect error: {e}")));
    let mut packets = vec![(REQ, arg(3).into_bytes())];
    packets.extend(data.chunks(1024).map(|c| (DATA, c.to_vec())));
    packets.push((FIN, (data.len() as u64).to_le_bytes().to_vec()));
    let epoch = Instant::now();
    let send = |i: usize, sent_at: &mut Vec<Instant>| {
        let (kind, payload) = &packets[i];
        let stamp = epoch.elapsed().as_micros() as u64;
        let _ = sock.send(&packet(*kind, i as u32, stamp, payload));
        sent_at[i] = Instant::now();
    };
    let (mut base, mut next, mut expiries) = (0usize, 0usize, 0u32);
    let mut sent_at = vec![epoch; packets.len()];
    let (mut srtt, mut rttvar, mut rto) = (0.0f64, 0.0f64, 0.2f64); // seconds
    let mut buf = [0u8; 2048];
    while base < packets.len() {
        let window = if base == 0 { 1 } else { 16 }; // the REQ's ACK opens the window
        while next < packets.len() && next < base + window {
            send(next, &mut sent_at);
            next += 1;
        }
        let timeout = match bug.as_str() {
            "no-retransmit" => None, // waits for the ACK, however long
            "tiny-timeout" => Some(Duration::from_millis(1)), // fixed, whatever the round trip
            _ => {
                let due = sent_at[base] + Duration::from_secs_f64(rto);
                Some(due.saturating_duration_since(Instant::now()))
            }
        };
        let _ = sock.set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))));
        let got = sock.recv(&mut buf).map(|n| parse(&buf[..n]));
        match got {
            Ok(Some((ACK, ack, echoed, _))) => {
                let now = epoch.elapsed().as_micros() as u64;
                let m = now.saturating_sub(echoed) as f64 / 1e6;
                if srtt == 0.0 {
                    (srtt, rttvar) = (m, m / 2.0);
                } else {
                    rttvar += ((m - srtt).abs() - rttvar) / 4.0;
                    srtt += (m - srtt) / 8.0;
                }
                rto = (srtt + 4.0 * rttvar).clamp(0.002, 2.0);
                let ack = ack as usize;
                if ack > base {
                    (base, expiries) = (ack.min(packets.len()), 0);
                }
            }
            Ok(Some((ERR, _, _, why))) => {
                fail(format!("the server refused: {}", String::from_utf8_lossy(why)))
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                expiries += 1;
                if expiries > 12 && bug != "tiny-timeout" {
                    fail("no answer from the server after 12 retransmissions".into());
                }
                if bug == "tiny-timeout" {
                    (base..next).for_each(|i| send(i, &mut sent_at)); // everything again
                } else {
                    send(base, &mut sent_at);
                    rto = (rto * 2.0).min(2.0);
                }
            }
            Err(e) => fail(format!("recv error: {e}")),
        }
    }
    println!("sent {} bytes", data.len());
}
