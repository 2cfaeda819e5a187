//! The impairments measured: a rate limit seen in a bulk transfer's throughput and in
//! the spacing of the packets it delivers, jitter in the one-way delays of each packet
//! and in ping's round trips, reordering and duplication counted packet by packet over
//! enough packets to hold them to statistical bounds. Each test prints what it measured
//! (`cargo test -p labs --test labnet accuracy -- --nocapture`).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use super::harness::*;

/// The rows of `tshark -r PCAP -Y FILTER -T fields -e F1 -e F2 ...`, in capture order.
fn fields(pcap: &Path, filter: &str, names: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args(["-Y", filter, "-T", "fields"]);
    for n in names {
        cmd.args(["-e", n]);
    }
    let out = cmd.output().expect("tshark");
    assert!(out.status.success(), "tshark: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Mean and standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[test]
fn rate_10mbit_gives_a_bulk_transfer_that_throughput_and_spaces_its_packets() {
    if skip("rate") || !programs_built("rate", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let rate = 10e6;
    let args = ["ft", "--size", "4000000", "--rate", "10mbit", "--seed", "1"];
    let more = ["--capture", "delivered", "--snaplen", "100"];
    let (out, pcap, _dir) = run_scenario("rate", &[&args[..], &more].concat());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // ft: copy.bin is identical to data.bin: 4000000 bytes in 3.412 s (9.4 Mbit/s)
    let line = t
        .lines()
        .find(|l| l.starts_with("ft: copy.bin is identical"));
    let line = line.unwrap_or_else(|| panic!("no ft line: {t}"));
    let goodput = num(line
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(" Mbit/s)"))
        * 1e6;
    // The data direction, as the link delivered it: (time, IP bytes) of each packet.
    let server = &transcript(&t).addrs[2];
    let data: Vec<(f64, f64)> = fields(
        &pcap,
        &format!("ip.src == {server}"),
        &["frame.time_epoch", "frame.len"],
    )
    .iter()
    .map(|r| (num(&r[0]), num(&r[1])))
    .collect();
    // The link's rate: the bits it delivered over the time it took (the first packet's
    // own time on the link is before the span).
    let span = data[data.len() - 1].0 - data[0].0;
    let bits: f64 = data[1..].iter().map(|d| d.1 * 8.0).sum();
    let wire = bits / span;
    // Each full packet leaves the link its own time on the wire after the one before
    // it: 1500 bytes at 10 Mbit/s, 1.2 ms.
    let gaps: Vec<f64> = data
        .windows(2)
        .filter(|w| w[1].1 >= 1400.0)
        .map(|w| (w[1].0 - w[0].0) / (w[1].1 * 8.0 / rate))
        .collect();
    let spacing = median(gaps);
    eprintln!(
        "rate 10mbit: ft goodput {:.2} Mbit/s ({:.1}% of the rate), link delivered {:.3} Mbit/s \
         over {span:.2} s ({:.1}%), median spacing {:.3} of a packet's time on the wire",
        goodput / 1e6,
        goodput / rate * 100.0,
        wire / 1e6,
        wire / rate * 100.0,
        spacing
    );
    // The spacing is the link's own accuracy. Over the whole transfer, the link is busy
    // but while TCP recovers from a drop at the full queue (a timeout leaves it idle),
    // and TCP's payload is 1448 of each 1500 bytes: 96.5% of the rate at most.
    assert!((0.95..=1.05).contains(&spacing), "{spacing}");
    assert!((0.93..=1.01).contains(&(wire / rate)), "{wire} bit/s");
    assert!((0.85..=0.97).contains(&(goodput / rate)), "{t}");
}

#[test]
fn jitter_spreads_each_packets_delay_uniformly() {
    if skip("jitter") {
        return;
    }
    let args = ["--delay", "50ms", "--jitter", "10ms", "--seed", "2"];
    let mut net = Net::up("jit", &[&args[..], &["--capture", "both"]].concat(), &[]);
    let n = 300;
    let ping = [
        "ping",
        "-q",
        "-c",
        &n.to_string(),
        "-i",
        "0.01",
        &net.addrs[2],
    ];
    let out = net.exec("client", &ping);
    net.signal_and_wait(nix::sys::signal::Signal::SIGINT);
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
    let (sent, got, min, avg) = ping_summary(&out);
    assert_eq!((sent, got), (n, n), "{}", text(&out));
    // Each packet's one-way delay: from the capture of what was sent to the one of what
    // was delivered, requests and replies alike.
    let times = |pcap: &Path| -> HashMap<(String, String), f64> {
        fields(pcap, "icmp", &["icmp.type", "icmp.seq", "frame.time_epoch"])
            .into_iter()
            .map(|r| ((r[0].clone(), r[1].clone()), num(&r[2])))
            .collect()
    };
    let (sent, delivered) = (times(&net.pcap), times(&delivered_path(&net.pcap)));
    let delays: Vec<f64> = sent
        .iter()
        .map(|(k, t)| {
            let late = delivered.get(k);
            (late.unwrap_or_else(|| panic!("{k:?} not delivered")) - t) * 1e3
        })
        .collect();
    assert_eq!(delays.len(), 2 * n as usize);
    // A busy machine (a CI runner, parallel tests) can run the link's thread late: a
    // few packets may leave more than 5 ms after their time; the others must follow
    // the uniform draw.
    let on_time: Vec<f64> = delays.iter().copied().filter(|d| *d <= 65.0).collect();
    let late = delays.len() - on_time.len();
    let (mean, sd) = mean_sd(&on_time);
    let low = on_time.iter().copied().fold(f64::MAX, f64::min);
    let mut sorted = on_time.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let mdev = text(&out)
        .split("min/avg/max/mdev = ")
        .nth(1)
        .and_then(|r| r.split('/').nth(3)?.split(' ').next()?.parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    eprintln!(
        "jitter 50ms ± 10ms: one-way delays of {} packets, {late} of them late by more than \
         5 ms; the others: mean {mean:.2} ms (50), sd {sd:.2} ms (uniform: 5.77), min \
         {low:.2}, quartiles {:.2} / {:.2} / {:.2} (45, 50, 55), 99th percentile {:.2}; ping \
         RTT min {min:.2}, avg {avg:.2} (100), mdev {mdev:.2} ms (a sum of two: 8.16)",
        delays.len(),
        q(0.25),
        q(0.5),
        q(0.75),
        q(0.99)
    );
    assert!(late * 20 <= delays.len(), "{late} late");
    // Uniform in [40, 60] ms: never early; the mean and the spread within 4 standard
    // errors (0.9 ms, 0.4 ms for 600 draws), plus a little for the link's wake-ups.
    assert!(low >= 39.95, "{low}");
    assert!((49.0..=51.5).contains(&mean), "{mean}");
    assert!((5.2..=6.4).contains(&sd), "{sd}");
    assert!((43.5..=46.5).contains(&q(0.25)) && (53.5..=56.5).contains(&q(0.75)));
    // A round trip is the sum of two: from 80 ms, 100 on average (late ones aside).
    assert!(min >= 79.9 && avg >= 98.0, "{}", text(&out));
}

/// `labnet up ARGS`, `n` pings from the client, then Ctrl-C: ping's output, the link's
/// lines, and the request sequence numbers in the order the capture holds them. Pings
/// are 2 ms apart, but 10 ms while replies are awaited: ping then sleeps 10 ms
/// (iputils' MININTERVAL) before it sends the next.
fn ping_across(tag: &str, args: &[&str], n: u32) -> (String, Vec<String>, Vec<u32>) {
    let mut net = Net::up(tag, args, &[]);
    let count = n.to_string();
    let ping = [
        "ping",
        "-q",
        "-c",
        &count,
        "-i",
        "0.002",
        "-W",
        "1",
        &net.addrs[2],
    ];
    let out = net.exec("client", &ping);
    net.signal_and_wait(nix::sys::signal::Signal::SIGINT);
    assert_eq!(leftovers(&net.name), Vec::<String>::new());
    let seqs = fields(&net.pcap, "icmp.type == 8", &["icmp.seq"])
        .iter()
        .map(|r| num(&r[0]) as u32)
        .collect();
    (text(&out), net.output(), seqs)
}

/// The count labnet gives in its `client→server: ...` line for `what`.
fn link_count(lines: &[String], what: &str) -> u32 {
    let line = lines.iter().find(|l| l.starts_with("client→server: "));
    let line = line.unwrap_or_else(|| panic!("no link line: {lines:?}"));
    line.split(", ")
        .find_map(|p| p.strip_suffix(what)?.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn reorder_10_percent_sends_a_binomial_share_ahead() {
    if skip("reorder-share") {
        return;
    }
    // 50 ms on the link, a request every 10 ms: five are on their way when one is sent
    // ahead.
    let n = 600;
    let args = ["--reorder", "10%,0%", "--delay", "50ms", "--seed", "11"];
    let more = ["--capture", "delivered"];
    let (said, link, seqs) = ping_across("reo", &[&args[..], &more].concat(), n);
    assert!(said.contains(&format!("{n} received")), "{said}");
    assert_eq!(seqs.len(), n as usize);
    // A request is ahead when one sent before it is delivered after it.
    let mut ahead = 0;
    let mut lowest_after = u32::MAX;
    for &s in seqs.iter().rev() {
        if s > lowest_after {
            ahead += 1;
        }
        lowest_after = lowest_after.min(s);
    }
    let counted = link_count(&link, "reordered");
    eprintln!(
        "reorder 10%: {ahead} of {n} requests delivered ahead of an earlier one ({:.1}%); \
         the link counts {counted}",
        f64::from(ahead) / f64::from(n) * 100.0
    );
    assert!(within_4_sigma(ahead, n, 0.1), "{ahead} of {n}");
    // A packet sent ahead with nobody left to overtake (all before it delivered, or sent
    // ahead too) is not seen: the first one, or one after a pause of ping's.
    assert!(
        ahead <= counted && counted - ahead <= 3,
        "{ahead} vs {counted}"
    );
}

#[test]
fn duplicate_10_percent_copies_a_binomial_share() {
    if skip("duplicate-share") {
        return;
    }
    let n = 1000;
    let args = [
        "--duplicate",
        "10%,0%",
        "--seed",
        "12",
        "--capture",
        "delivered",
    ];
    let (said, link, seqs) = ping_across("dup2", &args, n);
    let mut copies: HashMap<u32, u32> = HashMap::new();
    for s in seqs {
        *copies.entry(s).or_default() += 1;
    }
    let twice = copies.values().filter(|c| **c == 2).count() as u32;
    // `1000 packets transmitted, 1000 received, +97 duplicates, 0% packet loss`
    let dups: u32 = said
        .split(" duplicates")
        .next()
        .and_then(|s| s.rsplit('+').next()?.parse().ok())
        .unwrap_or(0);
    eprintln!(
        "duplicate 10%: {twice} of {n} requests delivered twice ({:.1}%); ping counted {dups} \
         duplicate replies; the link counts {}",
        f64::from(twice) / f64::from(n) * 100.0,
        link_count(&link, "duplicated")
    );
    assert_eq!(copies.len(), n as usize, "every request crossed");
    assert!(copies.values().all(|c| *c <= 2));
    assert!(within_4_sigma(twice, n, 0.1), "{twice} of {n}");
    assert_eq!(link_count(&link, "duplicated"), twice);
    // The server answers each copy; ping sees the second answer as a duplicate.
    assert_eq!(dups, twice, "{said}");
}

#[test]
fn a_full_speed_transfer_loses_no_segment_before_the_link() {
    if skip("queue") || !programs_built("queue", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    // A draw for each packet: the kernels cut their segments, and the sender's sends
    // them as fast as it can into a queue it does not see fill. Whatever that queue
    // dropped, TCP would send again, and the capture of what was sent would show it.
    let args = [
        "ft",
        "--size",
        "50000000",
        "--duplicate",
        "0.001%",
        "--seed",
        "4",
    ];
    let (out, _pcap, _dir) = run_scenario("queue", &[&args[..], &["--snaplen", "64"]].concat());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // `tshark 4.0.17: N segments sent again in ...` (`1 segment`)
    let line = t
        .lines()
        .find(|l| l.starts_with("tshark ") && l.contains(" sent again in "))
        .unwrap_or_default();
    let again: usize = line
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tshark line: {t}"));
    eprintln!("full speed, a draw per packet: {line}");
    // A tail loss probe or two may resend what was not lost.
    assert!(again <= 3, "{t}");
}
