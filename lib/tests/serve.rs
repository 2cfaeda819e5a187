//! The three skeletons of `unp::serve`, each serving a real client on loopback.
//!
//! No libtest harness (see lib/Cargo.toml): `process_per_client` forks, and a fork in a
//! multi-threaded test process could copy a lock another test thread holds. This binary
//! is one thread and runs its cases in order.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use unp::serve;

fn listener() -> (TcpListener, SocketAddr) {
    unp::tcp_listen(Some("127.0.0.1"), 0).expect("listen on loopback")
}

/// Connects a client, accepts it, and returns both ends.
fn connected(listener: &TcpListener, addr: SocketAddr) -> (TcpStream, TcpStream, SocketAddr) {
    let client = TcpStream::connect(addr).expect("connect");
    // A copy of the connection left open would make read_to_end wait: fail instead.
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("SO_RCVTIMEO");
    let (conn, peer) = unp::accept(listener).expect("accept");
    (client, conn, peer)
}

fn read_all(mut client: TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    client
        .read_to_end(&mut got)
        .expect("read until the server closes");
    got
}

/// The child's exit status (blocking wait for the one child this test made).
fn child_status() -> i32 {
    match waitpid(None, Some(WaitPidFlag::empty())) {
        Ok(WaitStatus::Exited(_, status)) => status,
        other => panic!("expected an exited child, got {other:?}"),
    }
}

fn echo_once(conn: &TcpStream, peer: &str) -> unp::Result<()> {
    let mut buf = [0u8; 64];
    let n = unp::read(&mut &*conn, &mut buf)?;
    unp::writen(&mut &*conn, &buf[..n])?;
    unp::writen(
        &mut &*conn,
        format!(" from {}", peer.split(':').next().unwrap_or("")).as_bytes(),
    )
}

fn a_child_serves_and_exits_0_and_the_parent_keeps_no_copy() {
    let (l, addr) = listener();
    let (mut client, conn, peer) = connected(&l, addr);
    serve::process_per_client(&l, conn, &peer, echo_once).expect("fork");
    client.write_all(b"hi").expect("write");
    // EOF only comes once every copy of the connection is closed: the child's after
    // serving, and the parent's already (else read_to_end would block).
    assert_eq!(read_all(client), b"hi from 127.0.0.1");
    assert_eq!(child_status(), 0);
    // The parent's listener still works: the child closed only its own copy.
    let (client, conn, peer) = connected(&l, addr);
    serve::process_per_client(&l, conn, &peer, |c: &TcpStream, _: &str| {
        unp::writen(&mut &*c, b"again")
    })
    .expect("fork");
    assert_eq!(read_all(client), b"again");
    assert_eq!(child_status(), 0);
}

fn a_failing_or_panicking_child_exits_1_and_never_returns_into_the_loop() {
    let (l, addr) = listener();
    let (client, conn, peer) = connected(&l, addr);
    serve::process_per_client(&l, conn, &peer, |_: &TcpStream, _: &str| {
        Err(unp::Error::msg("half a command"))
    })
    .expect("fork");
    assert_eq!(read_all(client), b"");
    assert_eq!(child_status(), 1);

    let (client, conn, peer) = connected(&l, addr);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the child's panic message is not the test's
    serve::process_per_client(
        &l,
        conn,
        &peer,
        |_: &TcpStream, _: &str| -> unp::Result<()> { panic!("a bug in the service") },
    )
    .expect("fork");
    std::panic::set_hook(quiet);
    assert_eq!(read_all(client), b"");
    // Had the panic unwound into this function, the child would have run the rest of
    // this test as a second copy; status 1 says it ended inside the skeleton.
    assert_eq!(child_status(), 1);
}

fn a_thread_serves_and_closes() {
    let (l, addr) = listener();
    let (mut client, conn, peer) = connected(&l, addr);
    serve::thread_per_client(conn, &peer, echo_once).expect("spawn");
    client.write_all(b"yo").expect("write");
    assert_eq!(read_all(client), b"yo from 127.0.0.1");
}

fn one_at_a_time_serves_before_it_returns() {
    let (l, addr) = listener();
    let (mut client, conn, peer) = connected(&l, addr);
    client.write_all(b"ab").expect("write");
    serve::one_at_a_time(conn, &peer, echo_once);
    // The connection is already closed when one_at_a_time returns.
    assert_eq!(read_all(client), b"ab from 127.0.0.1");
}

fn main() {
    a_child_serves_and_exits_0_and_the_parent_keeps_no_copy();
    a_failing_or_panicking_child_exits_1_and_never_returns_into_the_loop();
    a_thread_serves_and_closes();
    one_at_a_time_serves_before_it_returns();
    println!("test result: ok. 4 passed; 0 failed");
}
