//! The starter project's Cargo.toml: the crate's own dependencies with the workspace's
//! versions and features written out, `unp` (and any path dependency) by absolute path.

use std::path::Path;

use unp::{Error, Result};

use super::starter::Program;

/// The `[section]`'s `name = spec` lines of a Cargo.toml, comments dropped.
fn section(toml: &str, name: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == format!("[{name}]");
            continue;
        }
        if !inside || l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// Where the key `features` starts (not `default-features`).
fn features_key(spec: &str) -> Option<usize> {
    spec.match_indices("features")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || matches!(spec.as_bytes()[i - 1], b' ' | b'{' | b','))
}

/// The strings of a `features = [...]` inside an inline table.
fn features(spec: &str) -> Vec<String> {
    let Some(start) = features_key(spec) else {
        return Vec::new();
    };
    let Some(open) = spec[start..].find('[').map(|i| start + i) else {
        return Vec::new();
    };
    let Some(close) = spec[open..].find(']').map(|i| open + i) else {
        return Vec::new();
    };
    spec[open + 1..close]
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// The inline table's keys other than `workspace` and `features`, paths made absolute
/// from `base`.
fn keys(spec: &str, base: &Path) -> Vec<String> {
    let inner = spec.trim().trim_start_matches('{').trim_end_matches('}');
    let without = match features_key(inner) {
        Some(at) => {
            let end = inner[at..].find(']').map_or(inner.len(), |i| at + i + 1);
            format!("{}{}", &inner[..at], &inner[end..])
        }
        None => inner.to_string(),
    };
    without
        .split(',')
        .map(str::trim)
        .filter(|kv| !kv.is_empty() && !kv.starts_with("workspace"))
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if k.trim() == "path" => format!(
                "path = {:?}",
                base.join(v.trim().trim_matches('"')).display().to_string()
            ),
            _ => kv.to_string(),
        })
        .collect()
}

/// The starter project's Cargo.toml for `p`.
pub fn manifest(p: &Program, from: &Path) -> Result<String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::os("read", e).with_detail(path.display().to_string()))
    };
    let root = read(&from.join("Cargo.toml"))?;
    let own = read(&from.join(p.krate).join("Cargo.toml"))?;
    let ws = section(&root, "workspace.dependencies");
    let edition = section(&root, "workspace.package")
        .into_iter()
        .find(|(k, _)| k == "edition")
        .map_or("\"2024\"".to_string(), |(_, v)| v);
    let mut deps = String::new();
    for (name, spec) in section(&own, "dependencies") {
        let (name, spec) = match name.strip_suffix(".workspace") {
            Some(n) => (n.to_string(), "{ workspace = true }".to_string()),
            None => (name, spec),
        };
        let (mut entries, mut feats) = if spec.contains("workspace") {
            let (_, wspec) = ws
                .iter()
                .find(|(k, _)| *k == name)
                .ok_or_else(|| Error::msg(format!("{name}: not in [workspace.dependencies]")))?;
            let wspec = if wspec.starts_with('"') {
                format!("{{ version = {wspec} }}")
            } else {
                wspec.clone()
            };
            (keys(&wspec, from), features(&wspec))
        } else {
            let spec = if spec.starts_with('"') {
                format!("{{ version = {spec} }}")
            } else {
                spec.clone()
            };
            (keys(&spec, &from.join(p.krate)), Vec::new())
        };
        for f in features(&spec) {
            if !feats.contains(&f) {
                feats.push(f);
            }
        }
        if !feats.is_empty() {
            let list: Vec<String> = feats.iter().map(|f| format!("{f:?}")).collect();
            entries.push(format!("features = [{}]", list.join(", ")));
        }
        deps.push_str(&format!("{name} = {{ {} }}\n", entries.join(", ")));
    }
    Ok(format!(
        "# Made by `labcheck starter {name}` from the unplab sources in {from}.\n[package]\nname = \"{name}-starter\"\nversion = \"0.1.0\"\nedition = {edition}\npublish = false\n\n[lib]\nname = \"{krate}\"\npath = \"src/lib.rs\"\n\n[[bin]]\nname = \"{name}\"\npath = \"src/bin/{name}.rs\"\n\n[dependencies]\n{deps}\n# A project of its own, not a member of the workspace it was made from.\n[workspace]\n",
        name = p.name,
        from = from.display(),
        krate = p.krate,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_dependencies_are_written_out() {
        let spec = "{ version = \"0.31\", default-features = false, features = [\"fs\"] }";
        assert_eq!(features(spec), vec!["fs"]);
        assert_eq!(
            keys(spec, Path::new("/w")),
            vec!["version = \"0.31\"", "default-features = false"]
        );
        assert_eq!(
            keys("{ path = \"lib\" }", Path::new("/w")),
            vec!["path = \"/w/lib\""]
        );
    }
}
