//! zoo: a file server with one deliberate mistake. `ft_server PORT BUG [iterative]`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse::<u16>().ok()).unwrap_or(10000);
    let bug = args.get(2).cloned().unwrap_or_default();
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ft_server: bind error: {e}");
            std::process::exit(1);
        }
    };
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        serve(&mut conn, &bug);
        if bug == "no-close" {
            std::thread::sleep(std::time::Duration::from_secs(600)); // keeps the connection open
        }
        drop(conn);
        if bug != "no-exit" {
            return;
        }
    }
}

fn serve(conn: &mut TcpStream, bug: &str) {
    let mut path = [0u8; 256];
    let Ok(n) = conn.read(&mut path) else { return };
    let path = String::from_utf8_lossy(&path[..n]).into_owned();
    let refused = path.starts_with('/') || path.split('/').any(|c| c == "..");
    if refused && bug != "traversal" {
        return;
    }
    let Ok(mut file) = std::fs::File::open(&path) else { return };
    let mut buf = [0xAAu8; 256];
    loop {
        let Ok(len) = file.read(&mut buf) else { return };
        if len == 0 {
            return;
        }
        let mut seg = Vec::with_capacity(260);
        let l = len as i32;
        seg.extend_from_slice(&if bug == "len-big-endian" { l.to_be_bytes() } else { l.to_le_bytes() });
        seg.extend_from_slice(&buf);
        if bug == "short-last" {
            seg.truncate(4 + len); // the last segment not padded to 260 bytes
        }
        if conn.write_all(&seg).is_err() {
            return;
        }
    }
}
