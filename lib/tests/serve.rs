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

/// What thread_per_client saves per client (unp::serve::pthread): the client's thread
/// has no signal stack of its own (std::thread::spawn maps one per thread and unmaps it
/// at its end) and a stack of `pthread::STACK` bytes, not std's 2 MiB.
fn a_thread_has_a_small_stack_and_no_signal_stack_of_its_own() {
    let (l, addr) = listener();
    let (client, conn, peer) = connected(&l, addr);
    serve::thread_per_client(conn, &peer, |c: &TcpStream, _: &str| {
        let text = format!("altstack {} stack {}", own_altstack(), own_stack_kib());
        unp::writen(&mut &*c, text.as_bytes())
    })
    .expect("pthread_create");
    let want = format!(
        "altstack none stack {}",
        own_stack_kib_expected(serve::pthread::STACK)
    );
    assert_eq!(String::from_utf8_lossy(&read_all(client)), want);
}

/// `none` if this thread has no alternate signal stack (`sigaltstack(2)`).
fn own_altstack() -> &'static str {
    let mut ss = std::mem::MaybeUninit::<nix::libc::stack_t>::zeroed();
    // SAFETY: sigaltstack only reads the current setting into `ss`.
    let rc = unsafe { nix::libc::sigaltstack(std::ptr::null(), ss.as_mut_ptr()) };
    // SAFETY: sigaltstack filled it in (or it stays zeroed).
    let ss = unsafe { ss.assume_init() };
    if rc == 0 && ss.ss_flags & nix::libc::SS_DISABLE != 0 {
        "none"
    } else {
        "set"
    }
}

/// This thread's stack in KiB, as glibc reports it (Linux); `-` elsewhere.
#[cfg(target_os = "linux")]
fn own_stack_kib() -> String {
    use nix::libc;
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut size = 0;
    // SAFETY: pthread_getattr_np initialises attr for this thread; destroyed after use.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return "?".into();
        }
        libc::pthread_attr_getstacksize(attr.as_ptr(), &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
    }
    (size / 1024).to_string()
}

#[cfg(not(target_os = "linux"))]
fn own_stack_kib() -> String {
    "-".into()
}

fn own_stack_kib_expected(stack: usize) -> String {
    if cfg!(target_os = "linux") {
        (stack / 1024).to_string()
    } else {
        "-".into()
    }
}

fn one_at_a_time_serves_before_it_returns() {
    let (l, addr) = listener();
    let (mut client, conn, peer) = connected(&l, addr);
    client.write_all(b"ab").expect("write");
    serve::one_at_a_time(conn, &peer, echo_once);
    // The connection is already closed when one_at_a_time returns.
    assert_eq!(read_all(client), b"ab from 127.0.0.1");
}

/// Heap allocations are counted (per thread), for the case below.
#[global_allocator]
static ALLOC: testkit::Counting = testkit::Counting;

/// Between `fork` and the service the child names its client and logs
/// `child PID serves ADDR`, on the stack: an allocation there would copy the parent's
/// heap pages for every client (the lottery's fork mode lost ~10 % of its connections/s
/// to it against UNP's C tcpserv04).
fn a_child_allocates_nothing_before_its_service() {
    let (l, addr) = listener();
    let (client, conn, peer) = connected(&l, addr);
    // A server has printed `listening on` before its first fork, so std's stdout (and
    // its buffer, on the heap) already exists; else each child would make its own.
    unp::log(format_args!("a forking server, listening"));
    let before = testkit::allocations();
    serve::process_per_client(&l, conn, &peer, move |c: &TcpStream, _: &str| {
        let made = testkit::allocations() - before; // in the child, before anything else
        unp::writen(&mut &*c, format!("{made} allocations").as_bytes())
    })
    .expect("fork");
    assert_eq!(
        String::from_utf8_lossy(&read_all(client)),
        "0 allocations",
        "the child allocated between fork and its service"
    );
    assert_eq!(child_status(), 0);
}

fn main() {
    a_child_serves_and_exits_0_and_the_parent_keeps_no_copy();
    a_child_allocates_nothing_before_its_service();
    a_failing_or_panicking_child_exits_1_and_never_returns_into_the_loop();
    a_thread_serves_and_closes();
    a_thread_has_a_small_stack_and_no_signal_stack_of_its_own();
    one_at_a_time_serves_before_it_returns();
    println!("test result: ok. 6 passed; 0 failed");
}
