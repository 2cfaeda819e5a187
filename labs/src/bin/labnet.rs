//! labnet: two computers (network namespaces), a bad network between them (a link in
//! user space with loss, delay, reordering, duplication, a rate limit) and a capture of
//! that link, in one command. See `labs::labnet` and docs/labnet.md.

#[cfg(target_os = "linux")]
mod cli {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use clap::{Args, Parser, Subcommand};
    use labs::labnet::impair::{self, Impairments, PerDirection};
    use labs::labnet::names::{DEFAULT_NAME, Names, Side};
    use labs::labnet::scenario::{self, Play, Scenario};
    use labs::labnet::session::{LinkOptions, with_network};
    use labs::labnet::tap::CaptureMode;
    use labs::labnet::{bench, command, control, daemon, link, netem, report, signals};

    #[derive(Parser)]
    #[command(
        name = "labnet",
        about = "Two network namespaces joined by an impaired link, captured to a pcap",
        after_help = "Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN). Values apply to both \
                      directions; `A,B` sets client→server A and server→client B."
    )]
    struct Cli {
        #[command(subcommand)]
        command: Cmd,
    }

    #[derive(Subcommand)]
    enum Cmd {
        /// Build the network and be its link until Ctrl-C or SIGTERM, then tear down
        ///
        /// The impairments are done by labnet's own link, a program between two TUN
        /// devices, also on a kernel that has netem: one implementation on every
        /// kernel, the one labnet's tests measure (many kernels, this project's CI's
        /// among them, have no sch_netem). `labnet up` says whether yours has it.
        Up(LinkArgs),
        /// Run a lab's server and client across the link, show the transcript and capture
        Run {
            /// lottery, ft, echo, daytime, sum, udpecho, udpft, rft, udpseq, echo-select,
            /// echo-iterative or daemon
            #[arg(value_parser = Scenario::parse)]
            scenario: Scenario,
            /// The client uses the server's IPv6 address
            #[arg(long)]
            ipv6: bool,
            /// Size of the file the ft, udpft and rft scenarios transfer (4096, 1MiB, 200MB)
            #[arg(long, default_value = "1MiB", value_parser = bench::size)]
            size: u64,
            /// How long the client may run, in seconds
            #[arg(long, default_value_t = 120)]
            limit: u64,
            #[command(flatten)]
            link: LinkArgs,
        },
        /// Measure ft's throughput for each loss and delay: a table, and a chart (--svg)
        Bench(BenchArgs),
        /// Run a command inside the client's or the server's namespace
        Exec {
            /// client or server
            #[arg(value_parser = Side::parse)]
            side: Side,
            /// The command and its arguments
            #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
            command: Vec<String>,
            #[arg(long, default_value = DEFAULT_NAME)]
            name: String,
        },
        /// Open a shell inside the client's or the server's namespace, its prompt
        /// starting `[labnet:NAME client]` or `[labnet:NAME server]`
        Shell {
            /// client or server
            #[arg(value_parser = Side::parse)]
            side: Side,
            #[arg(long, default_value = DEFAULT_NAME)]
            name: String,
        },
        /// Tear a network down (its link is stopped; namespaces, files removed)
        Down {
            #[arg(long, default_value = DEFAULT_NAME)]
            name: String,
        },
    }

    #[derive(Args)]
    struct BenchArgs {
        /// The scenario measured: ft
        #[arg(value_parser = |s: &str| match Scenario::parse(s)? {
            Scenario::Ft => Ok(Scenario::Ft),
            _ => Err("only ft can be measured".to_string()),
        })]
        scenario: Scenario,
        /// Loss rates, each applied both ways (a bare number is in %)
        #[arg(long, value_delimiter = ',', default_value = "0,1,5,10",
              value_parser = impair::percent)]
        loss: Vec<f64>,
        /// One-way delays, each applied both ways (a bare number is in ms)
        #[arg(long, value_delimiter = ',', default_value = "0,50,200",
              value_parser = impair::duration)]
        delay: Vec<Duration>,
        /// Size of the file transferred (4096, 1MiB, 200MB)
        #[arg(long, default_value = "1MiB", value_parser = bench::size)]
        size: u64,
        /// Transfers per row; the row shows the one of median time
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=99))]
        runs: u64,
        /// Seed of the first run's random draws (the next runs take the next seeds)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How long one transfer may take, in seconds
        #[arg(long, default_value_t = 120)]
        limit: u64,
        /// Also draw throughput against loss, a line per delay, into this SVG file
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Network name (built and removed for each transfer)
        #[arg(long, default_value = "labnet-bench")]
        name: String,
    }

    #[derive(Args)]
    struct LinkArgs {
        /// Network name: namespaces NAME-client and NAME-server
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
        /// Share of packets dropped, e.g. 10%
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::percent))]
        loss: Option<PerDirection<f64>>,
        /// One-way delay, e.g. 100ms
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::duration))]
        delay: Option<PerDirection<Duration>>,
        /// Delay varies uniformly by up to this much, e.g. 10ms
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::duration))]
        jitter: Option<PerDirection<Duration>>,
        /// Share of packets sent ahead of the others, e.g. 5%
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::percent))]
        reorder: Option<PerDirection<f64>>,
        /// Share of packets sent twice, e.g. 1%
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::percent))]
        duplicate: Option<PerDirection<f64>>,
        /// Link rate, e.g. 10mbit
        #[arg(long, value_parser = |s: &str| impair::both_ways(s, impair::rate))]
        rate: Option<PerDirection<Option<u64>>>,
        /// Seed for the random draws, for a reproducible run
        #[arg(long)]
        seed: Option<u64>,
        /// Where the capture of the link goes (default: NAME.pcap, NAME-SCENARIO.pcap)
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Capture what each host sent (before the link's impairments: drops show),
        /// what the link delivered (after them: duplicates, reordering show), or both
        /// (the second file is FILE-delivered.pcap)
        #[arg(long, default_value_t, value_parser = CaptureMode::parse)]
        capture: CaptureMode,
        /// Bytes of each packet the capture keeps (e.g. 128: headers only, a smaller
        /// file and a faster link; the payloads are cut)
        #[arg(long, default_value_t = labs::labnet::pcap::SNAPLEN,
              value_parser = clap::value_parser!(u32).range(1..=65535))]
        snaplen: u32,
    }

    impl LinkArgs {
        fn impairments(&self) -> PerDirection<Impairments> {
            let pick = |to_server: bool| Impairments {
                loss: way(self.loss, to_server).unwrap_or(0.0),
                delay: way(self.delay, to_server).unwrap_or_default(),
                jitter: way(self.jitter, to_server).unwrap_or_default(),
                reorder: way(self.reorder, to_server).unwrap_or(0.0),
                duplicate: way(self.duplicate, to_server).unwrap_or(0.0),
                rate: way(self.rate, to_server).flatten(),
            };
            PerDirection {
                to_server: pick(true),
                to_client: pick(false),
            }
        }

        fn options(&self, default_pcap: String) -> LinkOptions {
            LinkOptions {
                impairments: self.impairments(),
                seed: self.seed,
                pcap: self.pcap.clone().unwrap_or_else(|| default_pcap.into()),
                capture: self.capture,
                snaplen: self.snaplen,
            }
        }
    }

    /// One direction's value of an option, if given.
    fn way<T: Copy>(o: Option<PerDirection<T>>, to_server: bool) -> Option<T> {
        o.map(|p| if to_server { p.to_server } else { p.to_client })
    }

    /// A network's names; its index is the one it has (exec, shell, down), or is
    /// chosen when it is built (up, run).
    fn names(name: &str) -> unp::Result<Names> {
        Names::existing(name).map_err(unp::Error::msg)
    }

    fn announce(names: &Names, opts: &LinkOptions) {
        let imp = &opts.impairments;
        println!(
            "labnet: {} {} / {} <-> {} {} / {}",
            names.netns(Side::Client),
            names.ipv4(Side::Client),
            names.ipv6(Side::Client),
            names.netns(Side::Server),
            names.ipv4(Side::Server),
            names.ipv6(Side::Server)
        );
        println!(
            "labnet: link client→server: {}; server→client: {}; capture: {}",
            imp.to_server,
            imp.to_client,
            report::capture_files(&opts.pcap, opts.capture)
        );
    }

    fn up(args: &LinkArgs, stop: &AtomicBool) -> unp::Result<()> {
        let names = names(&args.name)?;
        let opts = args.options(format!("{}.pcap", args.name));
        let ((), stats) = with_network(&names, &opts, stop, |n, ended| {
            announce(n, &opts);
            println!("{}", netem::verdict(&netem::probe(&n.netns(Side::Client))));
            println!(
                "labnet: up; in other terminals: `{}`, `{}`; Ctrl-C or `{}` ends it",
                n.command("shell", "server"),
                n.command("shell", "client"),
                n.command("down", "")
            );
            while !ended.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        })?;
        println!("{}", link::describe(&stats));
        Ok(())
    }

    fn run(args: &LinkArgs, play: Play, stop: &AtomicBool) -> unp::Result<()> {
        let names = names(&args.name)?;
        let opts = args.options(format!("{}-{}.pcap", args.name, play.scenario));
        let workdir = play.workdir.clone();
        let udp = play.scenario.is_udp();
        let result = with_network(&names, &opts, stop, |n, ended| {
            announce(n, &opts);
            scenario::play(n, &play, ended)
        });
        // What a daemon's double fork left to labnet (its subreaper), also after an
        // error: teardown ended it, labnet reaps it.
        daemon::reap_adopted();
        let _ = std::fs::remove_dir_all(&workdir);
        let (_, stats) = result?;
        println!("{}", link::describe(&stats));
        let tshark = labs::tcp::wireshark::tshark_version(); // both reports follow its Wireshark's rules
        if !udp {
            report::repairs(&opts.pcap, opts.capture, tshark.as_deref());
        }
        report::explain(&opts.pcap, tshark.as_deref())
    }

    fn bench(args: BenchArgs, stop: &AtomicBool) -> unp::Result<()> {
        let plan = bench::Plan {
            workdir: std::env::temp_dir().join(format!(
                "labnet-{}-{}",
                args.name,
                std::process::id()
            )),
            name: args.name,
            losses: args.loss,
            delays: args.delay,
            size: args.size,
            runs: args.runs as usize,
            seed: args.seed,
            limit: Duration::from_secs(args.limit),
        };
        println!(
            "labnet bench {}: {} bytes, {} run(s) per row from seed {}; each run builds a \
             network, transfers, tears it down (the `ip` commands are not shown)",
            args.scenario, plan.size, plan.runs, plan.seed
        );
        command::set_quiet(true);
        let rows = bench::measure(&plan, stop);
        command::set_quiet(false);
        let rows = rows?;
        if let Some(path) = args.svg {
            std::fs::write(&path, bench::chart(&rows, plan.size))
                .map_err(|e| unp::Error::os("write", e).with_detail(path.display().to_string()))?;
            println!("labnet: chart written to {}", path.display());
        }
        Ok(())
    }

    pub fn main() -> unp::Result<()> {
        let cli = Cli::parse();
        command::check_privilege()?;
        match cli.command {
            Cmd::Up(args) => up(&args, &*signals::stop_flag()?),
            Cmd::Run {
                scenario,
                ipv6,
                size,
                limit,
                link,
            } => {
                let workdir = std::env::temp_dir().join(format!(
                    "labnet-{}-{}",
                    link.name,
                    std::process::id()
                ));
                let play = Play {
                    scenario,
                    ipv6,
                    size,
                    workdir,
                    limit: Duration::from_secs(limit),
                    transcript: true,
                };
                run(&link, play, &*signals::stop_flag()?)
            }
            Cmd::Bench(args) => bench(args, &*signals::stop_flag()?),
            Cmd::Exec {
                side,
                command,
                name,
            } => {
                let (program, rest) = command.split_first().unwrap_or((&command[0], &[]));
                control::exec(&names(&name)?, side, program, rest)
            }
            Cmd::Shell { side, name } => control::shell(&names(&name)?, side),
            Cmd::Down { name } => control::down(&names(&name)?),
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    // `labnet run ... | head` closes our stdout early: println! then panics, the panic
    // unwinds through the network's guards (the teardown runs), and here it becomes the
    // quiet exit every unp program makes when its reader goes away, as `cat` would.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !stdout_went_away(info.payload()) {
            default_hook(info);
        }
    }));
    match std::panic::catch_unwind(|| unp::run(cli::main)) {
        Ok(never) => never,
        Err(payload) if stdout_went_away(&*payload) => std::process::exit(0),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// True for std's panic on a failed `println!` to a closed pipe.
#[cfg(target_os = "linux")]
fn stdout_went_away(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}

#[cfg(not(target_os = "linux"))]
fn main() {
    unp::run(|| {
        Err(unp::Error::msg(
            "labnet needs Linux (network namespaces, TUN devices); on this system run the \
             server and the client in two terminals on 127.0.0.1 (no impairments)",
        ))
    })
}
