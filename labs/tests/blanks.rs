//! The fill-in tables of `docs/lab3.md` against the blank markers in the sources.
//!
//! The handout's numbered blanks are marked in the reference programs by a comment line
//! of its own, directly above the statement that fills the blank, starting with the
//! blank's glyph: `// ① socket(): create the listening socket`. Each row of a fill-in
//! table in `docs/lab3.md` starts with one glyph and names, in its third column, where
//! unplab fills that blank: `` `FILE` `FUNCTION` `` (the file from the repository's top
//! directory, then the function). This test holds the two together:
//!
//! - every row's FILE exists, holds `fn FUNCTION`, and that function's body holds the
//!   row's marker line;
//! - every marker line in the workspace's sources (outside `target/`, `tests/` and
//!   `labs/fuzz`) has exactly one row, and every blank of the handout is marked exactly
//!   once.
//!
//! So the tables cannot name code that no longer exists, and a blank cannot move
//! without its row moving too.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The blanks' glyphs, in the handout's numbering: LotteryServer ①–⑥, LotteryClient
/// ⑦–⑩, FTServer ㉑–㉗, FTClient ㉞–㊳.
const BLANKS: &str = "①②③④⑤⑥⑦⑧⑨⑩㉑㉒㉓㉔㉕㉖㉗㉞㉟㊱㊲㊳";

/// The UDP blanks of Lab 4 (`docs/lab4-udp.md`): the echo server's ㊴–㊷, the client's ㊸–㊺.
const UDP_BLANKS: &str = "㊴㊵㊶㊷㊸㊹㊺";

fn is_blank(c: char) -> bool {
    BLANKS.contains(c) || UDP_BLANKS.contains(c)
}

/// One row of a fill-in table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// 1-based line in the document.
    line: usize,
    glyph: char,
    file: String,
    function: String,
}

/// The cells of a Markdown table row, split on `|` outside code spans (and not `\|`).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_code = false;
    let mut chars = line.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                cur.push(c);
            }
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' if !in_code => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    // A row starts and ends with `|`: drop the empty text outside them.
    if out.first().is_some_and(|c| c.trim().is_empty()) {
        out.remove(0);
    }
    if out.last().is_some_and(|c| c.trim().is_empty()) {
        out.pop();
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The texts of the code spans in `cell`, in order.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The rows of `doc` whose first cell starts with a blank's glyph, and the problems of
/// rows that do but do not follow the format.
fn parse_rows(doc_name: &str, doc: &str) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in doc.lines().enumerate() {
        if !line.trim_start().starts_with('|') {
            continue;
        }
        let cells = cells(line);
        let Some(glyph) = cells
            .first()
            .and_then(|c| c.chars().next())
            .filter(|&c| is_blank(c))
        else {
            continue;
        };
        let place = format!("{doc_name}:{}: row {glyph}", i + 1);
        let glyphs: String = cells[0].chars().filter(|&c| is_blank(c)).collect();
        if glyphs.chars().count() > 1 {
            problems.push(format!(
                "{place}: one glyph per row, but its first cell names {glyphs}"
            ));
            continue;
        }
        let spans = cells.get(2).map(|c| code_spans(c)).unwrap_or_default();
        match spans[..] {
            [file, function, ..] if file.ends_with(".rs") && is_identifier(function) => {
                rows.push(Row {
                    line: i + 1,
                    glyph,
                    file: file.to_string(),
                    function: function.to_string(),
                });
            }
            _ => problems.push(format!(
                "{place}: its third column must name where the blank is filled as \
                 `FILE` `FUNCTION` (e.g. `lottery/src/server.rs` `serve`), not {:?}",
                cells.get(2).map(String::as_str).unwrap_or("")
            )),
        }
    }
    (rows, problems)
}

/// For each byte of `src`, whether it is code (not inside a comment, a string or a
/// character literal). Good enough for this workspace's sources: line and nested block
/// comments, strings with escapes, raw strings, byte strings, char literals, lifetimes.
fn code_mask(src: &str) -> Vec<bool> {
    let b = src.as_bytes();
    let mut mask = vec![true; b.len()];
    let mut i = 0;
    let hide = |mask: &mut Vec<bool>, from: usize, to: usize| {
        for m in &mut mask[from..to.min(b.len())] {
            *m = false;
        }
    };
    while i < b.len() {
        let start = i;
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            hide(&mut mask, start, i);
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            hide(&mut mask, start, i);
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r"..." or r#"..."# (also br...): ends at a quote followed by the hashes.
            i = b[i..]
                .iter()
                .position(|&c| c == b'"')
                .map_or(b.len(), |p| i + p + 1);
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            hide(&mut mask, start, i);
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            hide(&mut mask, start, i);
        } else if b[i] == b'\'' {
            // A char literal ('{', '\'', '\u{7d}') or a lifetime ('a, 'static).
            if b.get(i + 1) == Some(&b'\\') {
                i += 3; // the quote, the backslash and the escaped character
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
                hide(&mut mask, start, i);
            } else {
                let len = src[i + 1..].chars().next().map_or(0, char::len_utf8);
                if b.get(i + 1 + len) == Some(&b'\'') {
                    i += len + 2;
                    hide(&mut mask, start, i);
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    mask
}

/// The number of `#` of a raw string starting at `i` (`r"`, `r#"`, `br"`...), if one does.
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None; // the r of an identifier such as `for` or `bar`
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    (b.get(j + hashes) == Some(&b'"')).then_some(hashes)
}

/// The bodies of the functions named `name` in `src`, each as the 1-based lines from its
/// `fn` line to the line of its closing brace. Declarations without a body are skipped.
fn function_bodies(src: &str, name: &str) -> Vec<(usize, usize)> {
    let mask = code_mask(src);
    let b = src.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let line_of = |pos: usize| src[..pos].matches('\n').count() + 1;
    let needle = format!("fn {name}");
    let mut out = Vec::new();
    for (at, _) in src.match_indices(&needle) {
        let end = at + needle.len();
        let whole_word = (at == 0 || !ident(b[at - 1])) && b.get(end).is_none_or(|&c| !ident(c));
        if !mask[at] || !whole_word {
            continue;
        }
        // The body's `{`: the first one at bracket depth 0 after the signature, unless a
        // `;` ends a declaration first (`[u8; 4]` in a signature is at depth 1).
        let mut depth = 0i32;
        let mut open = None;
        for (i, &c) in b.iter().enumerate().skip(end) {
            if !mask[i] {
                continue;
            }
            match c {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    open = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let mut braces = 0i32;
        for (i, &c) in b.iter().enumerate().skip(open) {
            if !mask[i] {
                continue;
            }
            match c {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        out.push((line_of(at), line_of(i)));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// A marker line: a comment line of its own starting with a blank's glyph and a space.
/// `Err` for a line that starts like a marker but has no space after the glyph.
fn marker_of(line: &str) -> Option<Result<char, ()>> {
    let rest = line.trim_start().strip_prefix("// ")?;
    let glyph = rest.chars().next().filter(|&c| is_blank(c))?;
    Some(if rest[glyph.len_utf8()..].starts_with(' ') {
        Ok(glyph)
    } else {
        Err(())
    })
}

/// Checks the rows of `doc` against the sources. `read` gives a file's text by its path
/// from the repository's top directory; `sources` are all the source files to scan for
/// markers; each of `required` must be marked exactly once. Returns the problems.
fn check(
    doc_name: &str,
    doc: &str,
    read: &dyn Fn(&str) -> Option<String>,
    sources: &[(String, String)],
    required: &str,
) -> Vec<String> {
    let (rows, mut problems) = parse_rows(doc_name, doc);
    for row in &rows {
        let place = format!(
            "{doc_name}:{}: row {} names `{}` `{}`",
            row.line, row.glyph, row.file, row.function
        );
        let Some(text) = read(&row.file) else {
            problems.push(format!("{place}, but there is no file {}", row.file));
            continue;
        };
        let bodies = function_bodies(&text, &row.function);
        if bodies.is_empty() {
            problems.push(format!(
                "{place}, but {} holds no `fn {}`",
                row.file, row.function
            ));
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        let marked = bodies.iter().any(|&(from, to)| {
            lines[from - 1..to.min(lines.len())]
                .iter()
                .any(|l| marker_of(l) == Some(Ok(row.glyph)))
        });
        if !marked {
            problems.push(format!(
                "{place}, but `fn {}` in {} holds no marker line `// {} ...`",
                row.function, row.file, row.glyph
            ));
        }
    }
    // Where each glyph is marked in the sources.
    let mut marks: BTreeMap<char, Vec<String>> = BTreeMap::new();
    for (path, text) in sources {
        for (i, line) in text.lines().enumerate() {
            match marker_of(line) {
                Some(Ok(g)) => marks
                    .entry(g)
                    .or_default()
                    .push(format!("{path}:{}", i + 1)),
                Some(Err(())) => problems.push(format!(
                    "{path}:{}: a marker needs a space after its glyph: {:?}",
                    i + 1,
                    line.trim()
                )),
                None => {}
            }
        }
    }
    for glyph in required.chars() {
        let at = marks.get(&glyph).map(Vec::as_slice).unwrap_or_default();
        match at.len() {
            0 => problems.push(format!("blank {glyph} is marked nowhere in the sources")),
            1 => {}
            _ => problems.push(format!(
                "blank {glyph} is marked {} times, at {}: once only",
                at.len(),
                at.join(", ")
            )),
        }
    }
    for (glyph, at) in &marks {
        let n = rows.iter().filter(|r| r.glyph == *glyph).count();
        if n != 1 {
            problems.push(format!(
                "the marker {glyph} at {} has {n} rows in {doc_name}'s tables: it needs exactly one",
                at.join(", ")
            ));
        }
    }
    problems
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("labs/ has a parent")
        .to_path_buf()
}

/// The workspace's `.rs` files outside `target/`, `tests/`, `labs/fuzz` and hidden
/// directories, as (path from the root, text).
fn workspace_sources(root: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                let skipped = name.starts_with('.')
                    || name == "target"
                    || name == "tests"
                    || rel == Path::new("labs/fuzz");
                if !skipped {
                    walk(root, &p, out);
                }
            } else if name.ends_with(".rs") {
                if let Ok(text) = fs::read_to_string(&p) {
                    out.push((rel.display().to_string(), text));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn the_fill_in_tables_of_lab3_name_the_marked_blanks() {
    let root = workspace_root();
    let doc = fs::read_to_string(root.join("docs/lab3.md")).expect("read docs/lab3.md");
    let read = |path: &str| fs::read_to_string(root.join(path)).ok();
    // Lab 3's programs: every crate but the UDP one, whose blanks lab4-udp.md names.
    let sources: Vec<_> = workspace_sources(&root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("udpcliserv/"))
        .collect();
    assert!(
        sources.iter().any(|(p, _)| p == "lottery/src/server.rs"),
        "the scan of {} found no lottery/src/server.rs",
        root.display()
    );
    let problems = check("docs/lab3.md", &doc, &read, &sources, BLANKS);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_fill_in_table_of_lab4_udp_names_the_marked_blanks() {
    let root = workspace_root();
    let doc = fs::read_to_string(root.join("docs/lab4-udp.md")).expect("read docs/lab4-udp.md");
    let read = |path: &str| fs::read_to_string(root.join(path)).ok();
    let sources: Vec<_> = workspace_sources(&root)
        .into_iter()
        .filter(|(p, _)| p.starts_with("udpcliserv/"))
        .collect();
    assert!(
        sources.iter().any(|(p, _)| p == "udpcliserv/src/echo.rs"),
        "the scan of {} found no udpcliserv/src/echo.rs",
        root.display()
    );
    let problems = check("docs/lab4-udp.md", &doc, &read, &sources, UDP_BLANKS);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

// ------------------------------------------------------------ the checker itself

/// A small document and sources for the checker's own tests: blanks ① and ②.
const DOC: &str = "\
| blank | the C call | where unplab fills it | packets |
|---|---|---|---|
| ① `socket()` | `socket(AF_INET, SOCK_STREAM, 0)` | `srv.rs` `serve` | none |
| ② `bind()` | `bind(listenfd, ...)` | `srv.rs` `serve` | none |
";

const SRV: &str = r#"
fn serve(port: u16) -> Result<()> {
    let s = "a } in a string";
    let c = '}';
    // ① socket(): create the listening socket
    let listenfd = unp::socket(&addr)?;
    /* a } in a comment */
    if port == 0 {
        return Ok(());
    }
    // ② bind(): claim the port
    unp::bind(&listenfd, &addr)?;
    Ok(())
}

fn other() {
    // ③ not a blank of this document
}
"#;

fn run(doc: &str, files: &[(&str, &str)], required: &str) -> Vec<String> {
    let map: BTreeMap<String, String> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let sources: Vec<(String, String)> = map.clone().into_iter().collect();
    check(
        "doc.md",
        doc,
        &|p: &str| map.get(p).cloned(),
        &sources,
        required,
    )
}

/// The sources without the line that marks ③ (which `DOC` has no row for).
fn srv() -> String {
    SRV.replace("    // ③ not a blank of this document\n", "")
}

#[test]
fn rows_that_match_the_markers_pass() {
    assert_eq!(run(DOC, &[("srv.rs", &srv())], "①②"), Vec::<String>::new());
}

#[test]
fn a_row_naming_a_function_that_no_longer_exists_fails() {
    let stale = DOC.replace(
        "`srv.rs` `serve` | none |\n| ②",
        "`srv.rs` `fetch_inner` | none |\n| ②",
    );
    let p = run(&stale, &[("srv.rs", &srv())], "①②");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with("doc.md:3: row ① names `srv.rs` `fetch_inner`")
            && p[0].contains("holds no `fn fetch_inner`"),
        "{p:#?}"
    );
}

#[test]
fn a_row_naming_a_missing_file_fails() {
    let p = run(DOC, &[("other.rs", &srv())], "①②");
    assert!(
        p.iter().any(|m| m.contains("there is no file srv.rs")),
        "{p:#?}"
    );
}

#[test]
fn a_missing_marker_fails_both_ways() {
    let unmarked = srv().replace("    // ② bind(): claim the port\n", "");
    let p = run(DOC, &[("srv.rs", &unmarked)], "①②");
    assert!(
        p.iter()
            .any(|m| m.starts_with("doc.md:4: row ②")
                && m.contains("holds no marker line `// ② ...`")),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|m| m == "blank ② is marked nowhere in the sources"),
        "{p:#?}"
    );
}

#[test]
fn a_marker_in_another_function_does_not_count() {
    let moved = srv()
        .replace("    // ② bind(): claim the port\n", "")
        .replace(
            "fn other() {\n",
            "fn other() {\n    // ② bind(): claim the port\n",
        );
    let p = run(DOC, &[("srv.rs", &moved)], "①②");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains("`fn serve` in srv.rs holds no marker line `// ② ...`"),
        "{p:#?}"
    );
}

#[test]
fn a_marker_without_a_row_fails() {
    // SRV marks ③ too, and DOC has no row for it.
    let p = run(DOC, &[("srv.rs", SRV)], "①②");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with("the marker ③ at srv.rs:17 has 0 rows"),
        "{p:#?}"
    );
}

#[test]
fn a_blank_marked_twice_fails() {
    let twice = format!("{}\nfn again() {{\n    // ① socket(): again\n}}\n", srv());
    let p = run(DOC, &[("srv.rs", &twice)], "①②");
    assert!(
        p.iter()
            .any(|m| m.starts_with("blank ① is marked 2 times, at srv.rs:5, srv.rs:")),
        "{p:#?}"
    );
}

#[test]
fn two_rows_for_one_blank_fail() {
    let doubled = format!("{DOC}| ① `socket()` | again | `srv.rs` `serve` | none |\n");
    let p = run(&doubled, &[("srv.rs", &srv())], "①②");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].contains("has 2 rows in doc.md's tables"), "{p:#?}");
}

#[test]
fn rows_must_follow_the_format() {
    let old = "\
| ⑦ `socket()`, ⑧ `connect()` | `socket`, `connect` | `unp::tcp_connect` in `main` | SYN |
| ⑨ `write()` | `write(...)` | `writen` in `run`, `lottery/src/client.rs` | data |
| — `close()` | `close(sockfd)` | dropped | FIN |
";
    let (rows, p) = parse_rows("doc.md", old);
    assert!(rows.is_empty(), "{rows:#?}");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].starts_with("doc.md:1: row ⑦: one glyph per row, but its first cell names ⑦⑧"));
    assert!(p[1].starts_with("doc.md:2: row ⑨: its third column must name"));
}

#[test]
fn a_marker_needs_a_space_after_its_glyph() {
    let tight = srv().replace("// ② bind()", "// ②bind()");
    let p = run(DOC, &[("srv.rs", &tight)], "①②");
    assert!(
        p.iter()
            .any(|m| m.starts_with("srv.rs:11: a marker needs a space")),
        "{p:#?}"
    );
}

#[test]
fn the_parts_of_the_checker() {
    assert_eq!(
        cells("| ① `a | b` | x \\| y | `f.rs` `g` |"),
        vec!["① `a | b`", "x | y", "`f.rs` `g`"]
    );
    assert_eq!(
        code_spans("`lottery/src/server.rs` `serve`"),
        vec!["lottery/src/server.rs", "serve"]
    );
    // Braces in strings, raw strings, chars and comments do not end the body; lifetimes
    // are not char literals; a declaration without a body is skipped.
    let src = "trait T { fn f(&self, b: [u8; 4]); }\n\
               fn f<'a>(x: &'a str) -> &'a str {\n\
               let r = r#\"}\"#; let q = '\\''; /* } /* } */ } */\n\
               // }\n\
               x\n\
               }\n\
               fn g() {}\n";
    assert_eq!(function_bodies(src, "f"), vec![(2, 6)]);
    assert_eq!(function_bodies(src, "g"), vec![(7, 7)]);
    assert!(function_bodies("fn fetch() {}", "fetch_inner").is_empty());
    assert!(function_bodies("fn fetch_inner() {}", "fetch").is_empty());
    assert!(function_bodies("// fn f() {}\n", "f").is_empty());
    assert_eq!(
        marker_of("    // ④ accept(): take a connection"),
        Some(Ok('④'))
    );
    assert_eq!(marker_of("    //! ④ accept()"), None);
    assert_eq!(marker_of("    /// ④ accept()"), None);
    assert_eq!(marker_of("    let x = 1; // ④ accept()"), None);
    assert_eq!(marker_of("    // ⑪ not a blank"), None);
}
