//! What /proc says about a server's children (zombies).

/// Linux: the process ids of `parent`'s children that are zombies (state `Z`).
#[cfg(target_os = "linux")]
pub fn zombie_children(parent: u32) -> Vec<u32> {
    children_with_state(parent)
        .into_iter()
        .filter(|&(_, state)| state == 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Linux: every child of `parent` with its state letter from `/proc/PID/stat`. labcheck
/// has the same walk (`labs::labcheck::proc::children_states`): labs is a normal crate
/// and may not depend on this dev-only one, and depending on labs here would build all
/// of labs for every crate's tests.
#[cfg(target_os = "linux")]
pub fn children_with_state(parent: u32) -> Vec<(u32, char)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Format: pid (comm) state ppid ...; comm may contain spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next());
        let ppid = fields.next().and_then(|s| s.parse::<u32>().ok());
        if let (Some(state), Some(ppid)) = (state, ppid) {
            if ppid == parent {
                found.push((pid, state));
            }
        }
    }
    found
}
