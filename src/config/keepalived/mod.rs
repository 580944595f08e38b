//! keepalived.conf: a lexer (includes, parameters, conditionals), a block parser, and the
//! mapping of keepalived's VRRP keywords onto the model.

pub mod lexer;
pub mod parser;
