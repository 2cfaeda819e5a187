//! zoo: a lottery server with one deliberate mistake, chosen by its second argument.
//! `lottery_server PORT BUG`; BUG `none` is a correct iterative server. Built by
//! labs/tests/labcheck_zoo.rs with plain rustc (std only), never part of the workspace.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse::<u16>().ok()).unwrap_or(10000);
    let bug = args.get(2).cloned().unwrap_or_default();
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(l) => l,
        // no-bind-check: the return value of bind() is ignored: the program goes on, silent
        Err(_) if bug == "no-bind-check" => loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        },
        Err(e) => {
            eprintln!("lottery_server: bind error: {e}");
            std::process::exit(1);
        }
    };
    let mut numbers: Vec<i32> = Vec::new();
    let mut seed: u32 = std::process::id();
    let mut children = Vec::new();
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        if bug == "zombies" {
            // a child per client, never waited for: it stays a zombie
            if let Ok(c) = std::process::Command::new("true").spawn() {
                children.push(c);
            }
        }
        let ended = serve(&mut conn, &bug, &mut numbers, &mut seed);
        drop(conn);
        if ended && bug != "no-exit" {
            return;
        }
    }
}

fn draw(bug: &str, numbers: &[i32], seed: &mut u32) -> i32 {
    if bug == "repeat" {
        return 7;
    }
    if bug == "range" {
        return 46 - numbers.len() as i32; // 46 is not a lottery number
    }
    loop {
        *seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        let n = (*seed >> 16) as i32 % 45 + 1;
        if !numbers.contains(&n) {
            return n;
        }
    }
}

/// Serves one client; true when it sent END.
fn serve(conn: &mut TcpStream, bug: &str, numbers: &mut Vec<i32>, seed: &mut u32) -> bool {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let mut buf = [0u8; 64];
        let want = if bug == "one-read" { 4 } else { 64 };
        let n = match conn.read(&mut buf[..want]) {
            Ok(0) | Err(_) if bug == "eof-exit" => std::process::exit(0),
            // err_sys("read error"): a reset by one client ends the whole server
            Err(_) if bug == "dies-on-vanish" => std::process::exit(1),
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if bug == "one-read" {
            // one read() taken as one command, whatever it returned
            pending = buf[..4].to_vec();
        } else if bug == "first-only" {
            // answers the first command of what one read returned, drops the rest
            pending.extend_from_slice(&buf[..n]);
            pending.truncate(4);
        } else {
            pending.extend_from_slice(&buf[..n]);
        }
        while pending.len() >= 4 {
            let four = [pending[0], pending[1], pending[2], pending[3]];
            pending.drain(..4);
            let cmd = if bug == "big-endian" { i32::from_be_bytes(four) } else { i32::from_le_bytes(four) };
            let reply = match cmd {
                0 if numbers.len() == 6 && bug != "no-full" => "Full".to_string(),
                0 => {
                    let n = draw(bug, numbers, seed);
                    numbers.push(n);
                    format!("New number generated: {n}")
                }
                1 => {
                    let mut s: Vec<String> = numbers.iter().take(6).map(|n| n.to_string()).collect();
                    s.resize(6, "0".into());
                    format!("numbers: {}", s.join(" "))
                }
                2 if bug == "no-close-on-end" => continue,
                2 => return true,
                _ if bug == "unknown-ends" => std::process::exit(0),
                c => format!("Unknown command: {c}"),
            };
            let reply = if bug == "terminator" { reply + "\n" } else { reply };
            if conn.write_all(reply.as_bytes()).is_err() {
                if bug == "dies-on-vanish" {
                    std::process::exit(141); // what SIGPIPE's default action would do
                }
                return false;
            }
        }
        if bug == "one-read" {
            pending.clear();
        }
    }
}
