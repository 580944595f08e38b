//! systemd `Type=notify`: READY=1 once every instance is running, STATUS= lines with a
//! summary, STOPPING=1 at shutdown. Without NOTIFY_SOCKET these are no-ops.

use sd_notify::NotifyState;

pub fn ready(summary: &str) {
    let _ = sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(summary)]);
}

pub fn status(summary: &str) {
    let _ = sd_notify::notify(&[NotifyState::Status(summary)]);
}

pub fn reloading() {
    let _ = sd_notify::notify(&[NotifyState::Reloading]);
}

pub fn stopping() {
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
}
