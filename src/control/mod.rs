//! The unix-socket status API and Prometheus metrics.
