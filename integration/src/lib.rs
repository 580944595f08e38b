//! A network-namespace lab for vigil's integration tests (filled in by the daemon issue).
