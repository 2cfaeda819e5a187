//! zoo: a file client with one deliberate mistake. `ft_client HOST PORT REMOTE LOCAL BUG`.

use std::io::{Read, Write};
use std::net::TcpStream;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (host, remote, local) = (a[1].clone(), a[3].clone(), a[4].clone());
    let port = a[2].parse::<u16>().unwrap_or(0);
    let bug = a.get(5).cloned().unwrap_or_default();
    let Ok(mut conn) = TcpStream::connect((host.as_str(), port)) else { std::process::exit(1) };
    if conn.write_all(remote.as_bytes()).is_err() {
        std::process::exit(1);
    }
    let file = if bug == "stale-tail" {
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&local) // no O_TRUNC
    } else {
        std::fs::File::create(&local)
    };
    let Ok(mut file) = file else { std::process::exit(1) };
    loop {
        let mut seg = [0u8; 260];
        let got = if bug == "one-read" {
            conn.read(&mut seg).unwrap_or(0) // one read() taken as one whole segment
        } else {
            let mut have = 0;
            while have < 260 {
                match conn.read(&mut seg[have..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => have += n,
                }
            }
            have
        };
        if got == 0 {
            if bug == "eof-loop" {
                continue; // read() returns 0 forever: loops on EOF
            }
            return;
        }
        let len = i32::from_le_bytes([seg[0], seg[1], seg[2], seg[3]]).clamp(0, 256) as usize;
        let data = if bug == "whole-buffer" { &seg[4..] } else { &seg[4..4 + len] };
        if file.write_all(data).is_err() {
            std::process::exit(1);
        }
    }
}
