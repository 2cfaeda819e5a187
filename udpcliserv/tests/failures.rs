//! The UDP failure lessons, each observed: the naive client blocked forever in
//! `recvfrom` (UNP 8.4), the timeout and retries that fix it (14.2), a stranger's
//! datagram taken for the reply and the check that refuses it (8.8), ECONNREFUSED on a
//! connected socket (8.11), a burst overrunning the receiver (8.13), and the course's
//! `Sequence num` / `Error!` experiment.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use nix::sys::signal::Signal;
use testkit::{Proc, Server, TIMEOUT, wait_until};

const ECHOCLIENT: &str = env!("CARGO_BIN_EXE_udpechoclient");
const ECHOSERVER: &str = env!("CARGO_BIN_EXE_udpechoserver");
const TIMEO: &str = env!("CARGO_BIN_EXE_dgclitimeo");
const ADDR: &str = env!("CARGO_BIN_EXE_dgcliaddr");
const CONNECT: &str = env!("CARGO_BIN_EXE_dgcliconnect");
const LOOPCLI: &str = env!("CARGO_BIN_EXE_dgcliloop");
const LOOPSERV: &str = env!("CARGO_BIN_EXE_dgecholoop");
const SEQSERV: &str = env!("CARGO_BIN_EXE_udpseqserver");

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    s
}

fn port(s: &UdpSocket) -> String {
    s.local_addr().unwrap().port().to_string()
}

fn recv(s: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = s
        .recv_from(&mut buf)
        .expect("a datagram within the timeout");
    (buf[..n].to_vec(), from)
}

/// Linux: true once the program's main thread sits in the recvfrom system call.
#[cfg(target_os = "linux")]
fn blocked_in_recvfrom(p: &Proc) -> bool {
    let number = nix::libc::SYS_recvfrom.to_string();
    wait_until(TIMEOUT, || {
        std::fs::read_to_string(format!("/proc/{}/syscall", p.pid()))
            .is_ok_and(|s| s.split_whitespace().next() == Some(number.as_str()))
    })
}

#[test]
#[cfg(target_os = "linux")]
fn a_lost_reply_blocks_the_naive_client_forever() {
    let server = socket(); // receives the request and, as a lossy network would, never answers
    let mut client = Proc::spawn(ECHOCLIENT, &["127.0.0.1", &port(&server)]);
    client.write_stdin(b"hello\n");
    assert_eq!(recv(&server).0, b"hello\n");
    assert!(blocked_in_recvfrom(&client), "the client waits in recvfrom");
    assert!(client.is_running());
}

#[test]
fn a_timeout_and_a_retry_recover_a_lost_datagram() {
    let server = socket();
    let mut client = Proc::spawn(TIMEO, &["127.0.0.1", &port(&server), "--timeout", "0.2"]);
    client.write_stdin(b"hello\n");
    let _lost = recv(&server); // the first try gets no answer
    client.expect_stderr_line("the timeout", |l| {
        l == "dgclitimeo: no reply within 200ms (try 1 of 3)\n"
    });
    let (again, from) = recv(&server);
    assert_eq!(again, b"hello\n", "the same line, sent again");
    server.send_to(&again, from).unwrap();
    assert_eq!(
        client.expect_line("the reply", |_| true),
        "Received a message from the server : hello\n"
    );
    client.close_stdin();
    assert!(client.wait_exit().0.success());
}

#[test]
fn the_timeout_client_gives_up_on_a_line_and_goes_on() {
    let server = socket();
    let p = port(&server);
    let (status, out, err) = testkit::run_with_input(
        TIMEO,
        &["127.0.0.1", &p, "--timeout", "0.05", "--tries", "2"],
        b"x\n",
    );
    assert!(status.success());
    assert_eq!(out, "");
    assert_eq!(
        err,
        "dgclitimeo: no reply within 50ms (try 1 of 2)\n\
         dgclitimeo: no reply within 50ms (try 2 of 2)\n\
         dgclitimeo: socket timeout: giving up on this line after 2 tries\n"
    );
}

/// The client sends to `server`; a stranger answers first, then the server.
fn stranger_answers_first(program: &str) -> String {
    let server = socket();
    let stranger = socket();
    let mut client = Proc::spawn(program, &["127.0.0.1", &port(&server)]);
    client.write_stdin(b"hello\n");
    let (request, client_addr) = recv(&server);
    stranger.send_to(b"forged\n", client_addr).unwrap();
    if program == ADDR {
        let stranger = stranger.local_addr().unwrap();
        let line = client.expect_line("the stranger ignored", |_| true);
        assert_eq!(line, format!("reply from {stranger} (ignored)\n"));
    }
    server.send_to(&request, client_addr).unwrap();
    client.close_stdin();
    let (status, out, err) = client.wait_exit();
    assert!(status.success(), "{err}");
    out
}

#[test]
fn the_naive_client_takes_a_strangers_datagram_for_the_reply() {
    let out = stranger_answers_first(ECHOCLIENT);
    assert_eq!(out, "Received a message from the server : forged\n\n");
}

#[test]
fn checking_the_sender_ignores_the_stranger() {
    let out = stranger_answers_first(ADDR);
    assert_eq!(out, "Received a message from the server : hello\n\n");
}

/// A port where nothing receives: bound, then closed.
fn dead_port() -> String {
    port(&socket())
}

#[test]
fn a_connected_client_learns_of_port_unreachable() {
    let p = dead_port();
    let (status, out, err) = testkit::run_with_input(CONNECT, &["127.0.0.1", &p], b"hello\n");
    assert!(!status.success());
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "dgcliconnect: read error: Connection refused (ECONNREFUSED): no program receives \
             on 127.0.0.1:{p} (the host answered with ICMP port unreachable)\n"
        )
    );
}

#[test]
#[cfg(target_os = "linux")]
fn the_unconnected_client_is_not_told_and_waits() {
    let mut client = Proc::spawn(ECHOCLIENT, &["127.0.0.1", &dead_port()]);
    client.write_stdin(b"hello\n");
    assert!(
        blocked_in_recvfrom(&client),
        "ICMP port unreachable is not reported"
    );
}

/// Linux: the bytes waiting in the receive queue of the UDP socket bound to `port`.
#[cfg(target_os = "linux")]
fn rx_queue(port: u16) -> Option<u64> {
    let local = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|f| {
        let table = std::fs::read_to_string(f).ok()?;
        let line = table.lines().find(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| format!("{a} ").ends_with(&local))
        })?;
        let queues = line.split_whitespace().nth(4)?;
        u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()
    })
}

/// dgecholoop with `rcvbuf`, stopped while a burst of 500 arrives: how many it got.
#[cfg(target_os = "linux")]
fn received_while_stopped(rcvbuf: &str) -> u64 {
    let mut s = Server::spawn(LOOPSERV, &["0", "--rcvbuf", rcvbuf]);
    s.proc
        .expect_line("SO_RCVBUF", |l| l.starts_with("SO_RCVBUF: "));
    s.proc.signal(Signal::SIGSTOP); // the slowest receiver there is
    let (status, out, _) = testkit::run_with_input(
        LOOPCLI,
        &["127.0.0.1", &s.port().to_string(), "--count", "500"],
        b"",
    );
    assert!(status.success());
    assert_eq!(
        out, "sent 500 datagrams of 1400 bytes\n",
        "sendto never waits"
    );
    s.proc.signal(Signal::SIGCONT);
    assert!(
        wait_until(TIMEOUT, || rx_queue(s.port()) == Some(0)),
        "the server drains its queue"
    );
    // Ctrl-C, again until it ends (one between its check of the flag and its recvfrom
    // only sets the flag); then its count.
    let ended = wait_until(TIMEOUT, || {
        s.proc.signal(Signal::SIGINT);
        !s.proc.is_running()
    });
    assert!(ended, "Ctrl-C did not end dgecholoop");
    let (_, out, _) = s.proc.wait_exit();
    let line = out
        .lines()
        .find(|l| l.starts_with("received "))
        .unwrap_or("");
    line.trim_start_matches("received ")
        .trim_end_matches(" datagrams")
        .parse()
        .unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn a_burst_overruns_the_receive_buffer_and_a_bigger_one_keeps_more() {
    let small = received_while_stopped("4096");
    let big = received_while_stopped("4000000");
    assert!(
        small < 500,
        "a small buffer drops most of the burst: {small}"
    );
    assert!(
        big > small,
        "SO_RCVBUF bigger, fewer drops: {big} vs {small}"
    );
}

#[test]
fn the_sequence_server_prints_each_number_and_error_when_out_of_order() {
    let mut s = Server::spawn(SEQSERV, &["0", "--idle", "0.3"]);
    let c = socket();
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    // A client that starts later than --idle (as one may on a busy machine) is still
    // counted: the idle time runs from the first datagram.
    std::thread::sleep(std::time::Duration::from_millis(600));
    for seq in [0, 1, 3, 2, 4, 6] {
        c.send_to(&udpcliserv::seq::encode(seq), to).unwrap();
    }
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success());
    assert_eq!(
        out,
        "Sequence num: 0\nSequence num: 1\nSequence num: 3\nError!\nSequence num: 2\nError!\n\
         Sequence num: 4\nError!\nSequence num: 6\nError!\n\
         received 6 datagrams, 4 out of order, 1 never arrived: 5\n"
    );
}

#[test]
fn ctrl_c_ends_the_sequence_server_with_its_summary() {
    // Without --idle, a student ends it with Ctrl-C: the count must not be lost.
    let mut s = Server::spawn(SEQSERV, &["0"]);
    let c = socket();
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    for seq in [0, 1, 3] {
        c.send_to(&udpcliserv::seq::encode(seq), to).unwrap();
    }
    s.proc
        .expect_line("Error! under 3", |l| l.trim_end() == "Error!");
    // Ctrl-C, again until it ends: one that comes between the server's check of its flag
    // and its recvfrom only sets the flag (UNP 20.5's race), and recvfrom waits on.
    let ended = wait_until(TIMEOUT, || {
        s.proc.signal(nix::sys::signal::Signal::SIGINT);
        !s.proc.is_running()
    });
    assert!(ended, "Ctrl-C did not end the sequence server");
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(
        out.ends_with("received 3 datagrams, 1 out of order, 1 never arrived: 2\n"),
        "{out}"
    );
}

#[test]
fn ctrl_c_ends_the_sequence_server_while_datagrams_keep_coming() {
    // A flood keeps datagrams waiting, so recvfrom mostly has one at once and returns no
    // EINTR: the server must look at its Ctrl-C flag itself, between datagrams. Whether a
    // Ctrl-C lands in recvfrom or between two datagrams is the scheduler's choice, so the
    // round is played ten times: a server that only looks on EINTR fails one in three
    // here, and so ten rounds in a row with near certainty.
    for round in 0..10 {
        ctrl_c_in_a_flood(round);
    }
}

fn ctrl_c_in_a_flood(round: usize) {
    let mut s = Server::spawn(SEQSERV, &["0"]);
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let c = socket();
            let mut seq = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = c.send_to(&udpcliserv::seq::encode(seq), to);
                seq += 1;
            }
        })
    };
    s.proc.expect_line("the flood arriving", |l| {
        l.strip_prefix("Sequence num: ")
            .and_then(|n| n.trim_end().parse::<i32>().ok())
            .is_some_and(|n| n >= 100)
    });
    s.proc.signal(Signal::SIGINT);
    // Two seconds of flood after Ctrl-C: the server must end within them. One that only
    // looks at the flag on EINTR goes on, then blocks in recvfrom once the flood stops.
    let exited = wait_until(Duration::from_secs(2), || !s.proc.is_running());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    flood.join().unwrap();
    assert!(
        exited,
        "round {round}: the server went on receiving after Ctrl-C"
    );
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success(), "{status:?}");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("received "), "no summary: {last:?}");
}

#[test]
fn echo_server_survives_what_the_clients_do() {
    // Sanity for the lessons above: the server they stand for keeps answering.
    let s = Server::spawn(ECHOSERVER, &["0"]);
    let (status, out, _) =
        testkit::run_with_input(TIMEO, &["127.0.0.1", &s.port().to_string()], b"a\n");
    assert!(status.success());
    assert_eq!(out, "Received a message from the server : a\n\n");
}

/// Linux: the most resident memory the process `pid` has had, in KiB (VmHWM).
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn a_crafted_huge_sequence_number_costs_the_server_no_memory() {
    // The server follows numbers with a bit each below 2^20 (128 KiB at the most); a
    // number above is counted, not followed, and the summary says so. Before, one
    // datagram numbered 16777215 grew the server by 16 MiB, and its summary listed
    // 16 million numbers as never arrived.
    let mut s = Server::spawn(SEQSERV, &["0"]);
    let c = socket();
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    let before = peak_kib(s.proc.pid());
    for seq in [0, (1 << 20) - 1, 16_777_215, i32::MAX] {
        c.send_to(&udpcliserv::seq::encode(seq), to).unwrap();
    }
    s.proc.expect_line("the last number", |l| {
        l == format!("Sequence num: {}\n", i32::MAX)
    });
    let grown = peak_kib(s.proc.pid()).saturating_sub(before);
    assert!(grown < 1024, "the server grew by {grown} KiB");
    // Ctrl-C once it waits in recvfrom again, so that it interrupts the call (one that
    // comes while it prints is the test above's).
    assert!(blocked_in_recvfrom(&s.proc), "the server waits for more");
    s.proc.signal(Signal::SIGINT);
    let (status, out, _) = s.proc.wait_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        out.lines().last(),
        Some(
            "received 4 datagrams, 3 out of order, 1048574 never arrived: 1-1048574; \
             2 numbered 1048576 or more (not followed)"
        ),
        "{out}"
    );
}
