//! The UDP scenarios of `labnet run`: the echo, the course's upload silently short under
//! loss, the reliable upload identical under loss, reordering and duplication, and the
//! sequence experiment's `Error!` under reordering.

use super::harness::*;

/// The server's summary `received R datagrams, E out of order, M never arrived`.
fn seq_summary(t: &str) -> (usize, usize, usize) {
    let line = t
        .lines()
        .find(|l| l.starts_with("received ") && l.contains(" out of order, "))
        .unwrap_or_else(|| panic!("no summary in:\n{t}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (n[0], n[1], n[2])
}

/// A 64 KiB upload arrived whole: the server wrote every datagram, the copy is equal.
fn assert_upload_whole(t: &str) {
    assert!(
        t.contains("udpft: copy.bin is identical to data.bin: 65536 bytes"),
        "{t}"
    );
    assert!(
        t.contains("wrote 65536 bytes in 64 datagrams to copy.bin"),
        "{t}"
    );
}

#[test]
fn udp_echo_across_the_link() {
    if skip("udpecho")
        || !programs_built("udpecho", &["udpechoserver", "udpechoclient", "labtrace"])
    {
        return;
    }
    let (out, pcap, _dir) = run_scenario("ue", &["udpecho"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    assert_eq!(tr.client, udp_echo_client(&tr.addrs[2]), "{t}");
    assert_eq!(
        tr.server[..2],
        ["[server] $ udpechoserver 10000", "listening on [::]:10000"],
        "{t}"
    );
    assert!(
        tr.server[2].starts_with(&format!("Received packet from {}:", tr.addrs[0])),
        "{t}"
    );
    assert_eq!(tr.server[3], "Data: hello across the link", "{t}");
    // Two datagrams each way, no connection: no handshake, no FIN.
    assert_eq!(tshark_count(&pcap, "udp.port == 10000"), 4, "{t}");
    assert_eq!(tshark_count(&pcap, "tcp"), 0, "{t}");
}

#[test]
fn udp_echo_and_the_courses_upload_over_ipv6() {
    let programs = [
        "udpechoserver",
        "udpechoclient",
        "udpftserver",
        "udpftclient",
    ];
    if skip("udp6") || !programs_built("udp6", &[&programs[..], &["labtrace"]].concat()) {
        return;
    }
    let (out, pcap, _dir) = run_scenario("ue6", &["udpecho", "--ipv6"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    assert_eq!(tr.client, udp_echo_client(&tr.addrs[3]), "{t}");
    let from = format!("Received packet from [{}]:", tr.addrs[1]);
    assert!(tr.server[2].starts_with(&from), "{t}");
    assert_eq!(tr.server[3], "Data: hello across the link", "{t}");
    assert!(tr.server[6].starts_with(&from), "{t}");
    assert_eq!(tr.server[7], "Data: second line", "{t}");
    // Only IPv6 on the link: the four datagrams, nothing else.
    assert_eq!(tshark_count(&pcap, "ipv6 && udp.port == 10000"), 4, "{t}");
    assert_eq!(tshark_count(&pcap, "ip"), 0, "{t}");
    let (out, pcap, _dir) = run_scenario("uf6", &["udpft", "--ipv6", "--size", "64KiB"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let tr = transcript(&t);
    assert!(
        tr.client[0].starts_with(&format!("[client] $ udpftclient {} /", tr.addrs[3])),
        "{t}"
    );
    assert_upload_whole(&t);
    // The path, 64 datagrams of 1024 bytes, END; and `ok`: all IPv6.
    assert_eq!(tshark_count(&pcap, "ipv6 && udp"), 67, "{t}");
    assert_eq!(tshark_count(&pcap, "ipv6 && udp.length == 1032"), 64, "{t}");
    assert_eq!(tshark_count(&pcap, "ip"), 0, "{t}");
}

#[test]
fn the_courses_udp_upload_is_silently_short_under_loss() {
    if skip("udpft") || !programs_built("udpft", &["udpftserver", "udpftclient", "labtrace"]) {
        return;
    }
    let (out, _pcap, _dir) = run_scenario("uf0", &["udpft", "--size", "64KiB"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_upload_whole(&t);
    // With loss both programs say they are done, and the copy has holes.
    let args = ["udpft", "--size", "64KiB", "--loss", "10%", "--seed", "4"];
    let (out, _pcap, _dir) = run_scenario("uf1", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let lost = lost(&t, "client→server");
    assert!(lost > 0, "{t}");
    assert!(
        t.contains("sent 65536 bytes in 64 datagrams, then ================END"),
        "{t}"
    );
    let kept = 64 - lost;
    assert!(
        t.contains(&format!(
            "wrote {} bytes in {kept} datagrams to copy.bin",
            kept * 1024
        )),
        "{t}"
    );
    assert!(t.contains(&format!("udpft: copy.bin differs from data.bin: {} of 65536 bytes; {lost} of its 64 datagrams missing (", kept * 1024)), "{t}");
    assert!(
        t.contains("neither the client nor the server can tell"),
        "{t}"
    );
}

#[test]
fn the_reliable_upload_is_identical_under_loss_reordering_and_duplication() {
    if skip("rft") || !programs_built("rft", &["rftserver", "rftclient", "labtrace"]) {
        return;
    }
    let args = [
        "rft",
        "--size",
        "256KiB",
        "--loss",
        "10%",
        "--reorder",
        "10%",
        "--duplicate",
        "10%",
        "--delay",
        "1ms",
        "--seed",
        "4",
    ];
    let (out, _pcap, _dir) = run_scenario("rf", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("rft: copy.bin is identical to data.bin: 262144 bytes"),
        "{t}"
    );
    assert!(
        t.contains("wrote 262144 bytes in 256 packets to copy.bin"),
        "{t}"
    );
    assert!(
        lost(&t, "client→server") > 0 && lost(&t, "server→client") > 0,
        "{t}"
    );
    let client = transcript(&t).client.join("\n");
    let resent = |what: &str| -> usize {
        client
            .split(", ")
            .find_map(|p| {
                p.strip_suffix(what)?
                    .split_whitespace()
                    .last()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    assert!(
        resent(" retransmitted after a timeout") + resent(" after 3 duplicate ACKs") > 0,
        "{t}"
    );
}

#[test]
fn the_sequence_experiment_prints_error_under_reordering() {
    if skip("udpseq") || !programs_built("udpseq", &["udpseqserver", "udpseqclient", "labtrace"]) {
        return;
    }
    let args = [
        "udpseq",
        "--reorder",
        "20%",
        "--delay",
        "2ms",
        "--seed",
        "3",
    ];
    let (out, _pcap, _dir) = run_scenario("us", &args);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("sent 200 datagrams"), "{t}");
    assert!(t.lines().any(|l| l == "Error!"), "{t}");
    let (received, errors, missing) = seq_summary(&t);
    // Nothing is duplicated: what did not arrive (the receiver may overflow) is missing.
    assert!(received + missing <= 200 && received > 0, "{t}");
    assert!(errors > 0, "{t}");
    assert!(t.contains(" reordered"), "{t}");
}
