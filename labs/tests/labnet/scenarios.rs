//! The scenarios of `labnet run` and `labnet bench`: each transcript and capture.

use std::process::Command;

use super::harness::*;

#[test]
fn the_lottery_across_a_200ms_link() {
    if skip("lottery") || !programs_built("lottery", &["lotteryserver", "lotteryclient"]) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("lot", &["lottery", "--delay", "100ms"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for expected in [
        "+ ip netns add ",
        "[server] $ lotteryserver 10000 --seed 1",
        "connection from ",
        "[client] $ printf '0\\n0\\n0\\n1\\n2\\n' | lotteryclient ",
        "New number generated: ",
        "numbers: ",
        "(lottery)",
        "close 4/4",
    ] {
        assert!(t.contains(expected), "no `{expected}` in:\n{t}");
    }
    // Each GEN waits a round trip: the five requests take at least a second.
    let last = tshark_count(&pcap, "tcp.flags.fin == 1 && frame.time_relative > 1.0");
    assert!(last >= 1, "{t}");
}

#[test]
fn echo_across_the_link_over_ipv4_and_ipv6() {
    let programs = ["tcpserv04", "tcpcli01", "labtrace"];
    if skip("echo") || !programs_built("echo", &programs) {
        return;
    }
    for (tag, ipv6) in [("e4", false), ("e6", true)] {
        let args: &[&str] = if ipv6 { &["echo", "--ipv6"] } else { &["echo"] };
        let (out, pcap, _dir) = run_scenario(tag, args);
        let t = text(&out);
        assert!(out.status.success(), "{t}");
        let tr = transcript(&t);
        let (client, server) = match ipv6 {
            false => (tr.addrs[0].clone(), tr.addrs[2].clone()),
            true => (format!("[{}]", tr.addrs[1]), tr.addrs[3].clone()),
        };
        let typed = "printf 'hello across the link\\nsecond line\\n' | tcpcli01";
        assert_eq!(
            tr.client,
            [
                format!("[client] $ {typed} {server} -p 9877"),
                "hello across the link".into(),
                "second line".into(),
            ],
            "{t}"
        );
        assert_eq!(
            tr.server[..2],
            ["[server] $ tcpserv04 -p 9877", "listening on [::]:9877"]
        );
        assert!(tr.server[2].contains(&format!(" serves {client}:")), "{t}");
        let server = if ipv6 { format!("[{server}]") } else { server };
        let story = traced(&t, "Connection 1: ");
        assert!(
            story[0].contains(&format!("→ server {server}:9877 (echo)")),
            "{t}"
        );
        // Each line goes to the server and comes back.
        assert_eq!(traced(&t, "\"hello across the link\\n\"").len(), 2, "{t}");
        assert_eq!(traced(&t, "\"second line\\n\"").len(), 2, "{t}");
        let (v4, v6) = (tshark_count(&pcap, "ip"), tshark_count(&pcap, "ipv6"));
        assert_eq!(
            (v4 > 0, v6 > 0),
            (!ipv6, ipv6),
            "{v4} IPv4, {v6} IPv6 packets"
        );
    }
}

#[test]
fn daytime_across_the_link_is_the_servers_time() {
    let programs = ["daytimetcpsrv", "daytimetcpcli", "labtrace"];
    if skip("daytime") || !programs_built("daytime", &programs) {
        return;
    }
    let (out, _pcap, _dir) = run_scenario("day", &["daytime"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    assert_eq!(tr.client.len(), 2, "{t}");
    assert_eq!(
        tr.client[0],
        format!("[client] $ daytimetcpcli {} -p 13", tr.addrs[2])
    );
    // `Mon Nov 30 10:22:57 2026\r`: RFC 867's line, its CR shown escaped.
    let date = &tr.client[1];
    assert!(date.len() == 26 && date.ends_with("\\r"), "{date:?}");
    assert!(
        tr.server[2].starts_with(&format!("connection from {}:", tr.addrs[0])),
        "{t}"
    );
    assert_eq!(traced(&t, "(daytime)").len(), 1, "{t}");
    assert_eq!(
        traced(&t, &format!("daytime \"{date}\\n\"")).len(),
        1,
        "{t}"
    );
}

#[test]
fn sum_across_a_25ms_link_answers_each_line_a_round_trip_later() {
    let programs = ["tcpserv08", "tcpcli08", "labtrace"];
    if skip("sum") || !programs_built("sum", &programs) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("sum", &["sum", "--delay", "25ms"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    let command = format!(
        "[client] $ printf '2 5\\n10 20\\n' | tcpcli08 {} -p 9877",
        tr.addrs[2]
    );
    assert_eq!(tr.client, [command, "7".into(), "30".into()], "{t}");
    assert_eq!(traced(&t, "(sum08)").len(), 1, "{t}");
    assert_eq!(traced(&t, "sum 2 + 5").len(), 1, "{t}");
    assert_eq!(traced(&t, "sum 10 + 20").len(), 1, "{t}");
    // SYN at 0, SYN-ACK sent at 25 ms, the first line at 50, its sum at 75 ms or later.
    let answers = "ip.src == {} && tcp.len == 2";
    let answers = answers.replace("{}", &tr.addrs[2]);
    assert_eq!(tshark_count(&pcap, &answers), 1, "{t}");
    let late = format!("{answers} && frame.time_relative >= 0.075");
    assert_eq!(tshark_count(&pcap, &late), 1, "{t}");
}

#[test]
fn ft_under_5_percent_loss_delivers_the_file_with_retransmissions() {
    if skip("ft") || !programs_built("ft", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let args = ["ft", "--loss", "5%", "--seed", "5", "--capture", "both"];
    let (out, pcap, _dir) = run_scenario("ft", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("copy.bin is identical to data.bin: 1048576 bytes"),
        "{t}"
    );
    assert!(
        tshark_count(&pcap, "tcp.analysis.retransmission") > 0,
        "{t}"
    );
    let delivered = delivered_path(&pcap);
    let (to_server, to_client) = (lost(&t, "client→server"), lost(&t, "server→client"));
    // The capture of what was sent holds every packet, also those the link dropped.
    let gone = tshark_count(&pcap, "ip") - tshark_count(&delivered, "ip");
    assert_eq!(gone, to_server + to_client, "{t}");
    // Data segments the link dropped (the client→server ones are ACKs, but one request).
    let dropped = tshark_count(&pcap, "tcp.len > 0") - tshark_count(&delivered, "tcp.len > 0");
    assert!(
        dropped > 20 && dropped <= to_server + to_client,
        "{dropped}: {t}"
    );
    assert!(to_client - dropped.min(to_client) <= 5, "{dropped}: {t}");
    // The file arrived whole, so each dropped segment was sent again: in the capture of
    // what was sent, tshark marks each repair a retransmission, or out-of-order when it
    // comes within the first round trip of the segment before it. A few more are
    // possible: a repair dropped in turn, a timeout or a tail loss probe resending
    // what was not lost.
    let repairs = tshark_count(
        &pcap,
        "tcp.analysis.retransmission || tcp.analysis.out_of_order",
    );
    assert!(
        repairs >= dropped && repairs <= dropped + 5 + dropped / 10,
        "{repairs} repairs for {dropped} dropped data segments: {t}"
    );
    // tshark's count and labtrace's story follow the same Wireshark version's rules.
    let version = labs::tcp::wireshark::tshark_version().expect("tshark --version");
    assert!(
        t.contains(&format!(
            "tshark {version}: {} sent again in",
            labs::plural(repairs, "segment")
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!("$ labtrace --like-wireshark {version} ")),
        "{t}"
    );
}

#[test]
fn ft_without_impairment_crosses_in_large_segments_and_captures_wire_packets() {
    if skip("tso") || !programs_built("tso", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let args = ["ft", "--size", "4000000", "--capture", "both"];
    let (out, pcap, _dir) = run_scenario("tso", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("ioctl(TUNSETOFFLOAD, TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6)"),
        "{t}"
    );
    let server = transcript(&t).addrs[2].clone();
    for file in [pcap.clone(), delivered_path(&pcap)] {
        // No packet longer than the MTU, every checksum right.
        assert_eq!(tshark_count(&file, "frame.len > 1500"), 0, "{t}");
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&file)
            .args([
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "ip.check_checksum:TRUE",
            ])
            .args(["-Y", "tcp.checksum.status != 1 || ip.checksum.status != 1"])
            .output()
            .expect("tshark");
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{}",
            text(&out)
        );
    }
    // The link counts the packets the capture shows.
    let data = tshark_count(&pcap, &format!("ip.src == {server}"));
    let said = format!(
        "server→client: {} in, {data} out",
        labs::plural(data, "packet")
    );
    assert!(t.contains(&said), "{said}: {t}");
    // They crossed as large segments: most data segments share the time stamp of the
    // one before (one read each 45), which packets read one by one do not.
    let times = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-Y",
            "tcp.len > 0",
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ])
        .output()
        .expect("tshark");
    let times = String::from_utf8_lossy(&times.stdout).into_owned();
    let times: Vec<&str> = times.lines().collect();
    let shared = times.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(shared * 10 > times.len() * 8, "{shared} of {}", times.len());
}

#[test]
fn bench_prints_a_row_per_loss_and_delay_and_draws_the_chart() {
    if skip("bench") || !programs_built("bench", &["ftserver", "ftclient"]) {
        return;
    }
    let name = net_name("bench");
    let dir = TempDir(std::env::temp_dir().join(format!("labnet-test-{name}")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let svg = dir.0.join("ft.svg");
    let out = Command::new(LABNET)
        .args([
            "bench", "ft", "--name", &name, "--loss", "0,20", "--delay", "0,5ms",
        ])
        .args(["--size", "256KiB", "--seed", "3", "--svg"])
        .arg(&svg)
        .output()
        .expect("labnet bench");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(leftovers(&name), Vec::<String>::new(), "{t}");
    assert!(!t.contains("+ ip netns"), "the commands are not shown: {t}");
    let rows: Vec<Vec<&str>> = t
        .lines()
        .filter(|l| l.starts_with("| 0ms") || l.starts_with("| 5ms"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{t}");
    for row in &rows {
        // | delay | loss | time | Mbit/s | lost | sent again |
        let lost: usize = row[5].parse().unwrap();
        let repairs: usize = row[6].parse().unwrap();
        assert!(row[4].parse::<f64>().unwrap() > 0.0, "{t}");
        // A few repairs of nothing are possible: on a busy machine, a link thread that
        // waits its turn 10 ms makes TCP send a tail loss probe.
        if row[2] == "0%" {
            assert!(lost == 0 && repairs <= 3, "{t}");
        } else {
            assert!(
                lost > 10 && repairs + 3 >= lost && repairs <= lost + 8,
                "{t}"
            );
        }
    }
    let chart = std::fs::read_to_string(&svg).expect("the chart");
    assert_eq!(chart.matches("<polyline").count(), 2, "{chart}");
    assert!(chart.contains("delay 5ms"), "{chart}");
}

#[test]
fn ft_with_reordering_is_seen_out_of_order_by_tshark() {
    if skip("reorder") || !programs_built("reorder", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    let args = ["ft", "--reorder", "10%", "--delay", "5ms", "--seed", "9"];
    let more = ["--capture", "both", "--snaplen", "100"];
    let (out, pcap, _dir) = run_scenario("ro", &[&args[..], &more].concat());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("identical"), "{t}");
    assert!(t.contains("reordered"), "{t}");
    // The link reorders: what it delivered is out of order, what was sent is not.
    let delivered = delivered_path(&pcap);
    assert!(
        tshark_count(&delivered, "tcp.analysis.out_of_order") > 0,
        "{t}"
    );
    // --snaplen 100: each packet's first 100 bytes, and its true length.
    let all = tshark_count(&pcap, "frame");
    assert_eq!(tshark_count(&pcap, "frame.cap_len <= 100"), all);
    assert!(tshark_count(&pcap, "frame.len > 1000") > 500, "{t}");
}

#[test]
fn a_client_that_overruns_its_time_is_killed_and_everything_torn_down() {
    if skip("overrun") || !programs_built("overrun", &["ftserver", "ftclient", "labtrace"]) {
        return;
    }
    // 8 MB at 1 Mbit/s takes a minute; the client gets 1 s.
    let args = ["ft", "--size", "8000000", "--rate", "1mbit", "--limit", "1"];
    let (out, _pcap, _dir) = run_scenario("over", &args);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("ftclient did not finish in 1s (killed)"), "{t}");
    assert!(t.contains("ip netns delete"), "{t}");
}
