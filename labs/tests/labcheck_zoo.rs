//! The zoo: small programs (labs/tests/zoo/*.rs, std only, built here with rustc) that
//! each make one mistake, chosen by an argument. Checked as a class with `labcheck batch`
//! (which tests the batch too): each mistake is caught by the check named for it, with
//! an explanation that names the cause; the reference programs and the zoo's own correct
//! variants (`none`) pass every check.

mod labcheck_util;

use labcheck_util::reference;
use labcheck_util::zoo::batch;

/// (zoo program, mistake, check that must fail, words its explanation must hold)
const CATCHES: &[(&str, &str, &str, &str)] = &[
    (
        "lottery_server",
        "one-read",
        "lottery.byte-at-a-time",
        "one read() is not one message",
    ),
    (
        "lottery_server",
        "first-only",
        "lottery.two-in-one",
        "two commands can arrive in one segment",
    ),
    (
        "lottery_server",
        "big-endian",
        "lottery.list-empty",
        "wrong byte order",
    ),
    (
        "lottery_server",
        "range",
        "lottery.gen-format",
        "numbers must be 1–45",
    ),
    (
        "lottery_server",
        "repeat",
        "lottery.six-distinct",
        "was drawn already",
    ),
    (
        "lottery_server",
        "no-full",
        "lottery.full",
        "not the one GEN should get",
    ),
    (
        "lottery_server",
        "terminator",
        "lottery.list-empty",
        "no terminator",
    ),
    (
        "lottery_server",
        "no-close-on-end",
        "lottery.end-closes",
        "did not close the connection after END",
    ),
    (
        "lottery_server",
        "no-exit",
        "lottery.end-exits",
        "returns from main after END",
    ),
    (
        "lottery_server",
        "no-bind-check",
        "lottery.second-server",
        "check bind()'s return value",
    ),
    (
        "lottery_server",
        "eof-exit",
        "lottery.eof-between",
        "must not end the server",
    ),
    (
        "lottery_server",
        "unknown-ends",
        "lottery.unknown",
        "must not end the server",
    ),
    (
        "lottery_server",
        "dies-on-vanish",
        "lottery.vanish",
        "must not kill the server",
    ),
    ("lottery_server", "zombies", "lottery.zombies", "waitpid"),
    (
        "lottery_client",
        "big-endian",
        "lottery-client.list",
        "big-endian",
    ),
    (
        "lottery_client",
        "eof-loop",
        "lottery-client.server-closes",
        "loops on EOF",
    ),
    (
        "lottery_client",
        "no-connect-check",
        "lottery-client.refused",
        "check connect()'s return value",
    ),
    ("ft_server", "len-big-endian", "ft.size-1", "big-endian"),
    (
        "ft_server",
        "short-last",
        "ft.size-1",
        "every segment is exactly 260 bytes",
    ),
    (
        "ft_server",
        "traversal",
        "ft.traversal",
        "refuse any path with a `..`",
    ),
    (
        "ft_server",
        "no-close",
        "ft.size-0",
        "close(connfd) after the last segment",
    ),
    (
        "ft_server",
        "no-exit",
        "ft.one-then-exit",
        "one client, one file",
    ),
    ("ft_client", "whole-buffer", "ft-client.size-1", "padding"),
    (
        "ft_client",
        "one-read",
        "ft-client.split-segments",
        "read until all 260 bytes",
    ),
    ("ft_client", "stale-tail", "ft-client.stale-tail", "O_TRUNC"),
    ("ft_client", "eof-loop", "ft-client.size-0", "loops on EOF"),
];

/// The UDP zoo: (zoo program, mistake, check that must fail, words its explanation must hold)
const UDP_CATCHES: &[(&str, &str, &str, &str)] = &[
    (
        "udp_echo_server",
        "first-client",
        "udpecho.two-clients",
        "not one kept from an earlier client",
    ),
    (
        "udp_echo_server",
        "other-port",
        "udpecho.exchange",
        "the socket the request came in on",
    ),
    (
        "udp_echo_server",
        "strlen",
        "udpecho.binary",
        "not strlen()",
    ),
    (
        "udp_echo_server",
        "dies-on-empty",
        "udpecho.empty",
        "not an end of file in UDP",
    ),
    (
        "udp_echo_server",
        "no-bind-check",
        "udpecho.second-server",
        "check bind()'s return value",
    ),
    (
        "udp_echo_client",
        "no-newline",
        "udpecho-client.exchange",
        "with its newline",
    ),
    (
        "udp_echo_client",
        "whole-buffer",
        "udpecho-client.exchange",
        "each line typed is one datagram",
    ),
    (
        "udp_echo_client",
        "resend-at-eof",
        "udpecho-client.eof",
        "Check fgets()'s return value",
    ),
    (
        "udp_echo_client",
        "overwrite-addr",
        "udpecho-client.stranger",
        "never &serv_addr",
    ),
    ("udp_ft_server", "append", "udpft.overwrite", "not O_APPEND"),
    (
        "udp_ft_server",
        "no-trunc",
        "udpft.overwrite",
        "open with O_TRUNC",
    ),
    (
        "udp_ft_server",
        "writes-end",
        "udpft.end",
        "the END marker is in the file",
    ),
    ("udp_ft_server", "any-sender", "udpft.stranger", "UNP 8.8"),
    (
        "udp_ft_server",
        "traversal",
        "udpft.traversal",
        "refuse any path with a `..`",
    ),
    ("udp_ft_server", "no-ok", "udpft.ok", "strncmp"),
    (
        "udp_ft_server",
        "ignores-idle",
        "udpft.no-end",
        "silent for the idle time",
    ),
    (
        "udp_ft_client",
        "path-newline",
        "udpft-client.size-0",
        "ends with a newline",
    ),
    (
        "udp_ft_client",
        "whole-buffer",
        "udpft-client.size-1",
        "not the whole buffer",
    ),
    (
        "udp_ft_client",
        "no-end",
        "udpft-client.size-0",
        "sendto() `================END`",
    ),
    (
        "udp_ft_client",
        "no-open-check",
        "udpft-client.missing",
        "Check open()'s return value",
    ),
    (
        "rft_server",
        "dup-twice",
        "rft.duplicate",
        "was written twice: a packet can come again",
    ),
    (
        "rft_server",
        "arrival-order",
        "rft.reorder",
        "in the order they arrived: datagrams can be reordered",
    ),
    (
        "rft_server",
        "no-fin-ack",
        "rft.size-0",
        "the file arrived whole, but the FIN was never acknowledged",
    ),
    (
        "rft_server",
        "forgets-fin",
        "rft.fin-again",
        "answer a repeated FIN with that ACK again",
    ),
    (
        "rft_server",
        "traversal",
        "rft.traversal",
        "refuse a path with a `..` component",
    ),
    (
        "rft_server",
        "absolute",
        "rft.absolute",
        "an absolute path names a file anywhere: refuse it",
    ),
    (
        "rft_client",
        "no-retransmit",
        "rft-client.loss",
        "your client does not retransmit",
    ),
    (
        "rft_client",
        "tiny-timeout",
        "rft-client.delay",
        "spurious retransmissions: your client's timeout runs out",
    ),
];

/// The zoo's programs, built with rustc.
const PROGRAMS: [&str; 10] = [
    "lottery_server",
    "lottery_client",
    "ft_server",
    "ft_client",
    "udp_echo_server",
    "udp_echo_client",
    "udp_ft_server",
    "udp_ft_client",
    "rft_server",
    "rft_client",
];

#[test]
fn every_mistake_of_the_zoo_is_caught_by_the_check_named_for_it() {
    let references = vec![
        format!(
            "ref-lotteryserver server lottery -- {} {{port}}",
            reference("lotteryserver")
        ),
        format!(
            "ref-lotteryclient client lottery -- {} {{host}} {{port}}",
            reference("lotteryclient")
        ),
        format!(
            "ref-ftserver server ft -- {} {{port}}",
            reference("ftserver")
        ),
        format!(
            "ref-ftclient client ft -- {} {{host}} {{port}} {{remote}} {{local}} --trust-close",
            reference("ftclient")
        ),
    ];
    batch("zoo", references, &PROGRAMS[..4], CATCHES);
}

#[test]
fn every_mistake_of_the_udp_zoo_is_caught_by_the_check_named_for_it() {
    let r = reference;
    let references = vec![
        format!(
            "ref-udpechoserver server udpecho -- {} {{port}}",
            r("udpechoserver")
        ),
        format!(
            "ref-udpechoclient client udpecho -- {} {{host}} {{port}}",
            r("udpechoclient")
        ),
        format!(
            "ref-udpftserver server udpft --idle 1 -- {} --port {{port}} --idle 1",
            r("udpftserver")
        ),
        format!(
            "ref-udpftclient client udpft -- {} {{host}} {{local}} {{remote}} --port {{port}}",
            r("udpftclient")
        ),
        format!(
            "ref-rftserver server rft --idle 1 -- {} --port {{port}} --idle 1",
            r("rftserver")
        ),
        format!(
            "ref-rftclient client rft -- {} {{host}} {{local}} {{remote}} --port {{port}}",
            r("rftclient")
        ),
    ];
    batch("udpzoo", references, &PROGRAMS[4..], UDP_CATCHES);
}
