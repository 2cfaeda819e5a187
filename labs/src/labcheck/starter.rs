//! Starter code: a standalone Cargo project for one lab program, made from the reference
//! sources, in which each marked blank (a comment line `// ① ...` directly above ONE
//! statement) is replaced by `todo!("① ...; see docs/lab3.md#...")`, keeping a leading
//! `let PAT[: TYPE] =`. It builds as generated; running it stops at the first blank not
//! filled in, naming it.
//!
//! The project holds a copy of the program's crate sources (its library and its one
//! binary) and depends on `unp` by path, in the unplab workspace it was made from (a
//! student's clone of the course repository has it); the other dependencies are the
//! workspace's, same versions (its Cargo.lock is copied).

use std::path::{Path, PathBuf};

use unp::{Error, Result};

/// A program starter code can be made for.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// The binary's name.
    pub name: &'static str,
    /// The crate's folder in the workspace.
    pub krate: &'static str,
    /// Its blanks, in order.
    pub glyphs: &'static [char],
    /// Where docs/lab3.md explains them.
    pub anchor: &'static str,
}

/// The lab programs with blanks.
pub const PROGRAMS: [Program; 4] = [
    Program {
        name: "lotteryserver",
        krate: "lottery",
        glyphs: &['①', '②', '③', '④', '⑤', '⑥'],
        anchor: "requirement-1-fill-in-the-blanks",
    },
    Program {
        name: "lotteryclient",
        krate: "lottery",
        glyphs: &['⑦', '⑧', '⑨', '⑩'],
        anchor: "requirement-1-fill-in-the-blanks",
    },
    Program {
        name: "ftserver",
        krate: "filetransfer",
        glyphs: &['㉑', '㉒', '㉓', '㉔', '㉕', '㉖', '㉗'],
        anchor: "requirement-1-fill-in-the-blanks-1",
    },
    Program {
        name: "ftclient",
        krate: "filetransfer",
        glyphs: &['㉞', '㉟', '㊱', '㊲', '㊳'],
        anchor: "requirement-1-fill-in-the-blanks-1",
    },
];

/// One blank cut out of a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blank {
    /// Its glyph.
    pub glyph: char,
    /// The statement as the reference source has it (from its indentation to its `;`).
    pub original: String,
    /// What replaces it.
    pub replacement: String,
}

/// The workspace this labcheck was built from.
pub fn default_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the statement starting at `from` ends: just after its `;` at nesting depth 0
/// (strings, characters and comments skipped).
fn statement_end(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (from, 0i32);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => i += text[i..].find('\n')?,
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if b.get(i + 1) == Some(&b'\\') => i += text[i + 2..].find('\'')? + 2,
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b';' if depth == 0 => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The `let PAT[: TYPE] =` that starts a statement, if it is a `let`.
fn let_head(stmt: &str) -> Option<&str> {
    let trimmed = stmt.trim_start();
    if !trimmed.starts_with("let ") {
        return None;
    }
    let b = stmt.as_bytes();
    let mut depth = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b')' | b']' | b'}' | b'>' => depth -= 1,
            b'=' if depth == 0 && b.get(i + 1) != Some(&b'=') && b.get(i + 1) != Some(&b'>') => {
                return Some(&stmt[..=i]);
            }
            _ => {}
        }
    }
    None
}

/// Replaces each statement marked with one of `glyphs` by a `todo!` naming it.
pub fn blank_source(text: &str, glyphs: &[char], anchor: &str) -> Result<(String, Vec<Blank>)> {
    let mut out = String::with_capacity(text.len());
    let mut blanks = Vec::new();
    let mut at = 0;
    while let Some(rel) = text[at..].find("// ") {
        let marker = at + rel;
        let line_start = text[..marker].rfind('\n').map_or(0, |i| i + 1);
        let Some(glyph) = text[marker + 3..]
            .chars()
            .next()
            .filter(|g| glyphs.contains(g))
        else {
            out.push_str(&text[at..marker + 3]);
            at = marker + 3;
            continue;
        };
        if !text[line_start..marker].trim().is_empty() {
            out.push_str(&text[at..marker + 3]);
            at = marker + 3;
            continue;
        }
        let line_end = text[marker..]
            .find('\n')
            .map_or(text.len(), |i| marker + i + 1);
        let hint = text[marker + 3..line_end].trim_end();
        let end = statement_end(text, line_end).ok_or_else(|| {
            Error::msg(format!("blank {glyph}: no statement ends after its marker"))
        })?;
        let original = &text[line_end..end];
        let indent: String = original.chars().take_while(|c| c.is_whitespace()).collect();
        let message = format!("{hint}; see docs/lab3.md#{anchor}")
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('{', "{{")
            .replace('}', "}}");
        let replacement = match let_head(original) {
            Some(head) => format!("{head} todo!(\"{message}\");"),
            None => format!("{indent}todo!(\"{message}\");"),
        };
        out.push_str(&text[at..line_end]);
        out.push_str(&replacement);
        blanks.push(Blank {
            glyph,
            original: original.to_string(),
            replacement,
        });
        at = end;
    }
    out.push_str(&text[at..]);
    Ok((out, blanks))
}

/// Writes the starter project for `program` (taken from the workspace `from`) into `dir`,
/// which must not exist; returns how many blanks it has.
pub fn generate(program: &str, from: &Path, dir: &Path) -> Result<usize> {
    let p = PROGRAMS.iter().find(|p| p.name == program).ok_or_else(|| {
        Error::msg(format!(
            "no starter for {program:?}; one of {}",
            PROGRAMS.map(|p| p.name).join(", ")
        ))
    })?;
    if dir.exists() {
        return Err(Error::msg(format!(
            "{} exists already: give a new directory",
            dir.display()
        )));
    }
    let krate = from.join(p.krate);
    let mut count = 0;
    for file in rust_files(&krate.join("src"))? {
        let rel = file
            .strip_prefix(&krate)
            .map_err(|_| Error::msg("source outside its crate"))?;
        if rel.starts_with("src/bin") && rel != Path::new("src/bin").join(format!("{}.rs", p.name))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(io("read", &file))?;
        let (text, blanks) = blank_source(&text, p.glyphs, p.anchor)?;
        count += blanks.len();
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io("mkdir", parent))?;
        }
        std::fs::write(&to, text).map_err(io("write", &to))?;
    }
    if count != p.glyphs.len() {
        return Err(Error::msg(format!(
            "{}: found {}, the handout has {}",
            p.name,
            crate::plural(count, "blank"),
            p.glyphs.len()
        )));
    }
    let manifest = super::starter_toml::manifest(p, from)?;
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io("write", dir))?;
    let lock = from.join("Cargo.lock");
    if lock.exists() {
        std::fs::copy(&lock, dir.join("Cargo.lock")).map_err(io("copy", &lock))?;
    }
    let glyphs: String = p
        .glyphs
        .iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let readme = format!(
        "# {name}: starter code\n\nFill in the blanks {glyphs}: search for `todo!(` in src/. Each names its blank and points to\nthe handout (docs/lab3.md). `cargo run --bin {name} -- ...` stops at the first blank not filled in.\n\nCheck your program: `labcheck {role} {proto} -- target/debug/{name} ...` (see docs/labcheck.md).\n",
        name = p.name,
        role = if p.name.ends_with("server") {
            "server"
        } else {
            "client"
        },
        proto = if p.krate == "lottery" {
            "lottery"
        } else {
            "ft"
        },
    );
    std::fs::write(dir.join("README.md"), readme).map_err(io("write", dir))?;
    Ok(count)
}

/// An I/O error's context: the call and the path.
fn io(call: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let shown = path.display().to_string();
    move |e| Error::os(call, e).with_detail(shown)
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::os("opendir", e).with_detail(dir.display().to_string()))?;
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
