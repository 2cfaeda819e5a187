//! zoo: a lottery client with one deliberate mistake. `lottery_client HOST PORT BUG`.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = args.get(1).cloned().unwrap_or_default();
    let port = args.get(2).and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
    let bug = args.get(3).cloned().unwrap_or_default();
    let mut conn = match TcpStream::connect((host.as_str(), port)) {
        Ok(c) => c,
        Err(_) if bug == "no-connect-check" => return, // connect's -1 ignored: exit 0, silent
        Err(e) => {
            eprintln!("lottery_client: connect error: {e}");
            std::process::exit(1);
        }
    };
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(cmd) = line.trim().parse::<i32>() else { continue };
        let bytes = if bug == "big-endian" { cmd.to_be_bytes() } else { cmd.to_le_bytes() };
        if conn.write_all(&bytes).is_err() {
            std::process::exit(1);
        }
        if cmd == 2 {
            return;
        }
        let mut buf = [0u8; 255];
        loop {
            match conn.read(&mut buf) {
                Ok(0) if bug == "eof-loop" => continue, // read() returned 0 forever: loops on EOF
                Ok(0) | Err(_) => {
                    eprintln!("lottery_client: the server closed the connection");
                    std::process::exit(1);
                }
                Ok(n) => {
                    println!("{}", String::from_utf8_lossy(&buf[..n]));
                    break;
                }
            }
        }
    }
}
