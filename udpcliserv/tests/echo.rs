//! The UDP echo pair as a student and the course's C programs see them: the real
//! binaries on loopback, port 0, raw datagrams, output compared byte for byte.

use std::net::{SocketAddr, UdpSocket};

use testkit::{Proc, Server, TIMEOUT};

const SERVER: &str = env!("CARGO_BIN_EXE_udpechoserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_udpechoclient");

/// A UDP socket on loopback of `v6`'s family, with the test timeout.
fn peer(v6: bool) -> UdpSocket {
    let s = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).expect("bind");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    s
}

fn recv(s: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = s
        .recv_from(&mut buf)
        .expect("a datagram within the timeout");
    (buf[..n].to_vec(), from)
}

#[test]
fn the_server_echoes_and_prints_the_c_lines_over_ipv4_and_ipv6() {
    let mut s = Server::spawn(SERVER, &["0"]);
    for (v6, host) in [(false, "127.0.0.1"), (true, "[::1]")] {
        let c = peer(v6);
        let to: SocketAddr = format!("{host}:{}", s.port()).parse().unwrap();
        c.send_to(b"hello\n", to).unwrap();
        assert_eq!(recv(&c), (b"hello\n".to_vec(), to));
        let from = unp::sock_ntop(&c.local_addr().unwrap());
        // printf("Received packet from %s:%d\nData: %s\n\n"), %s with its newline.
        let want = [
            format!("Received packet from {from}\n"),
            "Data: hello\n".into(),
            "\n".into(),
            "\n".into(),
        ];
        for line in want {
            assert_eq!(s.proc.expect_line("an echo line", |_| true), line);
        }
    }
}

#[test]
fn the_server_answers_255_bytes_at_most_and_escapes_what_it_prints() {
    let mut s = Server::spawn(SERVER, &["0"]);
    let c = peer(false);
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    let long = [b'a'; 300];
    c.send_to(&long, to).unwrap();
    assert_eq!(
        recv(&c).0,
        vec![b'a'; 255],
        "recvfrom(BUFFERSIZE-1) cuts the tail"
    );
    s.proc.expect_line("data", |l| l.starts_with("Data: aaa"));
    c.send_to(b"\x1b[2Jforged\nReceived packet from 1.2.3.4:5", to)
        .unwrap();
    recv(&c);
    let line = s
        .proc
        .expect_line("escaped data", |l| l.starts_with("Data: \\x1b"));
    assert_eq!(
        line,
        "Data: \\x1b[2Jforged\\nReceived packet from 1.2.3.4:5\n"
    );
    c.send_to(b"", to).unwrap();
    assert_eq!(recv(&c).0, b"", "an empty datagram is a datagram");
}

#[test]
fn the_client_sends_each_line_as_one_datagram_and_prints_the_reply() {
    for v6 in [false, true] {
        let server = peer(v6);
        let port = server.local_addr().unwrap().port();
        let host = if v6 { "::1" } else { "127.0.0.1" };
        let mut client = Proc::spawn(CLIENT, &[host, &port.to_string()]);
        let long = "x".repeat(300);
        client.write_stdin(format!("hello\n{long}\n").as_bytes());
        client.close_stdin();
        let (first, from) = recv(&server);
        assert_eq!(first, b"hello\n", "the line and its newline, nothing more");
        server.send_to(&first, from).unwrap();
        // fgets(message, 256): 255 bytes, then the rest of the line.
        let (a, from) = recv(&server);
        assert_eq!(a, vec![b'x'; 255]);
        server.send_to(&a, from).unwrap();
        let (b, from) = recv(&server);
        assert_eq!(b, [&[b'x'; 45][..], b"\n"].concat());
        server.send_to(&b, from).unwrap();
        let (status, out, err) = client.wait_exit();
        assert!(status.success(), "{err}");
        let want = format!(
            "Received a message from the server : hello\n\n\
             Received a message from the server : {}\n\
             Received a message from the server : {}\n\n",
            "x".repeat(255),
            "x".repeat(45)
        );
        assert_eq!(out, want);
    }
}

#[test]
fn client_and_server_talk_over_ipv4_and_ipv6() {
    let s = Server::spawn(SERVER, &["0"]);
    for host in ["127.0.0.1", "::1", "localhost"] {
        let (status, out, err) =
            testkit::run_with_input(CLIENT, &[host, &s.port().to_string()], b"one\ntwo\n");
        assert!(status.success(), "{err}");
        assert_eq!(
            out,
            "Received a message from the server : one\n\n\
             Received a message from the server : two\n\n"
        );
    }
}

#[test]
fn a_second_server_on_the_port_gets_eaddrinuse() {
    let s = Server::spawn(SERVER, &["0"]);
    let (status, _, err) = testkit::run_with_input(SERVER, &[&s.port().to_string()], b"");
    assert!(!status.success());
    assert_eq!(
        err,
        "udpechoserver: bind error: Address already in use (EADDRINUSE)\n"
    );
}
