//! The `dmap` command.

fn main() {
    std::process::exit(coordinator::cli::main());
}
