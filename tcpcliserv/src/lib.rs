//! # tcpcliserv — the first programs of UNP (chapters 1 and 5) and the Lab 3 echo pair
//!
//! Where is what a student looks for:
//!
//! | module | what it teaches | UNP source |
//! |---|---|---|
//! | [`proto`] | the bytes on the wire: daytime, echo, text and binary sum (pure functions, no sockets) | intro/, tcpcliserv/str_echo*.c |
//! | [`server`] | `listen` + the "listening on" line; `str_echo`; **the fork** ([`server::serve_forking`]), the thread per client, the iterative server; `EINTR` from `accept` | tcpcliserv/tcpserv0*.c, threads/tcpserv01.c |
//! | [`sigchld`] | reaping children: `wait` once per signal vs a `waitpid(WNOHANG)` loop | tcpcliserv/sigchldwait.c, sigchldwaitpid.c |
//! | [`client`] | `str_cli` and its variants: binary requests, writing a line in two parts | tcpcliserv/str_cli*.c |
//! | [`daytime`] | the daytime server and client, `ctime` in local time | intro/daytimetcp*.c |
//! | [`args`] | the command lines: `-p PORT` for servers, `HOST -p PORT` for clients | — |
//!
//! The programs (`src/bin/`) are a few lines each, so they can be compared:
//!
//! | program | what it shows |
//! |---|---|
//! | `daytimetcpsrv`, `daytimetcpcli` | the smallest server and client; the server closes to end the reply |
//! | `tcpserv01` | fork per client and no SIGCHLD handler: every finished child stays a zombie |
//! | `tcpserv02` | a handler that calls `wait` once per signal: simultaneous exits still leave zombies |
//! | `tcpserv04` | a `waitpid` loop, and `accept` interrupted by the handler (`EINTR`) is restarted: the correct server |
//! | `tcpservthread` | a thread per client: no processes, no zombies |
//! | `tcpserv08`/`tcpcli08`, `tcpserv09`/`tcpcli09` | the sum as text and as binary |
//! | `tcpcli01` | `str_cli`: line in, echo out |
//! | `tcpcli04` | five connections that close together (for tcpserv02 vs tcpserv04) |
//! | `tcpcli07` | SIGALRM from `setitimer` ends the client |
//! | `tcpcli10` | `SO_LINGER` 0: close sends RST |
//! | `tcpcli11` | writing to a dead peer: RST, then SIGPIPE |
//! | `tsigpipe` | catching SIGPIPE: the handler runs, then `write` fails with `EPIPE` |
//! | `echoserver`, `echoclient` | the lab's iterative echo: a second client waits |

pub mod args;
pub mod client;
pub mod daytime;
pub mod proto;
pub mod server;
pub mod sigchld;
