//! zoo: the course's UDP file client with one deliberate mistake.
//! `udp_ft_client IP ORIGIN COPY PORT BUG`.

use std::io::Read;
use std::net::{SocketAddr, UdpSocket};

const END: &[u8] = b"================END";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let port = arg(4).parse::<u16>().unwrap_or(49312);
    let bug = arg(5);
    let Ok(server) = format!("{}:{port}", arg(1)).parse::<SocketAddr>() else { return };
    let file = std::fs::File::open(arg(2));
    if file.is_err() && bug != "no-open-check" {
        eprintln!("udp_ft_client: open error: {}", arg(2));
        std::process::exit(1);
    }
    let Ok(sock) = UdpSocket::bind(("0.0.0.0", 0)) else { return };
    let mut path = arg(3).into_bytes();
    if bug == "path-newline" {
        path.push(b'\n');
    }
    let _ = sock.send_to(&path, server);
    let mut buf = [0u8; 1024];
    let Ok((n, _)) = sock.recv_from(&mut buf) else { return };
    if buf[..n].starts_with(b"ok") {
        println!("Filename sent.");
    }
    if let Ok(mut file) = file {
        loop {
            let n = file.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            let len = if bug == "whole-buffer" { buf.len() } else { n };
            let _ = sock.send_to(&buf[..len], server);
        }
    }
    if bug != "no-end" {
        let _ = sock.send_to(END, server);
    }
}
