//! Notify scripts and the notify fifo, with keepalived's argument convention.
