//! Checker tasks: track scripts, interfaces, files and processes.
