//! The wrappers against the real kernel, on loopback with port 0.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;

use unp::{LineReader, readn, tcp_connect, tcp_listen, writen};

fn ipv6_loopback_available() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn binding_a_port_in_use_is_eaddrinuse_in_unp_words() {
    let (_first, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let err = tcp_listen(Some("127.0.0.1"), addr.port()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind error: Address already in use (EADDRINUSE)"
    );
    assert_eq!(err.call(), "bind");
    assert_eq!(err.errno_name().as_deref(), Some("EADDRINUSE"));
}

#[test]
fn two_wildcard_servers_on_one_port_collide() {
    let (_first, addr) = tcp_listen(None, 0).unwrap();
    let err = tcp_listen(None, addr.port()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind error: Address already in use (EADDRINUSE)"
    );
}

#[test]
fn wildcard_listener_serves_ipv4_clients() {
    let (listener, addr) = tcp_listen(None, 0).unwrap();
    assert_ne!(addr.port(), 0, "the kernel's port is reported");
    let client = tcp_connect("127.0.0.1", addr.port()).unwrap();
    let (_conn, peer) = unp::accept(&listener).unwrap();
    assert_eq!(
        unp::sock_ntop(&peer),
        unp::sock_ntop(&client.local_addr().unwrap())
    );
    assert!(unp::sock_ntop(&peer).starts_with("127.0.0.1:"), "{peer}");
}

#[test]
fn connecting_to_a_closed_port_is_econnrefused() {
    // Bind a port, then free it: nothing listens there any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = tcp_connect("127.0.0.1", port).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connect error: Connection refused (ECONNREFUSED)"
    );
}

#[test]
fn listen_and_connect_over_ipv4_and_ipv6() {
    let mut hosts = vec!["127.0.0.1"];
    if ipv6_loopback_available() {
        hosts.extend(["::1", "[::1]"]);
    } else {
        testkit::skip(
            "UNPLAB_REQUIRE_IPV6",
            "the IPv6 half: this machine has no ::1",
        );
    }
    for host in hosts {
        let (listener, addr) = tcp_listen(Some(host), 0).unwrap();
        let mut client = tcp_connect(host, addr.port()).unwrap();
        let (mut conn, peer) = unp::accept(&listener).unwrap();
        assert_eq!(peer.is_ipv6(), addr.is_ipv6(), "{host}");
        writen(&mut client, b"ping").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(readn(&mut conn, &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"ping");
    }
}

#[test]
fn readn_returns_a_short_count_at_eof() {
    let (listener, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let writer = thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"abc").unwrap();
        c.write_all(b"de").unwrap();
        // dropping closes: FIN after 5 bytes
    });
    let (mut conn, _) = unp::accept(&listener).unwrap();
    writer.join().unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(readn(&mut conn, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"abcde");
    assert_eq!(
        readn(&mut conn, &mut buf).unwrap(),
        0,
        "EOF again is 0, not an error"
    );
}

#[test]
fn writen_pushes_10_mib_through_a_socket_pair() {
    const SIZE: usize = 10 * 1024 * 1024;
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let reader = thread::spawn(move || {
        let mut got = Vec::with_capacity(SIZE);
        b.read_to_end(&mut got).unwrap();
        got
    });
    writen(&mut a, &data).unwrap();
    drop(a);
    let got = reader.join().unwrap();
    assert_eq!(got.len(), SIZE);
    assert!(got == expected, "the bytes arrive unchanged and in order");
}

#[test]
fn writen_to_a_closed_peer_fails_instead_of_killing_the_process() {
    let (listener, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (conn, _) = unp::accept(&listener).unwrap();
    drop(conn);
    // The first writes may succeed (the RST comes back afterwards); keep writing.
    let chunk = [0u8; 64 * 1024];
    let err = (0..1000)
        .find_map(|_| writen(&mut client, &chunk).err())
        .expect("writing to a closed peer must fail");
    let name = err.errno_name().unwrap_or_default();
    assert!(name == "EPIPE" || name == "ECONNRESET", "{err}");
    assert_eq!(err.call(), "writen");
}

#[test]
fn readline_over_tcp_keeps_bytes_after_the_newline() {
    let (listener, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let writer = thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_nodelay(true).unwrap();
        for piece in [&b"1 2\n3"[..], b" 4\n", b"5 6\n7 8"] {
            c.write_all(piece).unwrap();
        }
        c.shutdown(Shutdown::Write).unwrap();
    });
    let (conn, _) = unp::accept(&listener).unwrap();
    let mut lines = LineReader::new(conn);
    let mut line = Vec::new();
    let mut got = Vec::new();
    while lines.read_line(&mut line).unwrap() > 0 {
        got.push(String::from_utf8(line.clone()).unwrap());
    }
    writer.join().unwrap();
    assert_eq!(got, ["1 2\n", "3 4\n", "5 6\n", "7 8"]);
}

#[test]
fn socket_options_take_effect() {
    let (listener, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let client = TcpStream::connect(addr).unwrap();
    unp::sock::set_nodelay(&client, true).unwrap();
    assert!(client.nodelay().unwrap());
    unp::sock::set_linger(&client, Some(std::time::Duration::ZERO)).unwrap();
    let sock = socket2::SockRef::from(&client);
    assert_eq!(sock.linger().unwrap(), Some(std::time::Duration::ZERO));
    assert!(
        socket2::SockRef::from(&listener).reuse_address().unwrap(),
        "tcp_listen sets SO_REUSEADDR"
    );
    let local: SocketAddr = unp::sock::local_addr(&client).unwrap();
    assert_eq!(local, client.local_addr().unwrap());
}

#[test]
fn linger_zero_close_makes_the_peer_see_a_reset() {
    let (listener, addr) = tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let client = TcpStream::connect(addr).unwrap();
    let (mut conn, _) = unp::accept(&listener).unwrap();
    unp::sock::set_linger(&client, Some(std::time::Duration::ZERO)).unwrap();
    unp::sock::close(client).unwrap();
    let mut buf = [0u8; 8];
    let err = conn.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}
