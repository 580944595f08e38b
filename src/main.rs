//! vigil's command line. Only argument parsing and error reporting live here.

fn main() {
    println!("vigil {}", env!("CARGO_PKG_VERSION"));
}
