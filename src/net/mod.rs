//! Linux IO adapters: raw VRRP sockets, rtnetlink addresses and links, GARP/NA sending.
