//! The lottery server and client as a student and the C programs see them: real
//! binaries on loopback, port 0, raw protocol bytes.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use lottery::draw::Draw;
use lottery::proto::{Command, Reply};
use testkit::{Proc, Server, TIMEOUT, run_with_input, sees_close, wait_until};

const SERVER: &str = env!("CARGO_BIN_EXE_lotteryserver");
const CLIENT: &str = env!("CARGO_BIN_EXE_lotteryclient");
const PROMPT: &str = "Command (0:GEN 1:LIST 2:END): ";

fn server(args: &[&str]) -> Server {
    let mut all = vec!["0"];
    all.extend_from_slice(args);
    Server::spawn(SERVER, &all)
}

/// Sends one command the way the C LotteryClient does (one 4-byte write) and reads the
/// reply the way it does (one read of at most 255 bytes).
fn ask(conn: &mut TcpStream, command: [u8; 4]) -> String {
    conn.write_all(&command).expect("write command");
    let mut buf = [0u8; 255];
    let n = conn.read(&mut buf).expect("read reply");
    assert!(n > 0, "server closed instead of replying");
    String::from_utf8(buf[..n].to_vec()).expect("ASCII reply")
}

fn send_gen(conn: &mut TcpStream) -> String {
    ask(conn, Command::Gen.encode())
}

fn list(conn: &mut TcpStream) -> String {
    ask(conn, Command::List.encode())
}

/// The numbers a server started with `--seed seed` draws, in order.
fn expected_draw(seed: u64) -> Vec<u8> {
    let mut d = Draw::seeded(seed);
    (0..6)
        .map(|_| match d.generate() {
            Reply::NewNumber(n) => n,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn list_text(numbers: &[u8]) -> String {
    let mut slots = numbers.to_vec();
    slots.resize(6, 0);
    let words: Vec<String> = slots.iter().map(u8::to_string).collect();
    format!("numbers: {}", words.join(" "))
}

#[test]
fn c_client_exchange_gen_seven_times_list_end() {
    let mut s = server(&["--seed", "42"]);
    let mut c = s.connect();
    let want = expected_draw(42);
    for n in &want {
        assert_eq!(send_gen(&mut c), format!("New number generated: {n}"));
    }
    assert_eq!(send_gen(&mut c), "Full");
    assert_eq!(list(&mut c), list_text(&want));
    let mut sorted = want.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 6, "six distinct numbers: {want:?}");
    assert!(want.iter().all(|n| (1..=45).contains(n)));

    c.write_all(&[2, 0, 0, 0]).unwrap(); // END: no reply, the server closes
    assert!(sees_close(&mut c), "END closes the connection");
    let (status, out, _err) = s.proc.wait_exit();
    assert_eq!(
        status.code(),
        Some(0),
        "END ends the iterative server with status 0"
    );
    assert!(out.contains(": END\n"), "{out}");
}

#[test]
fn list_before_any_gen_is_all_zeros() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(list(&mut c), "numbers: 0 0 0 0 0 0");
}

#[test]
fn same_seed_same_draw_different_seed_different_draw() {
    let run = |seed: &str| {
        let s = server(&["--seed", seed]);
        let mut c = s.connect();
        (0..6).map(|_| send_gen(&mut c)).collect::<Vec<_>>()
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn unseeded_servers_draw_from_the_os() {
    // Two unseeded servers drawing the same six numbers in the same order would be a
    // one-in-billions coincidence; it would mean the seed is fixed.
    let run = || {
        let s = server(&[]);
        let mut c = s.connect();
        (0..6).map(|_| send_gen(&mut c)).collect::<Vec<_>>()
    };
    assert_ne!(run(), run());
}

#[test]
fn unknown_command_is_answered_and_the_session_goes_on() {
    let mut s = server(&["--seed", "3"]);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, [7, 0, 0, 0]), "Unknown command: 7");
    assert_eq!(ask(&mut c, [0xff, 0xff, 0xff, 0xff]), "Unknown command: -1");
    // A big-endian 1 (what a portable-looking htonl(1) client sends) is not LIST.
    assert_eq!(ask(&mut c, [0, 0, 0, 1]), "Unknown command: 16777216");
    assert_eq!(
        send_gen(&mut c),
        format!("New number generated: {}", expected_draw(3)[0])
    );
    s.proc.expect_line("the unknown command logged", |l| {
        l.contains("command 7 -> Unknown command: 7")
    });
}

#[test]
fn half_a_command_then_eof_is_logged_and_the_server_goes_on() {
    let mut s = server(&["--seed", "5"]);
    {
        let mut c = s.connect();
        c.write_all(&[0, 0]).unwrap();
    } // closed after 2 of 4 bytes
    let line = s
        .proc
        .expect_stderr_line("about the half command", |l| l.contains("2 of 4 bytes"));
    assert!(
        line.starts_with("lotteryserver: 127.0.0.1:")
            && line.ends_with(": connection closed after 2 of 4 bytes of a command\n"),
        "{line:?}"
    );
    let mut c = s.connect();
    assert_eq!(
        send_gen(&mut c),
        format!("New number generated: {}", expected_draw(5)[0])
    );
}

#[test]
fn a_reset_mid_session_does_not_kill_the_server() {
    let mut s = server(&["--seed", "5"]);
    for _ in 0..3 {
        let c = s.connect();
        // Send GEN and abort at once (RST): the server's reply goes to a dead socket.
        (&c).write_all(&[0, 0, 0, 0]).unwrap();
        unp::sock::set_linger(&c, Some(Duration::ZERO)).unwrap();
        drop(c);
    }
    let mut c = s.connect();
    let reply = send_gen(&mut c);
    assert!(
        reply.starts_with("New number generated: ") || reply == "Full",
        "{reply}"
    );
    assert!(s.proc.is_running());
}

#[test]
fn a_client_leaving_without_end_does_not_end_the_server_and_the_draw_stays() {
    let s = server(&["--seed", "11"]);
    let first = expected_draw(11);
    {
        let mut c = s.connect();
        assert_eq!(
            send_gen(&mut c),
            format!("New number generated: {}", first[0])
        );
    } // leaves without END
    let mut c = s.connect();
    assert_eq!(
        list(&mut c),
        list_text(&first[..1]),
        "the draw lives as long as the server"
    );
    assert_eq!(
        send_gen(&mut c),
        format!("New number generated: {}", first[1])
    );
}

#[test]
fn requirement_4_second_client_waits_for_the_first_with_the_iterative_server() {
    let s = server(&["--seed", "9"]);
    let numbers = expected_draw(9);
    let mut first = s.connect();
    assert_eq!(
        send_gen(&mut first),
        format!("New number generated: {}", numbers[0])
    );

    // The second client's connect succeeds: the kernel completes the handshake and
    // queues the connection (listen backlog) although nobody accepts it yet.
    let mut second = s.connect();
    second.write_all(&Command::Gen.encode()).unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 255];
    let waiting = second.read(&mut buf);
    assert!(
        matches!(&waiting, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "the second client must get no reply while the first is served: {waiting:?}"
    );
    // The first client is still served meanwhile.
    assert_eq!(
        send_gen(&mut first),
        format!("New number generated: {}", numbers[1])
    );

    drop(first); // leaves (without END): the server accepts the queued client
    second.set_read_timeout(Some(TIMEOUT)).unwrap();
    let n = second.read(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        format!("New number generated: {}", numbers[2]),
        "the queued GEN is answered once the first client has left"
    );
}

fn ten_clients_at_once(mode: &str) -> (Server, Vec<Vec<String>>) {
    let s = server(&["--seed", "1", "--concurrency", mode]);
    let mut clients: Vec<TcpStream> = (0..10).map(|_| s.connect()).collect();
    // Every client is connected before any speaks; each is answered while all ten
    // connections are open, which an iterative server could not do.
    let answers = clients
        .iter_mut()
        .map(|c| vec![send_gen(c), list(c)])
        .collect::<Vec<_>>();
    for c in &mut clients {
        c.write_all(&Command::End.encode()).unwrap();
        assert!(sees_close(c), "END closes that session");
    }
    (s, answers)
}

#[cfg(target_os = "linux")]
fn assert_no_zombies(s: &Server) {
    let pid = s.proc.pid();
    assert!(
        wait_until(TIMEOUT, || testkit::children_with_state(pid).is_empty()),
        "children left: {:?}",
        testkit::children_with_state(pid)
    );
}

#[cfg(not(target_os = "linux"))]
fn assert_no_zombies(_s: &Server) {}

#[test]
fn fork_mode_serves_ten_at_once_each_with_its_own_draw_and_no_zombies() {
    let (mut s, answers) = ten_clients_at_once("fork");
    let first = expected_draw(1)[0];
    for a in &answers {
        // Each child starts from its own copy of the seeded generator: the same
        // first number for everyone, and each LIST shows only that client's draw.
        assert_eq!(a[0], format!("New number generated: {first}"));
        assert_eq!(a[1], list_text(&[first]));
    }
    assert_no_zombies(&s);
    assert!(
        s.proc.is_running(),
        "END ends only the session in fork mode"
    );
    let mut c = s.connect();
    assert_eq!(send_gen(&mut c), format!("New number generated: {first}"));
}

#[test]
fn unseeded_fork_mode_children_seed_after_the_fork() {
    // Seeded before the fork, every child would copy one generator state and every
    // client would draw the same six numbers.
    let s = server(&["--concurrency", "fork"]);
    let mut a = s.connect();
    let mut b = s.connect();
    let draws: Vec<Vec<String>> = [&mut a, &mut b]
        .into_iter()
        .map(|c| (0..6).map(|_| send_gen(c)).collect())
        .collect();
    assert_ne!(draws[0], draws[1]);
}

#[test]
fn thread_mode_serves_ten_at_once_sharing_one_draw() {
    let (mut s, answers) = ten_clients_at_once("thread");
    let draw = expected_draw(1);
    let gens: Vec<&String> = answers.iter().map(|a| &a[0]).collect();
    for (i, g) in gens.iter().enumerate() {
        let want = match draw.get(i) {
            Some(n) => format!("New number generated: {n}"),
            None => "Full".to_string(),
        };
        assert_eq!(**g, want, "client {i}: one shared draw, six numbers in all");
    }
    assert_eq!(answers[9][1], list_text(&draw));
    assert!(
        s.proc.is_running(),
        "END ends only the session in thread mode"
    );
    #[cfg(target_os = "linux")]
    assert!(
        testkit::children_with_state(s.proc.pid()).is_empty(),
        "threads, no processes"
    );
}

#[test]
fn requirement_2_a_second_server_on_the_same_port_fails_with_eaddrinuse() {
    let first = server(&[]);
    let port = first.port().to_string();
    let (status, out, err) = run_with_input(SERVER, &[&port], b"");
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "lotteryserver: bind error: Address already in use (EADDRINUSE)\n"
    );
}

fn client_session(seed: u64, input: &[u8]) -> (std::process::ExitStatus, String, String, Server) {
    let s = server(&["--seed", &seed.to_string()]);
    let port = s.port().to_string();
    let (status, out, err) = run_with_input(CLIENT, &["127.0.0.1", &port], input);
    (status, out, err, s)
}

#[test]
fn client_prints_the_handout_transcript() {
    let (status, out, err, mut s) = client_session(2, b"0\n0\n0\n1\n0\n0\n0\n0\n1\n2\n");
    let d = expected_draw(2);
    // Piped input is not echoed, so each reply follows its prompt on the same line.
    let want = format!(
        "{p}New number generated: {}\n{p}New number generated: {}\n{p}New number generated: {}\n\
         {p}{}\n{p}New number generated: {}\n{p}New number generated: {}\n\
         {p}New number generated: {}\n{p}Full\n{p}{}\n{p}",
        d[0],
        d[1],
        d[2],
        list_text(&d[..3]),
        d[3],
        d[4],
        d[5],
        list_text(&d),
        p = PROMPT
    );
    assert_eq!(out, want);
    assert_eq!(err, "");
    assert_eq!(status.code(), Some(0));
    let (server_status, _, _) = s.proc.wait_exit();
    assert_eq!(
        server_status.code(),
        Some(0),
        "the client's END ended the server"
    );
}

#[test]
fn client_accepts_words_in_any_case_and_reports_bad_input() {
    let (status, out, err, _s) = client_session(4, b"gen\nfoo\n9\n\n  List \nEND\n");
    let d = expected_draw(4);
    assert_eq!(
        out,
        format!(
            "{p}New number generated: {}\n{p}{p}{p}{p}{}\n{p}",
            d[0],
            list_text(&d[..1]),
            p = PROMPT
        ),
        "bad input sends nothing and prompts again"
    );
    assert_eq!(
        err,
        "lotteryclient: unknown command \"foo\"; type 0 or GEN, 1 or LIST, 2 or END\n\
         lotteryclient: unknown command \"9\"; type 0 or GEN, 1 or LIST, 2 or END\n"
    );
    assert_eq!(status.code(), Some(0));
}

#[test]
fn end_of_input_acts_as_end() {
    let (status, out, err, mut s) = client_session(6, b"1\n");
    assert_eq!(out, format!("{PROMPT}numbers: 0 0 0 0 0 0\n{PROMPT}"));
    assert_eq!(err, "");
    assert_eq!(status.code(), Some(0));
    let (server_status, server_out, _) = s.proc.wait_exit();
    assert_eq!(server_status.code(), Some(0), "the server got END");
    assert!(server_out.contains(": END\n"), "{server_out}");
}

#[test]
fn client_reports_a_server_that_closes_without_replying() {
    // A stand-in server that reads one command and hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let fake = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut cmd = [0u8; 4];
        conn.read_exact(&mut cmd).unwrap();
        cmd
    });
    let mut client = Proc::spawn(CLIENT, &["127.0.0.1", &port]);
    client.write_stdin(b"0\n");
    assert_eq!(fake.join().unwrap(), [0, 0, 0, 0], "GEN is four zero bytes");
    let (status, out, err) = client.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, PROMPT);
    assert_eq!(
        err,
        "lotteryclient: the server ended this session without a reply (did another client send END, or was the server stopped?): it closed the connection\n"
    );
}

#[test]
fn client_without_a_server_says_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (status, out, err) = run_with_input(CLIENT, &["127.0.0.1", &port.to_string()], b"");
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "lotteryclient: connect error: Connection refused (ECONNREFUSED)\n"
    );
}

#[test]
fn client_and_server_over_ipv6() {
    if TcpListener::bind("[::1]:0").is_err() {
        return testkit::skip(
            "UNPLAB_REQUIRE_IPV6",
            "this machine has no IPv6 loopback (::1)",
        );
    }
    let s = server(&["--seed", "1"]);
    let port = s.port().to_string();
    let (status, out, _) = run_with_input(CLIENT, &["::1", &port], b"0\n2\n");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        out,
        format!(
            "{PROMPT}New number generated: {}\n{PROMPT}",
            expected_draw(1)[0]
        )
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_privileged_port_without_privileges_is_explained() {
    // As root, the server runs as a fresh user in a network namespace of its own, where
    // port 80 is privileged whatever this machine's ip_unprivileged_port_start says.
    let Some(out) = testkit::run_without_privileges(SERVER, &["80"], 80) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "lotteryserver: bind error: Permission denied (EACCES): port 80 is a privileged port \
         (below 1024): only root may listen on it; choose another port, e.g. lotteryserver 10000\n"
    );
}

#[test]
fn a_queued_client_is_told_when_another_client_ends_the_server() {
    let s = server(&["--seed", "1"]);
    let mut first = s.connect();
    assert_eq!(list(&mut first), "numbers: 0 0 0 0 0 0");
    // The second client (the real program) connects, is queued, and sends GEN.
    let port = s.port().to_string();
    let mut second = Proc::spawn(CLIENT, &["127.0.0.1", &port]);
    second.write_stdin(b"0\n");
    #[cfg(target_os = "linux")]
    assert!(
        wait_until(TIMEOUT, || queued_bytes(s.port()) == 4),
        "the second client's GEN waits in the queued connection"
    );
    // The first client's END ends the iterative server; closing the listening socket
    // resets the connection nobody accepted.
    first.write_all(&Command::End.encode()).unwrap();
    let (status, out, err) = second.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(out, PROMPT);
    assert!(
        err.starts_with("lotteryclient: the server ended this session without a reply (did another client send END, or was the server stopped?): "),
        "{err}"
    );
}

/// Linux: bytes waiting unread in the server side of a connection to `port` that has
/// data queued (the Recv-Q of /proc/net/tcp{,6}), or 0.
#[cfg(target_os = "linux")]
fn queued_bytes(port: u16) -> u64 {
    let local = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|line| {
            line.split_whitespace()
                .nth(1)
                .is_some_and(|l| format!("{l} ").ends_with(&local))
        })
        .filter_map(|line| {
            let queues = line.split_whitespace().nth(4)?;
            let rx = queues.split(':').nth(1)?;
            u64::from_str_radix(rx, 16).ok()
        })
        .max()
        .unwrap_or(0)
}
