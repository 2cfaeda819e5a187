//! zoo: a UDP echo server with one deliberate mistake. `udp_echo_server PORT BUG`.

use std::net::{SocketAddr, UdpSocket};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse::<u16>().ok()).unwrap_or(10000);
    let bug = args.get(2).cloned().unwrap_or_default();
    let sock = match UdpSocket::bind(("0.0.0.0", port)) {
        Ok(s) => s,
        Err(e) if bug == "no-bind-check" => {
            let _ = e; // the error ignored: goes on with a socket the kernel bound anywhere
            match UdpSocket::bind(("0.0.0.0", 0)) {
                Ok(s) => s,
                Err(_) => return,
            }
        }
        Err(e) => {
            eprintln!("udp_echo_server: bind error: {e}");
            std::process::exit(1);
        }
    };
    let other = UdpSocket::bind(("0.0.0.0", 0)).ok();
    let mut first: Option<SocketAddr> = None;
    let mut buf = [0u8; 255];
    loop {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        if n == 0 && bug == "dies-on-empty" {
            return; // took recvfrom() returning 0 for an end of file
        }
        let to = match (bug.as_str(), first) {
            ("first-client", Some(f)) => f, // replies to the first client it ever saw
            _ => from,
        };
        first.get_or_insert(from);
        let mut len = n;
        if bug == "strlen" {
            len = buf[..n].iter().position(|&b| b == 0).unwrap_or(n); // strlen(message)
        }
        let via = match (bug.as_str(), &other) {
            ("other-port", Some(o)) => o, // answers from another socket
            _ => &sock,
        };
        let _ = via.send_to(&buf[..len], to);
        println!("Received packet from {from}\nData: {}\n", String::from_utf8_lossy(&buf[..n]));
    }
}
