//! zoo: a UDP echo client with one deliberate mistake. `udp_echo_client IP PORT BUG`.

use std::io::BufRead;
use std::net::{SocketAddr, UdpSocket};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = args.get(1).cloned().unwrap_or_default();
    let port = args.get(2).and_then(|p| p.parse::<u16>().ok()).unwrap_or(10000);
    let bug = args.get(3).cloned().unwrap_or_default();
    let Ok(mut server) = format!("{host}:{port}").parse::<SocketAddr>() else { return };
    let Ok(sock) = UdpSocket::bind(("0.0.0.0", 0)) else { return };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let mut reply = [0u8; 255];
    loop {
        let last = line.clone();
        line.clear();
        let got = fgets(&mut input, &mut line);
        if got == 0 {
            if bug != "resend-at-eof" {
                return;
            }
            line = last; // fgets() failed and left the buffer as it was
        }
        let mut message = line.clone();
        match bug.as_str() {
            "no-newline" => message.retain(|&b| b != b'\n'),
            "whole-buffer" => message.resize(256, 0), // sizeof(message), not strlen
            _ => {}
        }
        let _ = sock.send_to(&message, server);
        let Ok((n, from)) = sock.recv_from(&mut reply) else { return };
        if bug == "overwrite-addr" {
            server = from; // recvfrom(..., &serv_addr, ...)
        }
        println!("Received a message from the server : {}", String::from_utf8_lossy(&reply[..n]));
    }
}

/// C's fgets(message, 256, stdin): a line with its newline, or its first 255 bytes.
fn fgets(input: &mut impl BufRead, line: &mut Vec<u8>) -> usize {
    while line.len() < 255 {
        let Ok(buf) = input.fill_buf() else { break };
        let Some(&b) = buf.first() else { break };
        input.consume(1);
        line.push(b);
        if b == b'\n' {
            break;
        }
    }
    line.len()
}
