//! Where a report comes from: the git commit of the source tree kiln was built from and the name
//! of the machine it ran on.

use std::process::Command;

/// `git rev-parse HEAD` of the source tree kiln was built from, read when called, with `-dirty`
/// appended when tracked files differ from it. Without git or the tree, the `KILN_GIT_COMMIT`
/// variable set when kiln was built, else `unknown`.
pub fn git_commit() -> String {
    let source = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(source)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) if !commit.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        _ => option_env!("KILN_GIT_COMMIT").unwrap_or("unknown").into(),
    }
}

/// The host name (`/proc/sys/kernel/hostname`, `/etc/hostname` or `HOSTNAME`), or `unknown`.
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_is_a_hash_or_unknown() {
        let commit = git_commit();
        let hash = commit.trim_end_matches("-dirty");
        assert!(
            commit == "unknown"
                || (hash.len() == 40 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
    }
}
