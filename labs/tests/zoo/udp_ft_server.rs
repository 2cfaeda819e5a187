//! zoo: the course's UDP file server with one deliberate mistake.
//! `udp_ft_server PORT BUG`: one upload at a time below its working directory, `..`
//! refused, uploads from one client only, a silent upload given up after 1 s.

use std::io::Write;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

const END: &[u8] = b"================END";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse::<u16>().ok()).unwrap_or(49312);
    let bug = args.get(2).cloned().unwrap_or_default();
    let sock = match UdpSocket::bind(("0.0.0.0", port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("udp_ft_server: bind error: {e}");
            std::process::exit(1);
        }
    };
    let mut buf = [0u8; 1024];
    loop {
        let _ = sock.set_read_timeout(None);
        let Ok((n, client)) = sock.recv_from(&mut buf) else { continue };
        let path = String::from_utf8_lossy(&buf[..n]).into_owned();
        println!("Received from client: [{path}]");
        let bad = path.starts_with('/') || path.split('/').any(|c| c == "..");
        let mut open = std::fs::OpenOptions::new();
        open.create(true).write(true);
        match bug.as_str() {
            "append" => open.append(true),  // O_APPEND instead of O_TRUNC
            "no-trunc" => &mut open,        // O_RDWR|O_CREAT only, as the course's server
            _ => open.truncate(true),
        };
        let file = if bad && bug != "traversal" { None } else { open.open(&path).ok() };
        let answer: &[u8] = match (&file, bug.as_str()) {
            (Some(_), "no-ok") => b"OK\n",
            (Some(_), _) => b"ok",
            (None, _) => b"refused",
        };
        let _ = sock.send_to(answer, client);
        let Some(mut file) = file else { continue };
        let idle = Duration::from_secs(1);
        let mut heard = Instant::now(); // the client's last datagram: others do not count
        loop {
            if bug != "ignores-idle" {
                let left = idle.saturating_sub(heard.elapsed()).max(Duration::from_millis(1));
                let _ = sock.set_read_timeout(Some(left));
            }
            let Ok((n, from)) = sock.recv_from(&mut buf) else { break }; // idle: give it up
            if from != client && bug != "any-sender" {
                if heard.elapsed() >= idle && bug != "ignores-idle" {
                    break;
                }
                continue;
            }
            heard = Instant::now();
            if &buf[..n] == END {
                if bug == "writes-end" {
                    let _ = file.write_all(&buf[..n]);
                }
                break;
            }
            let _ = file.write_all(&buf[..n]);
        }
    }
}
