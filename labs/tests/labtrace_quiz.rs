//! `labtrace --quiz` and `--answers` on the TCP captures in docs/captures/: the quiz has a
//! blank row for every row of the text view's tables; the text view's own numbers,
//! written into the quiz, are all marked right; wrong cells are marked with the rule;
//! a file that cannot be read as answers gets a clear message.

use std::path::{Path, PathBuf};

mod support;
use support::labtrace;

fn capture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/captures")
        .join(name);
    path.to_str().expect("UTF-8 path").to_string()
}

fn captures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/captures");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("docs/captures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        // The UDP captures (Lab 4) have no bookkeeping tables to fill in.
        .filter(|n| n.ends_with(".pcap") && !n.starts_with("udp"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "docs/captures/ holds the lab's captures");
    names.iter().map(|n| capture(n)).collect()
}

/// Writes `content` to `name` in a scratch directory, removed when the returned guard is
/// dropped.
fn write(name: &str, content: &[u8]) -> (testkit::TempDir, PathBuf) {
    let dir = testkit::TempDir::new("labtrace-quiz");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write answers");
    (dir, path)
}

/// The text view's table rows: (label, the four numbers).
fn table_rows(text: &str) -> Vec<(String, [String; 4])> {
    text.lines()
        .filter(|l| l.starts_with("        #"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let n = words.len();
            let cells = [0, 1, 2, 3].map(|i| words[n - 4 + i].to_string());
            (words[..n - 4].join(" "), cells)
        })
        .collect()
}

/// The quiz with each `?` row filled in by `fill(label)`.
fn filled(quiz: &str, fill: impl Fn(&str) -> Option<String>) -> String {
    quiz.lines()
        .map(|l| {
            let label = l.strip_prefix("| #").and_then(|r| r.split(" |").next());
            match label.and_then(|lab| fill(&format!("#{}", lab.trim_end()))) {
                Some(row) => row,
                None => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The quiz of `cap` with the text view's own numbers written in.
fn right_answers(cap: &str) -> (String, usize) {
    let (code, text, err) = labtrace(&[cap]);
    assert_eq!(code, 0, "{err}");
    let rows = table_rows(&text);
    let (code, quiz, err) = labtrace(&[cap, "--quiz"]);
    assert_eq!(code, 0, "{err}");
    let blanks = quiz.lines().filter(|l| l.starts_with("| #")).count();
    assert_eq!(blanks, rows.len(), "a blank row per table row:\n{quiz}");
    let answers = filled(&quiz, |label| {
        let (_, cells) = rows.iter().find(|(l, _)| l == label)?;
        Some(format!("| {label} | {} |", cells.join(" | ")))
    });
    (answers, rows.len())
}

#[test]
fn the_quiz_blanks_every_table_row_and_says_how_to_mark_it() {
    let cap = capture("lottery-seed7.pcap");
    let (code, quiz, err) = labtrace(&[&cap, "--quiz"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        quiz.starts_with(&format!("# Bookkeeping quiz: {cap}\n")),
        "{quiz}"
    );
    assert!(quiz.contains(&format!("    labtrace {cap} --answers YOUR_FILE\n")));
    assert!(quiz.contains("the last segment that side sent"), "the rule");
    let first = "\
| data exchange            | Server Seq | Server Ack | Client Seq | Client Ack |
|--------------------------|-----------:|-----------:|-----------:|-----------:|
| #4 C→S [P.] len 4        |          ? |          ? |          ? |          ? |
| #5 S→C [.] len 0         |          ? |          ? |          ? |          ? |
| #6 S→C [P.] len 24       |          ? |          ? |          ? |          ? |
| #7 C→S [.] len 0         |          ? |          ? |          ? |          ? |

```text
     8   2.002048  C→S  [P.]        5     25    65536     4  data            GEN
";
    assert!(quiz.contains(first), "{quiz}");
    // Code blocks open and close in pairs, so the Markdown renders.
    assert_eq!(
        quiz.matches("```text\n").count(),
        quiz.matches("```\n").count()
    );
    // The quiz's cells are all `?`, none filled: an unfilled quiz scores nothing.
    let (_dir, path) = write("blank.md", quiz.as_bytes());
    let (code, out, err) = labtrace(&[&cap, "--answers", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with("score: 0 of 56 right, 0 wrong, 56 not answered\n"),
        "{out}"
    );
    // With --port, the command that marks it keeps the filter.
    let (_, quiz, _) = labtrace(&[&cap, "--quiz", "--port", "10000"]);
    assert!(quiz.contains("--port 10000 --answers YOUR_FILE"), "{quiz}");
}

#[test]
fn the_text_views_numbers_are_all_right_on_every_committed_capture() {
    for cap in captures() {
        let (answers, rows) = right_answers(&cap);
        let (_dir, path) = write("right.md", answers.as_bytes());
        let (code, out, err) = labtrace(&[&cap, "--answers", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{cap}: {err}");
        let cells = rows * 4;
        let score = format!("score: {cells} of {cells} right, 0 wrong, 0 not answered\n");
        assert!(out.ends_with(&score), "{cap}:\n{out}");
        assert_eq!(out.matches(" ✓").count(), cells, "{cap}:\n{out}");
        assert!(!out.contains('✗') && !out.contains("not marked"), "{out}");
        // The marked view is the text view with marks in its tables.
        let (_, text, _) = labtrace(&[&cap]);
        let segment_lines = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| !l.starts_with("        #"))
                .map(str::to_string)
                .collect()
        };
        let mut marked = segment_lines(&out);
        assert_eq!(marked.pop().as_deref(), Some(score.trim_end()));
        assert_eq!(marked, segment_lines(&text), "{cap}");
    }
}

#[test]
fn wrong_cells_are_marked_with_the_rule_applied() {
    let cap = capture("lottery-seed7.pcap");
    let (answers, _) = right_answers(&cap);
    let wrong = filled(&answers, |label| match label {
        // The server's SYN/ACK is its last segment: Seq 0 is the SYN's own field.
        "#4 C→S [P.] len 4" => Some("| #4 C→S [P.] len 4 | 0 | 1 | 5 | 1 |".into()),
        // A blank, and the client's Ack taken from the server's segment.
        "#5 S→C [.] len 0" => Some("|#5 S→C [.] len 0| ? |5| 1 | 5".into()),
        "#7 C→S [.] len 0" => Some("| #7 C→S [.] len 0 | 1 | 5 | 5 | 24 |".into()),
        // The next Seq instead of the one sent (the handout's own slip).
        "#15 C→S [F.] len 0" => Some("| #15 C→S [F.] len 0 | 48 | 13 | 18 | 69 |".into()),
        _ => None,
    });
    let (_dir, path) = write("wrong.md", wrong.as_bytes());
    let (code, out, err) = labtrace(&[&cap, "--answers", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let want_first = "
        data exchange            Server Seq Server Ack Client Seq Client Ack
        #4 C→S [P.] len 4               0 ✗        1 ✓        5 ✗        1 ✓
          ↳ Server Seq is 1, not 0. The rule: a side's Seq and Ack are those of the last segment it sent, and the server's last segment so far is #2 ([S.] seq=0 ack=1): a SYN uses up Seq 0, so it counts as Seq 1
          ↳ Client Seq is 1, not 5. The rule: a side's Seq and Ack are those of the last segment it sent, and the client's last segment so far is #4 itself ([P.] seq=1 ack=1): 5 is the Seq it will send next, not one it has sent
        #5 S→C [.] len 0                  ?        5 ✓        1 ✓        5 ✗
          ↳ Client Ack is 1, not 5. The rule: a side's Seq and Ack are those of the last segment it sent, and the client's last segment so far is #4 ([P.] seq=1 ack=1)
        #6 S→C [P.] len 24              1 ✓        5 ✓        1 ✓        1 ✓
        #7 C→S [.] len 0                1 ✓        5 ✓        5 ✓       24 ✗
          ↳ Client Ack is 25, not 24. The rule: a side's Seq and Ack are those of the last segment it sent, and the client's last segment so far is #7 itself ([.] seq=5 ack=25)
     8   2.002048  C→S  [P.]        5     25    65536     4  data            GEN
";
    assert!(out.contains(want_first), "{out}");
    let want_close = "
        close                    Server Seq Server Ack Client Seq Client Ack
        #15 C→S [F.] len 0             48 ✓       13 ✓       18 ✗       69 ✓
          ↳ Client Seq is 17, not 18. The rule: a side's Seq and Ack are those of the last segment it sent, and the client's last segment so far is #15 itself ([F.] seq=17 ack=69): 18 is the Seq it will send next, not one it has sent
        #16 S→C [F.] len 0             69 ✓       18 ✓       17 ✓       69 ✓
";
    assert!(out.contains(want_close), "{out}");
    assert!(
        out.ends_with("score: 50 of 56 right, 5 wrong, 1 not answered\n"),
        "{out}"
    );
}

#[test]
fn a_file_that_is_not_answers_gets_a_clear_message() {
    let cap = capture("lottery-seed7.pcap");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "notes.md",
            b"my notes\n| not | a | row |\n",
            "labtrace: NAME cannot be marked:\n  NAME:2: a table row starts with its segment, like `| #4 C→S [P.] len 4 |`; this one starts with `not`\n",
        ),
        (
            "empty.md",
            b"nothing here\n",
            "labtrace: NAME cannot be marked:\n  no answer rows (lines like `| #4 C→S [P.] len 4 | 1 | 1 | 1 | 1 |`); `labtrace CAPTURE --quiz > FILE` writes the quiz to fill in\n",
        ),
        (
            "binary.md",
            b"\xff\xfe\x00",
            "labtrace: NAME is not a text file (not UTF-8): give the quiz file that `labtrace CAPTURE --quiz` wrote, with your numbers in it\n",
        ),
    ];
    for (name, content, want) in cases {
        let (_dir, path) = write(name, content);
        let shown = path.to_str().unwrap();
        let (code, out, err) = labtrace(&[&cap, "--answers", shown]);
        assert_eq!(code, 1, "{name}: {err}");
        assert_eq!(out, "", "nothing printed before the answers are read");
        assert_eq!(err, want.replace("NAME", shown), "{name}");
    }
    // Every bad line is listed at once, each with its line number.
    let bad = "| #4 C→S [P.] len 4 | 1 | x1 | 1 | 1 |\n\
               | #5 S→C [.] len 0 | 1 | 5 | 1 |\n\
               | #6 S→C [P.] len 24 | 1 | 5 | 1 | 1 |\n\
               | #6 S→C [P.] len 24 | 1 | 5 | 1 | 1 |\n\
               | #7 C→S [.] len 0 | \x1b[31m | 5 | 5 | 25 |\n";
    let (_dir, path) = write("bad.md", bad.as_bytes());
    let shown = path.to_str().unwrap();
    let (code, _, err) = labtrace(&[&cap, "--answers", shown]);
    assert_eq!(code, 1);
    let want = format!(
        "labtrace: {shown} cannot be marked:
  {shown}:1: row #4, Server Ack: `x1` is not a number (write a number from 0 to 4294967295, or leave `?` for no answer)
  {shown}:2: row #5 has 4 cells; it needs 5: the segment, then Server Seq, Server Ack, Client Seq, Client Ack
  {shown}:4: segment #6 is answered twice (first on line 3)
  {shown}:5: row #7, Server Seq: `\\x1b[31m` is not a number (write a number from 0 to 4294967295, or leave `?` for no answer)
"
    );
    assert_eq!(err, want);
    let (code, _, err) = labtrace(&[&cap, "--answers", "/nonexistent/answers.md"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/nonexistent/answers.md") && err.contains("ENOENT"),
        "{err}"
    );
}

#[test]
fn another_captures_quiz_is_not_marked_and_says_why() {
    let (answers, _) = right_answers(&capture("ft-temp1.pcap"));
    let (_dir, path) = write("ft.md", answers.as_bytes());
    let shown = path.to_str().unwrap();
    let cap = capture("lottery-seed7.pcap");
    let (code, out, err) = labtrace(&[&cap, "--answers", shown]);
    assert_eq!(code, 0, "{err}");
    let quiz_of = capture("ft-temp1.pcap");
    assert_eq!(
        err,
        format!("labtrace: warning: {shown} is the quiz of {quiz_of}, not of {cap}\n")
    );
    // A row whose segment differs is not marked; the same frame number with the same
    // segment (#5 S→C [.] len 0 in both) cannot be told apart and is.
    let line = |frame: &str| {
        answers
            .lines()
            .position(|l| l.starts_with(&format!("| #{frame} ")))
            .map_or(0, |i| i + 1)
    };
    let want = format!(
        "        #4 C→S [P.] len 4        (line {} says `#4 C→S [P.] len 5`: the quiz of another capture? not marked)\n",
        line("4")
    );
    assert!(out.contains(&want), "{out}");
    assert!(out.contains(&format!(
        "        #11 C→S [P.] len 4       (no row #11 in {shown})\n"
    )));
    assert!(out.ends_with(&format!(
        "score: 4 of 56 right, 4 wrong, 48 not answered (7 rows missing from {shown})\n"
    )));
}

#[test]
fn quiz_and_answers_refuse_the_other_views() {
    let cap = capture("lottery-seed7.pcap");
    for args in [
        vec!["--quiz", "--format", "json"],
        vec!["--quiz", "--ladder"],
        vec!["--quiz", "--rtt"],
        vec!["--quiz", "--answers", "x.md"],
        vec!["--answers", "x.md", "--format", "json"],
        vec!["--answers", "x.md", "--ladder"],
    ] {
        let mut all = vec![cap.as_str()];
        all.extend(&args);
        let (code, out, err) = labtrace(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(err.contains("cannot be used with"), "{args:?}: {err}");
    }
}
