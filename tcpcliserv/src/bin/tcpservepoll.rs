//! tcpservepoll — echo server on Linux's `epoll`: one process, one thread, and a cost
//! per call that grows with the number of *ready* clients, not of all clients.
//!
//! The lesson is `tcpservepoll` in `src/multiplex/epoll.rs`. epoll is Linux-only: on
//! macOS this program builds but only says so (the BSD counterpart is kqueue; use
//! tcpservpoll01 there).

#[cfg(target_os = "linux")]
fn main() {
    use clap::Parser;
    use tcpcliserv::args::{self, ServerArgs};
    use tcpcliserv::multiplex::{Options, Wait, epoll};

    /// `tcpservepoll [-p PORT] [--readline]`.
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        server: ServerArgs,
        /// Read each ready client with readline (UNP 6.8's denial of service)
        #[arg(long)]
        readline: bool,
    }
    unp::run(|| {
        let a: Args = args::parse("Echo server on epoll (Linux): one process for every client");
        let opts = Options {
            wait: Wait::Forever,
            course_lines: false,
            readline: a.readline,
        };
        epoll::tcpservepoll(a.server.port, opts)
    })
}

#[cfg(not(target_os = "linux"))]
fn main() {
    unp::err_msg("epoll is Linux-only; on this system use tcpservpoll01 (or kqueue)");
    std::process::exit(1);
}
