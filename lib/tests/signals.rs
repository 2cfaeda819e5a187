//! `signal_intr` vs `signal`: a handler that interrupts a blocked `accept` makes it fail
//! with EINTR in the first case and restart in the second (UNP tcpserv04's lesson).
//!
//! The test thread blocks in `accept`; the main test thread waits until the kernel
//! reports that thread inside the accept system call, then sends it the signal with
//! `pthread_kill`, so the signal is known to arrive during the call.

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::pthread::{Pthread, pthread_kill, pthread_self};
use unp::signal::{SigHandler, Signal, signal, signal_intr};

static USR1_SEEN: AtomicUsize = AtomicUsize::new(0);
static USR2_SEEN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_usr1(_: i32) {
    USR1_SEEN.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_usr2(_: i32) {
    USR2_SEEN.fetch_add(1, Ordering::SeqCst);
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// Waits until thread `tid` is blocked in accept (Linux: /proc/self/task/TID/syscall
/// names the system call a blocked thread is in).
#[cfg(target_os = "linux")]
fn wait_in_accept(tid: i32) {
    let accept_calls = [nix::libc::SYS_accept4, nix::libc::SYS_accept];
    let path = format!("/proc/self/task/{tid}/syscall");
    let start = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let nr = text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        if nr.is_some_and(|n| accept_calls.contains(&n)) {
            return;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "thread never blocked in accept: {text:?}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(not(target_os = "linux"))]
fn wait_in_accept(_tid: i32) {
    // No portable way to see it; give the thread ample time to block.
    thread::sleep(Duration::from_millis(200));
}

#[cfg(target_os = "linux")]
fn thread_id() -> i32 {
    nix::unistd::gettid().as_raw()
}

#[cfg(not(target_os = "linux"))]
fn thread_id() -> i32 {
    0
}

type AcceptOutcome = Result<(), unp::Error>;

/// Starts a thread that accepts once; returns its pthread, kernel tid, the listening
/// port and a channel with the accept's outcome.
fn blocked_acceptor() -> (Pthread, i32, u16, mpsc::Receiver<AcceptOutcome>) {
    let (listener, addr) = unp::tcp_listen(Some("127.0.0.1"), 0).unwrap();
    let (ids_tx, ids_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        ids_tx.send((pthread_self(), thread_id())).unwrap();
        let outcome = unp::accept(&listener).map(|_| ());
        let _ = done_tx.send(outcome);
    });
    let (pthread, tid) = ids_rx.recv().unwrap();
    (pthread, tid, addr.port(), done_rx)
}

#[test]
fn signal_intr_makes_a_blocked_accept_fail_with_eintr() {
    // SAFETY: the handler only increments an atomic.
    unsafe { signal_intr(Signal::SIGUSR1, SigHandler::Handler(on_usr1)) }.unwrap();
    let (pthread, tid, _port, done) = blocked_acceptor();
    wait_in_accept(tid);
    pthread_kill(pthread, Signal::SIGUSR1).unwrap();
    let outcome = done.recv_timeout(TIMEOUT).expect("accept must return");
    let err = outcome.expect_err("accept must fail");
    assert!(err.is_interrupted(), "{err}");
    assert_eq!(
        err.to_string(),
        "accept error: Interrupted system call (EINTR)"
    );
    assert_eq!(USR1_SEEN.load(Ordering::SeqCst), 1);
}

#[test]
fn signal_with_sa_restart_lets_accept_go_on() {
    // SAFETY: the handler only increments an atomic.
    unsafe { signal(Signal::SIGUSR2, SigHandler::Handler(on_usr2)) }.unwrap();
    let (pthread, tid, port, done) = blocked_acceptor();
    wait_in_accept(tid);
    pthread_kill(pthread, Signal::SIGUSR2).unwrap();
    let start = std::time::Instant::now();
    while USR2_SEEN.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < TIMEOUT, "the handler never ran");
        thread::sleep(Duration::from_millis(2));
    }
    // The handler has run; accept restarted and is still waiting...
    wait_in_accept(tid);
    assert!(done.try_recv().is_err(), "accept must not have returned");
    // ...and completes normally when a client comes.
    let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let outcome = done.recv_timeout(TIMEOUT).expect("accept must return");
    assert!(outcome.is_ok(), "{outcome:?}");
}
