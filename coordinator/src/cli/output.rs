//! What the commands print on standard output. A reader that goes away (`dmap run … | head`)
//! is not an error of the run: output stops quietly and the exit status is the run's own.
//! Any other write error is reported on standard error.

use std::io::{self, Write};

use serde::Serialize;

/// Prints `value` as pretty JSON and a newline.
pub fn json<T: Serialize>(value: &T) {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    report(written);
}

/// Prints one line.
pub fn line(text: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    report(writeln!(out, "{text}"));
}

fn report(written: io::Result<()>) {
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("dmap: cannot write to standard output: {e}"),
    }
}
