//! keepalived's `net_namespace` in the running daemon: `main` enters the namespace before the
//! daemon starts (`net::netns`); here, the decisions the daemon makes about it afterwards.

/// keepalived cannot move a running daemon to another namespace: a reload that adds, removes
/// or changes `net_namespace` is refused whole ("Cannot change network namespace at a reload
/// - please restart keepalived") and the previous configuration runs on. vigil does the same.
pub fn reload_change(running: Option<&str>, new: Option<&str>) -> Result<(), String> {
    if running == new {
        return Ok(());
    }
    let show = |n: Option<&str>| n.map_or_else(|| "none".to_owned(), |n| format!("{n:?}"));
    Err(format!(
        "net_namespace cannot change at a reload (running in {}, the file now says {}): restart vigil to move it, as keepalived must be restarted",
        show(running),
        show(new)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_keeps_the_namespace_or_is_refused() {
        assert_eq!(reload_change(None, None), Ok(()));
        assert_eq!(reload_change(Some("blue"), Some("blue")), Ok(()));
        for (running, new) in [
            (Some("blue"), Some("red")),
            (Some("blue"), None),
            (None, Some("red")),
        ] {
            let e = reload_change(running, new).expect_err("refused");
            assert!(e.contains("restart vigil"), "{e}");
        }
        let e = reload_change(Some("blue"), None).expect_err("refused");
        assert!(
            e.contains("running in \"blue\", the file now says none"),
            "{e}"
        );
    }
}
