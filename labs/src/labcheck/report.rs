//! Steps and their verdicts, and the three ways to print them: text (a conformance log a
//! student reads), JSON (one object, for scripts) and JUnit XML (for CI systems and
//! autograders).

use std::fmt::Write as _;

use crate::render::json_string;

/// Why a step exists: the handout asks for it, or a careful program must also survive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// What the handout requires (reply texts, formats, END, exit, the second server).
    Handout,
    /// What a careful program must also survive (split commands, resets, many clients).
    Robustness,
}

impl Tag {
    /// `handout` or `robustness`.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Handout => "handout",
            Tag::Robustness => "robustness",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The program did what the step expects.
    Pass,
    /// It did not; the step says what was expected and what came.
    Fail,
    /// Not run (not selected, needs a server labcheck started, or the time limit).
    Skip,
}

impl Verdict {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// What went wrong in a step, in the student's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// What the program should have done.
    pub expected: String,
    /// What it did, with the bytes in hex.
    pub got: String,
    /// Why it matters and what to change.
    pub why: String,
}

impl Failure {
    /// A failure with its three parts.
    pub fn new(
        expected: impl Into<String>,
        got: impl Into<String>,
        why: impl Into<String>,
    ) -> Failure {
        Failure {
            expected: expected.into(),
            got: got.into(),
            why: why.into(),
        }
    }
}

/// One numbered step of a check.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its number in the log: 1, 2, ...
    pub number: usize,
    /// Its stable name, `lottery.gen-format`: what the zoo's tests and `--skip` use.
    pub name: String,
    /// Handout or robustness.
    pub tag: Tag,
    /// One line: what the step does.
    pub title: String,
    /// The verdict.
    pub verdict: Verdict,
    /// On a pass, what was seen (`serial: the second client waited`); on a skip, why.
    pub note: String,
    /// On a failure, the explanation.
    pub failure: Option<Failure>,
    /// What went over the wire and what the program did, in order (`-> 00 00 00 00 GEN`).
    pub transcript: Vec<String>,
    /// The client ports of the connections the step made (to find its segments).
    pub ports: Vec<u16>,
    /// The captured segments of those connections, when a capture was made, then the
    /// UDP datagrams of the step's sockets (each starting `UDP `).
    pub segments: Vec<String>,
    /// How long the step took, in seconds.
    pub secs: f64,
}

/// Everything one run of labcheck found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `server lottery`, `client ft`, ...
    pub subject: String,
    /// The command line checked, or the address.
    pub target: String,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// Remarks on the whole run (fewer checks with `--addr`, where the pcap is, ...).
    pub notes: Vec<String>,
    /// The capture file kept, if one was made.
    pub pcap: Option<String>,
    /// How long the run took, in seconds.
    pub secs: f64,
}

impl Report {
    /// How many steps have this verdict (and this tag, if given).
    pub fn count(&self, verdict: Verdict, tag: Option<Tag>) -> usize {
        self.steps
            .iter()
            .filter(|s| s.verdict == verdict && tag.is_none_or(|t| s.tag == t))
            .count()
    }

    /// True when no step failed.
    pub fn passed(&self) -> bool {
        self.count(Verdict::Fail, None) == 0
    }

    /// The step with this name, if it ran.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The conformance log.
    pub fn text(&self) -> String {
        let mut s = format!("labcheck {}: {}\n", self.subject, self.target);
        for note in &self.notes {
            let _ = writeln!(s, "note: {note}");
        }
        for step in &self.steps {
            let _ = writeln!(
                s,
                "{:>3}. {} [{}] {}: {}",
                step.number,
                step.verdict.name(),
                step.tag.name(),
                step.name,
                step.title
            );
            if !step.note.is_empty() {
                let _ = writeln!(s, "       {}", step.note);
            }
            let Some(f) = &step.failure else { continue };
            for line in &step.transcript {
                let _ = writeln!(s, "       | {line}");
            }
            let _ = writeln!(s, "       expected: {}", f.expected);
            let _ = writeln!(s, "       got:      {}", f.got);
            let _ = writeln!(s, "       why:      {}", f.why);
            for seg in &step.segments {
                let _ = match seg.strip_prefix("UDP ") {
                    Some(datagram) => writeln!(s, "       datagram: {datagram}"),
                    None => writeln!(s, "       segment: {seg}"),
                };
            }
        }
        let _ = writeln!(
            s,
            "{} passed, {} failed, {} skipped ({} of {} handout checks passed) in {:.1} s",
            self.count(Verdict::Pass, None),
            self.count(Verdict::Fail, None),
            self.count(Verdict::Skip, None),
            self.count(Verdict::Pass, Some(Tag::Handout)),
            self.steps.iter().filter(|s| s.tag == Tag::Handout).count(),
            self.secs
        );
        if let Some(p) = &self.pcap {
            let _ = writeln!(s, "capture kept: {p} (labtrace {p})");
        }
        s
    }

    /// One JSON object (with a newline).
    pub fn json(&self) -> String {
        let mut s = String::from("{\"subject\":");
        json_string(&mut s, &self.subject);
        s.push_str(",\"target\":");
        json_string(&mut s, &self.target);
        let _ = write!(
            s,
            ",\"passed\":{},\"secs\":{:.3},\"pcap\":",
            self.passed(),
            self.secs
        );
        match &self.pcap {
            Some(p) => json_string(&mut s, p),
            None => s.push_str("null"),
        }
        s.push_str(",\"notes\":");
        json_list(&mut s, &self.notes);
        s.push_str(",\"steps\":[");
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{{\"number\":{},\"name\":", step.number);
            json_string(&mut s, &step.name);
            let _ = write!(
                s,
                ",\"tag\":\"{}\",\"verdict\":\"{}\",\"title\":",
                step.tag.name(),
                step.verdict.name()
            );
            json_string(&mut s, &step.title);
            s.push_str(",\"note\":");
            json_string(&mut s, &step.note);
            let f = step.failure.clone().unwrap_or_default();
            for (key, value) in [("expected", &f.expected), ("got", &f.got), ("why", &f.why)] {
                let _ = write!(s, ",\"{key}\":");
                json_string(&mut s, value);
            }
            s.push_str(",\"transcript\":");
            json_list(&mut s, &step.transcript);
            s.push_str(",\"segments\":");
            json_list(&mut s, &step.segments);
            let _ = write!(s, ",\"secs\":{:.3}}}", step.secs);
        }
        s.push_str("]}\n");
        s
    }

    /// A JUnit XML document: one test suite, one test case per step.
    pub fn junit(&self) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuite name=\"labcheck {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            xml(&self.subject),
            self.steps.len(),
            self.count(Verdict::Fail, None),
            self.count(Verdict::Skip, None),
            self.secs
        );
        for step in &self.steps {
            let _ = write!(
                s,
                "  <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\">",
                xml(&self.subject),
                step.tag.name(),
                xml(&step.name),
                step.secs
            );
            match (&step.verdict, &step.failure) {
                (Verdict::Fail, Some(f)) => {
                    let _ = write!(
                        s,
                        "<failure message=\"{}\">expected: {}\ngot: {}\n{}</failure>",
                        xml(&f.why),
                        xml(&f.expected),
                        xml(&f.got),
                        xml(&step.transcript.join("\n"))
                    );
                }
                (Verdict::Skip, _) => {
                    let _ = write!(s, "<skipped message=\"{}\"/>", xml(&step.note));
                }
                _ => {}
            }
            s.push_str("</testcase>\n");
        }
        s.push_str("</testsuite>\n");
        s
    }
}

fn json_list(s: &mut String, items: &[String]) {
    s.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        json_string(s, item);
    }
    s.push(']');
}

/// Escapes text for an XML attribute or element; drops characters XML 1.0 cannot hold.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Bytes as a student reads them: the text in quotes (escaped by [`unp::printable`]) and
/// the hex, both cut after 64 bytes: `"Full" (46 75 6c 6c)`.
pub fn shown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (0 bytes)".to_string();
    }
    format!(
        "\"{}\" ({})",
        unp::printable(&bytes[..bytes.len().min(64)]),
        hex(bytes)
    )
}

/// Bytes in hex, `4e 65 77`, cut after 64 bytes with the full length added.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().take(64).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    if bytes.len() > 64 {
        let _ = write!(s, " … ({} bytes)", bytes.len());
    }
    s
}

/// What came, for a report: the bytes, and how the connection ended if it did.
pub fn came(bytes: &[u8], end: super::wire::End) -> String {
    match end {
        super::wire::End::Open => shown(bytes),
        e => format!("{} {}", shown(bytes), e.describe()),
    }
}
