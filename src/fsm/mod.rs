//! The RFC 5798 / RFC 9568 state machine, pure: events in, actions out, no IO and no clock.
